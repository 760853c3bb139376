// Encoding API on a tiny hand-made vocabulary, so every expected id, type id, mask and offset can be
// checked by hand: pairs, the three truncation strategies, stride windows for QA, padding, decode,
// save/load (including through @huggingface/tokenizers), errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BertTokenizer, BertTokenizerError } from '../../src/index.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', // 0..4
  'the', 'cat', 'sat', 'on', 'mat', // 5..9
  'a', 'dog', '##s', 'run', 'hello', // 10..14
  'world', ',', '!', '.', '?', // 15..19
  'who', 'what', 'cafe', // 20..22
];
const tok = new BertTokenizer(VOCAB);

test('single text: [CLS] ... [SEP], type ids 0, mask 1, offsets into the original text', () => {
  const text = 'The cat sat.';
  const enc = tok.encode(text, { returnOffsetsMapping: true, returnSpecialTokensMask: true });
  assert.deepEqual(enc.tokens, ['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]']);
  assert.deepEqual(enc.inputIds, [2, 5, 6, 7, 18, 3]);
  assert.deepEqual(enc.tokenTypeIds, [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(enc.attentionMask, [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(enc.offsets, [[0, 0], [0, 3], [4, 7], [8, 11], [11, 12], [0, 0]]);
  assert.deepEqual(enc.specialTokensMask, [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(tok.encode(text, { addSpecialTokens: false }).inputIds, [5, 6, 7, 18]);
  assert.equal(enc.overflowing, undefined);
});

test('pair: second segment and its [SEP] get token type 1; offsets index each text separately', () => {
  const enc = tok.encode('Who sat?', 'The dogs run', { returnOffsetsMapping: true });
  assert.deepEqual(enc.tokens, ['[CLS]', 'who', 'sat', '?', '[SEP]', 'the', 'dog', '##s', 'run', '[SEP]']);
  assert.deepEqual(enc.inputIds, [2, 20, 7, 19, 3, 5, 11, 12, 13, 3]);
  assert.deepEqual(enc.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(enc.offsets, [[0, 0], [0, 3], [4, 7], [7, 8], [0, 0], [0, 3], [4, 7], [7, 8], [9, 12], [0, 0]]);
});

test('offsets map lowercased, accent-stripped and decomposed text back to the original characters', () => {
  const text = 'CAFÉ, Cafe\u0301! [MASK]hello';
  const enc = tok.encode(text, { addSpecialTokens: false, returnOffsetsMapping: true });
  assert.deepEqual(enc.tokens, ['cafe', ',', 'cafe', '!', '[MASK]', 'hello']);
  assert.deepEqual(enc.offsets!.map(([s, e]) => text.slice(s, e)), ['CAFÉ', ',', 'Cafe\u0301', '!', '[MASK]', 'hello']);
  // Unknown words are one [UNK] spanning the word.
  const unk = tok.encode('the zebra', { addSpecialTokens: false, returnOffsetsMapping: true });
  assert.deepEqual(unk.tokens, ['the', '[UNK]']);
  assert.deepEqual(unk.offsets, [[0, 3], [4, 9]]);
});

// A = "the cat sat on the mat" (6 tokens), B = "dogs run" (dog ##s run: 3 tokens); with specials 12.
const A = 'the cat sat on the mat';
const B = 'dogs run';

test('truncation longest_first: trim the longer down to the shorter, then alternate', () => {
  // maxLength 10: remove 2, both from A (6 -> 4).
  assert.deepEqual(tok.encode(A, B, { maxLength: 10, truncation: true }).tokens, ['[CLS]', 'the', 'cat', 'sat', 'on', '[SEP]', 'dog', '##s', 'run', '[SEP]']);
  // maxLength 8: remove 4 = 3 from A (down to B's 3) + 1 more, which goes to B (HF: second gets the odd one).
  const enc = tok.encode(A, B, { maxLength: 8, truncation: 'longest_first' });
  assert.deepEqual(enc.tokens, ['[CLS]', 'the', 'cat', 'sat', '[SEP]', 'dog', '##s', '[SEP]']);
  assert.deepEqual(enc.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  // maxLength alone turns longest_first on (HF's default); truncation false keeps everything.
  assert.equal(tok.encode(A, B, { maxLength: 8 }).inputIds.length, 8);
  assert.equal(tok.encode(A, B, { maxLength: 8, truncation: false }).inputIds.length, 12);
  // A single sequence under longest_first is truncated from the right.
  assert.deepEqual(tok.encode(A, { maxLength: 4 }).tokens, ['[CLS]', 'the', 'cat', '[SEP]']);
});

test('truncation only_first / only_second, and their errors', () => {
  assert.deepEqual(tok.encode(A, B, { maxLength: 8, truncation: 'only_first' }).tokens, ['[CLS]', 'the', 'cat', '[SEP]', 'dog', '##s', 'run', '[SEP]']);
  assert.deepEqual(tok.encode(A, B, { maxLength: 10, truncation: 'only_second' }).tokens, ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '[SEP]', 'dog', '[SEP]']);
  assert.throws(() => tok.encode(A, B, { maxLength: 9, truncation: 'only_second' }), /remove 3 tokens .* the second sequence has only 3/);
  assert.throws(() => tok.encode(A, { maxLength: 4, truncation: 'only_second' }), BertTokenizerError);
  assert.throws(() => tok.encode(A, B, { maxLength: 8, returnOverflowingTokens: true }), /only_first' or 'only_second'/);
});

test('QA stride windows (only_second): overlapping context windows, each a full encoding, padded to the longest', () => {
  const question = 'who sat?'; // who sat ? : 3 tokens
  const context = 'the cat sat on the mat. a dog sat.'; // 11 tokens
  const enc = tok.encode(question, context, {
    maxLength: 10, truncation: 'only_second', stride: 2, returnOverflowingTokens: true, returnOffsetsMapping: true, padding: 'longest',
  });
  // Room for 10 - 3 - 3 = 4 context tokens; windows start every 4 - 2 = 2 tokens: [0,4) [2,6) [4,8) [6,10) [8,11).
  const windows = [enc, ...enc.overflowing!].map((e) => e.tokens.slice(5, e.tokens.indexOf('[SEP]', 5)));
  assert.deepEqual(windows, [
    ['the', 'cat', 'sat', 'on'], ['sat', 'on', 'the', 'mat'], ['the', 'mat', '.', 'a'], ['.', 'a', 'dog', 'sat'], ['dog', 'sat', '.'],
  ]);
  for (const e of [enc, ...enc.overflowing!]) {
    assert.deepEqual(e.tokens.slice(0, 5), ['[CLS]', 'who', 'sat', '?', '[SEP]']);
    assert.equal(e.inputIds.length, 10);
  }
  const last = enc.overflowing![3]!;
  assert.deepEqual(last.tokens, ['[CLS]', 'who', 'sat', '?', '[SEP]', 'dog', 'sat', '.', '[SEP]', '[PAD]']);
  assert.deepEqual(last.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
  assert.deepEqual(last.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  // Offsets still point into the context string.
  assert.deepEqual(last.offsets!.slice(5, 8).map(([s, e]) => context.slice(s, e)), ['dog', 'sat', '.']);
  assert.deepEqual(last.offsets![9], [0, 0]);
  // Stride must be smaller than the window.
  assert.throws(() => tok.encode(question, context, { maxLength: 10, truncation: 'only_second', stride: 4, returnOverflowingTokens: true }), /stride 4 must be smaller than the 4 tokens/);
  // A single sequence gets windows too (only_first / longest_first).
  const single = tok.encode(context, { maxLength: 6, stride: 1, returnOverflowingTokens: true });
  assert.deepEqual([single, ...single.overflowing!].map((e) => e.tokens.slice(1, -1).join(' ')), ['the cat sat on', 'on the mat .', '. a dog sat', 'sat .']);
});

test('padding: longest in a batch, max_length, pad_to_multiple_of; padded positions have mask 0 and type 0', () => {
  const batch = tok.encodeBatch(['the cat', 'hello world!'], null, { padding: true });
  assert.deepEqual(batch.map((e) => e.inputIds), [[2, 5, 6, 3, 0], [2, 14, 15, 17, 3]]);
  assert.deepEqual(batch.map((e) => e.attentionMask), [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]);
  const pairs = tok.encodeBatch(['who', 'the cat'], ['cafe', 'a dog'], { padding: 'max_length', maxLength: 9 });
  assert.deepEqual(pairs[0]!.inputIds, [2, 20, 3, 22, 3, 0, 0, 0, 0]);
  assert.deepEqual(pairs[1]!.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 0, 0]);
  assert.equal(tok.encode('the', { padding: 'longest', padToMultipleOf: 8 }).inputIds.length, 8);
  assert.equal(tok.encode('the', { padding: 'longest' }).inputIds.length, 3); // nothing to pad against
  assert.throws(() => tok.encodeBatch(['a'], ['b', 'c']), /1 texts but 2 pairs/);
});

test('decode joins ## pieces and cleans spaces before punctuation; tokenize / convert helpers', () => {
  const ids = tok.encode('Hello, world! The dogs.').inputIds;
  assert.equal(tok.decode(ids), '[CLS] hello, world! the dogs. [SEP]');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'hello, world! the dogs.');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), 'hello , world ! the dogs .');
  assert.deepEqual(tok.tokenize('Dogs run!'), ['dog', '##s', 'run', '!']);
  assert.deepEqual(tok.convertTokensToIds(['dog', '##s', 'zebra']), [11, 12, 1]);
  assert.equal(tok.convertTokensToIds('[MASK]'), 4);
  assert.deepEqual(tok.convertIdsToTokens([2, 11, 12, 999]), ['[CLS]', 'dog', '##s', '[UNK]']);
  assert.deepEqual(tok.convertIdsToTokens([2, 11, 3], true), ['dog']);
});

test('savePretrained -> fromPretrained round trip, builtin and through @huggingface/tokenizers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-tok-'));
  try {
    const cased = new BertTokenizer(VOCAB, { doLowerCase: false, modelMaxLength: 16, neverSplit: ['[FOO]'] });
    cased.savePretrained(dir);
    assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), VOCAB.map((t) => `${t}\n`).join(''));
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.do_lower_case, false);
    assert.equal(config.model_max_length, 16);
    assert.equal(config.tokenizer_class, 'BertTokenizer');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')), {
      unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
    });
    const viaJson = BertTokenizer.fromPretrained(dir);
    assert.equal(viaJson.engine, '@huggingface/tokenizers');
    const builtin = BertTokenizer.fromPretrained(dir, { engine: 'builtin' });
    for (const t of [viaJson, builtin]) {
      assert.deepEqual(t.tokenize('The cat, the Dogs'), ['[UNK]', 'cat', ',', 'the', '[UNK]']);
      assert.equal(t.modelMaxLength, 16);
      assert.equal(t.encode(A, B, { truncation: true }).inputIds.length, 12);
      assert.equal(t.encode(A, B, { truncation: true, padding: 'max_length' }).inputIds.length, 16);
    }
    // vocab.txt alone, with the config: the slow path reads do_lower_case from tokenizer_config.json.
    rmSync(join(dir, 'tokenizer.json'));
    const fromVocab = BertTokenizer.fromPretrained(dir);
    assert.equal(fromVocab.engine, 'builtin');
    assert.equal(fromVocab.doLowerCase, false);
    assert.deepEqual(fromVocab.tokenize('x [FOO] the'), ['[UNK]', '[FOO]', 'the']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad files and vocabularies give BertTokenizerError naming the file and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-bad-'));
  try {
    assert.throws(() => BertTokenizer.fromPretrained(dir), /neither vocab.txt nor tokenizer.json/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] } }));
    assert.throws(() => BertTokenizer.fromPretrained(dir), /tokenizer.json: key "model.type" is "BPE"/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 2 } } }));
    assert.throws(() => BertTokenizer.fromPretrained(dir), /no token with id 1/);
    rmSync(join(dir, 'tokenizer.json'));
    writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n'));
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"do_lower_case": "yes"}');
    assert.throws(() => BertTokenizer.fromPretrained(dir), /tokenizer_config.json: key "do_lower_case" should be true or false/);
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"model_max_length": 1e30, "unk_token": {"content": "[MASK]"}}');
    const t = BertTokenizer.fromPretrained(dir);
    assert.equal(t.modelMaxLength, undefined); // HF's "no limit"
    assert.equal(t.unkToken, '[MASK]');
    assert.throws(() => new BertTokenizer(['a', 'b']), /special token "\[UNK\]" is not in the vocabulary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
