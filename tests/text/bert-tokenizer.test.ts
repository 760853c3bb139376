// BertTokenizer against goldens: HF's outputs on all SQuAD v1.1 dev questions (bert-base-uncased), and
// hand-derived expectations for Chinese text with the bert-base-chinese vocabulary. Every Chinese
// expectation below was worked out from HF's rules plus lookups in that vocab.txt (ids noted inline).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BasicTokenizer, BertTokenizer, readVocabTxt } from '../../src/index.js';
import { sharedDataOrSkip } from '../helpers.js';

interface QuestionGolden {
  original: string;
  basic: string[];
  wordpiece: string[];
}

const squadDir = sharedDataOrSkip('bert-uncased-tokenizer-golden-squad');
const uncasedDir = sharedDataOrSkip('bert-base-uncased-vocab');
const chineseDir = sharedDataOrSkip('bert-base-chinese-vocab');

function loadSquad(): { questions: QuestionGolden[]; ids: number[][] } {
  const questions = JSON.parse(readFileSync(join(squadDir!, 'question_tokens.json'), 'utf8')) as QuestionGolden[];
  const ids = JSON.parse(readFileSync(join(squadDir!, 'tokenized_questions.json'), 'utf8')) as number[][];
  return { questions, ids };
}

function firstMismatch(tok: BertTokenizer, questions: QuestionGolden[], ids: number[][], checkBasic: boolean): { count: number; example?: string } {
  let count = 0;
  let example: string | undefined;
  questions.forEach((q, i) => {
    const enc = tok.encode(q.original, { addSpecialTokens: false });
    const basicOk = !checkBasic || JSON.stringify(tok.basicTokenizer!.tokenize(q.original)) === JSON.stringify(q.basic);
    if (!basicOk || JSON.stringify(enc.tokens) !== JSON.stringify(q.wordpiece) || JSON.stringify(enc.inputIds) !== JSON.stringify(ids[i])) {
      count++;
      example ??= `#${i} ${JSON.stringify(q.original)} -> ${JSON.stringify(enc.tokens)}, expected ${JSON.stringify(q.wordpiece)}`;
    }
  });
  return { count, example };
}

test('SQuAD goldens: all 10,570 questions, basic tokens + WordPiece tokens + ids, from vocab.txt', (t) => {
  if (!squadDir || !uncasedDir) return t.skip('../shared/data/bert-uncased-tokenizer-golden-squad or bert-base-uncased-vocab absent');
  const { questions, ids } = loadSquad();
  assert.equal(questions.length, 10570);
  assert.equal(ids.length, 10570);
  const tok = new BertTokenizer(readVocabTxt(join(uncasedDir, 'vocab.txt')));
  assert.equal(tok.engine, 'builtin');
  const { count, example } = firstMismatch(tok, questions, ids, true);
  assert.equal(count, 0, `mismatches: ${count}; first: ${example}`);
});

test('SQuAD goldens through tokenizer.json (@huggingface/tokenizers), with offsets cross-checked against the builtin', (t) => {
  if (!squadDir || !uncasedDir) return t.skip('../shared/data/bert-uncased-tokenizer-golden-squad or bert-base-uncased-vocab absent');
  const { questions, ids } = loadSquad();
  const tok = BertTokenizer.fromPretrained(uncasedDir);
  assert.equal(tok.engine, '@huggingface/tokenizers');
  assert.equal(tok.vocabSize, 30522);
  const { count, example } = firstMismatch(tok, questions, ids, false);
  assert.equal(count, 0, `mismatches: ${count}; first: ${example}`);
  // returnOffsetsMapping makes the engine path compare its tokens with the builtin's (it throws on any difference).
  for (const q of questions) tok.encode(q.original, { returnOffsetsMapping: true });
  const q = questions[0]!.original; // "Which NFL team represented the AFC at Super Bowl 50?"
  const enc = tok.encode(q, { returnOffsetsMapping: true });
  assert.deepEqual(enc.offsets!.slice(0, 3), [[0, 0], [0, 5], [6, 9]]);
  assert.deepEqual(enc.offsets!.map(([s, e]) => q.slice(s, e)).slice(1, -1), ['Which', 'NFL', 'team', 'represented', 'the', 'AFC', 'at', 'Super', 'Bowl', '50', '?']);
});

function chinese(t: { skip(msg: string): void }, options = {}): BertTokenizer | null {
  if (!chineseDir) {
    t.skip('../shared/data/bert-base-chinese-vocab absent');
    return null;
  }
  return new BertTokenizer(readVocabTxt(join(chineseDir, 'vocab.txt')), options);
}

test('Chinese: every CJK ideograph is its own token, full-width punctuation splits off', (t) => {
  const tok = chinese(t);
  if (!tok) return;
  assert.equal(tok.vocabSize, 21128);
  assert.deepEqual(tok.tokenize('我爱北京天安门。'), ['我', '爱', '北', '京', '天', '安', '门', '。']);
  assert.deepEqual(tok.encode('我爱北京天安门。').inputIds, [101, 2769, 4263, 1266, 776, 1921, 2128, 7305, 511, 102]);
  assert.deepEqual(tok.tokenize('深度学习（DL）：《入门》、问答？'), ['深', '度', '学', '习', '（', 'dl', '）', '：', '《', '入', '门', '》', '、', '问', '答', '？']);
  // Whitespace of any kind (tab, newline, ideographic space U+3000) only separates.
  assert.deepEqual(tok.tokenize('北京\t\n\u3000天安门'), ['北', '京', '天', '安', '门']);
});

test('Chinese: mixed with English and digits (greedy longest match in the Chinese vocab)', (t) => {
  const tok = chinese(t);
  if (!tok) return;
  // "2024": no "2024" entry, longest prefix "202" (9707) then "##4" (8159); "7999": "799" (10882) + "##9" (8160);
  // "iPhone" lowercases to "iphone" (8210); "Pro" -> "pro" (8376); "，" (8024) and "！" (8013) are punctuation.
  const text = '我在2024年买了iPhone 15 Pro，价格是7999元！';
  const expected = ['我', '在', '202', '##4', '年', '买', '了', 'iphone', '15', 'pro', '，', '价', '格', '是', '799', '##9', '元', '！'];
  assert.deepEqual(tok.tokenize(text), expected);
  const enc = tok.encode(text, { returnOffsetsMapping: true });
  assert.deepEqual(enc.inputIds.slice(3, 5), [9707, 8159]);
  assert.deepEqual(enc.inputIds.slice(8, 11), [8210, 8115, 8376]);
  assert.deepEqual(enc.offsets!.slice(1, -1).map(([s, e]) => text.slice(s, e)), ['我', '在', '202', '4', '年', '买', '了', 'iPhone', '15', 'Pro', '，', '价', '格', '是', '799', '9', '元', '！']);
  // "hello" is one entry (8701); "zurich": "z" + "##ur" (longest at 1) + "##ich" (longest at 3).
  assert.deepEqual(tok.tokenize('Hello Zürich'), ['hello', 'z', '##ur', '##ich']);
});

test('Chinese vocab: curly quotes are missing from Google\'s vocab, kana and hangul are not CJK-split, full-width letters lowercase', (t) => {
  const tok = chinese(t);
  if (!tok) return;
  assert.deepEqual(tok.tokenize('“你好”'), ['[UNK]', '你', '好', '[UNK]']);
  // Kana go through WordPiece as one word: こ, ##ん, ##に, then the longest at 3 is "##ちは" (12951).
  assert.deepEqual(tok.tokenize('こんにちは'), ['こ', '##ん', '##に', '##ちは']);
  assert.deepEqual(tok.tokenize('ＡＢＣ'), ['ａ', '##ｂ', '##ｃ']);
  assert.deepEqual(tok.tokenize('酷😎'), ['酷', '😎']);
  assert.deepEqual(tok.convertTokensToIds(['酷', '😎']), [6999, 8105]);
});

test('Chinese vocab: accents are stripped when lowercasing; kept accents find no entry', (t) => {
  const tok = chinese(t);
  const kept = chinese(t, { stripAccents: false });
  if (!tok || !kept) return;
  // "café" -> "cafe" (8377); "naïve" -> "naive": "na" (11469) + "##ive" (8857).
  assert.deepEqual(tok.tokenize('Café naïve'), ['cafe', 'na', '##ive']);
  // With strip_accents=False there is no "##é" or "##ï..." entry, so each word is a single [UNK].
  assert.deepEqual(kept.tokenize('Café naïve'), ['[UNK]', '[UNK]']);
});

test('Chinese vocab: words over 100 characters are [UNK]; control characters vanish; astral ideographs get UTF-16 offsets', (t) => {
  const tok = chinese(t);
  if (!tok) return;
  // 100 a's: "aaa" (no "aaaa"), then "##aa" (no "##aaa") 48 times, then "##a".
  assert.deepEqual(tok.tokenize('a'.repeat(100)), ['aaa', ...Array<string>(48).fill('##aa'), '##a']);
  assert.deepEqual(tok.tokenize('a'.repeat(101)), ['[UNK]']);
  assert.deepEqual(tok.tokenize(`北${'京'.repeat(101)}`).length, 102); // ideographs are words of one character
  // Zero-width space (Cf), NUL and U+FFFD are removed before splitting, so "he\u200bllo" is one word.
  assert.deepEqual(tok.tokenize('北\u200b京\u0000\ufffd he\u200bllo'), ['北', '京', 'hello']);
  // U+20000 (CJK extension B, a surrogate pair) is a word on its own and not in the vocab.
  const enc = tok.encode('a\u{20000}b', { addSpecialTokens: false, returnOffsetsMapping: true });
  assert.deepEqual(enc.tokens, ['a', '[UNK]', 'b']);
  assert.deepEqual(enc.offsets, [[0, 1], [1, 3], [3, 4]]);
});

test('BasicTokenizer: HF punctuation (ASCII symbols count, other symbols do not), CJK blocks, strip_accents semantics', () => {
  const basic = new BasicTokenizer();
  assert.deepEqual(basic.tokenize('$5 €5 a^b `x` |y| ~z <w> ¿qué?'), ['$', '5', '€5', 'a', '^', 'b', '`', 'x', '`', '|', 'y', '|', '~', 'z', '<', 'w', '>', '¿', 'que', '?']);
  // Hangul is not CJK-split, and on uncased models NFD accent stripping decomposes it into jamo (a known HF quirk).
  assert.deepEqual(basic.tokenize('ア漢字한국어'), ['ア', '漢', '字', '한국어'.normalize('NFD')]);
  assert.deepEqual(new BasicTokenizer({ stripAccents: false }).tokenize('한국어'), ['한국어']);
  assert.deepEqual(new BasicTokenizer({ tokenizeChineseChars: false }).tokenize('漢字 abc'), ['漢字', 'abc']);
  assert.deepEqual(new BasicTokenizer().tokenize('Café'), ['cafe']);
  assert.deepEqual(new BasicTokenizer({ stripAccents: false }).tokenize('Café'), ['café']);
  assert.deepEqual(new BasicTokenizer({ doLowerCase: false }).tokenize('Café'), ['Café']);
  assert.deepEqual(new BasicTokenizer({ doLowerCase: false, stripAccents: true }).tokenize('Café'), ['Cafe']);
  // NFC (transformers >= 4.27): a decomposed é becomes the precomposed one on a cased tokenizer.
  const nfc = new BasicTokenizer({ doLowerCase: false }).tokenizeAligned('Cafe\u0301!');
  assert.deepEqual(nfc.map((x) => x.text), ['Café', '!']);
  assert.deepEqual([nfc[0]!.starts[3], nfc[0]!.ends[3]], [3, 5]);
  // never_split: kept whole, neither lowercased nor split on punctuation.
  assert.deepEqual(new BasicTokenizer({ neverSplit: ['[FOO]'] }).tokenize('x [FOO] [BAR]'), ['x', '[FOO]', '[', 'bar', ']']);
  // Final sigma is contextual (Python and JS agree): "ΟΔΟΣ" -> "οδος" with ς.
  assert.deepEqual(basic.tokenize('ΟΔΟΣ'), ['\u03bf\u03b4\u03bf\u03c2']);
  // U+2028 splits like whitespace (str.split()), soft hyphen (Cf) is dropped.
  assert.deepEqual(basic.tokenize('a\u2028b co\u00adop'), ['a', 'b', 'coop']);
});
