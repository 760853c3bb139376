/**
 * BPE: training is deterministic, encode/decode round trips, and the tokenizer.json we write is
 * read by @huggingface/tokenizers (the pure-JS port of HF tokenizers) into the same tokens and ids.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BpeTokenizer, loadTokenizer, saveTokenizer, trainBpe } from '../../src/text/index.js';
import { sharedDataOrSkip } from '../helpers.js';
import { gunzipSync } from 'node:zlib';

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  'A man in an orange hat starring at something.',
  'Two young, White males are outside near many bushes.',
  'Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.',
  'Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.',
  '我们在北京学习中文。你好吗？我很好，谢谢！',
  '東京は日本の首都です。ひらがなとカタカナ。',
  "It's 3.14 -- isn't it? (yes) [no] {maybe} $5 €5 100%",
  'the the the then there these those them they',
  'lower lowest newer newest wider widest',
];

const PROBES = [
  ...CORPUS,
  'Unseen words: zebra, xylophone, quizzical!',
  'MIXED case Über straße ÉCOLE',
  'tabs\tand\nnewlines  and   spaces ',
  '中文和English混合，还有数字123。',
  'emoji 😀 and control\u0007chars\u200b here',
  'specials <bos> inside <eos> text<pad>',
  '',
  '   ',
];

function hfTokenizer(tok: BpeTokenizer): HfTokenizer {
  return new HfTokenizer(JSON.parse(JSON.stringify(tok.toHfJson())), {});
}

describe('BPE', () => {
  test('training is deterministic and respects vocabSize', () => {
    const a = trainBpe(CORPUS, { vocabSize: 200, minFrequency: 1 });
    const b = trainBpe(CORPUS, { vocabSize: 200, minFrequency: 1 });
    assert.deepEqual(a.vocab.tokens, b.vocab.tokens);
    assert.deepEqual(a.merges, b.merges);
    assert.equal(a.vocab.size, 200);
    assert.deepEqual(a.vocab.tokens.slice(0, 4), ['<pad>', '<unk>', '<bos>', '<eos>']);
    // the most frequent word in the corpus becomes one symbol
    assert.deepEqual(a.tokenize('the'), ['the</w>']);
  });

  test('CJK ideographs are separate words; kana are not', () => {
    const tok = trainBpe(CORPUS, { vocabSize: 300, minFrequency: 1 });
    assert.deepEqual(tok.tokenize('北京'), ['北</w>', '京</w>']);
    assert.ok(tok.tokenize('ひらがな').every((t) => !t.endsWith('</w>') || t === 'な</w>' || t.length > 4), 'kana stay one word');
  });

  test('encode/decode round trip (modulo spacing around punctuation)', () => {
    const tok = trainBpe(CORPUS, { vocabSize: 300, minFrequency: 1 });
    const ids = tok.encode('the lazy dog jumps', { addBos: true, addEos: true });
    assert.equal(ids[0], tok.vocab.bosId);
    assert.equal(ids[ids.length - 1], tok.vocab.eosId);
    assert.equal(tok.decode(ids), 'the lazy dog jumps');
    assert.equal(tok.decode(ids, { skipSpecialTokens: false }), '<bos> the lazy dog jumps <eos>');
    assert.equal(tok.decode(tok.encode('Hello, world.')), 'Hello , world .');
    // a character never seen in training is <unk>, kept by decode
    assert.equal(tok.decode(tok.encode('the ☃')), 'the <unk>');
  });

  test('lowercase option', () => {
    const tok = trainBpe(CORPUS, { vocabSize: 250, minFrequency: 1, lowercase: true });
    assert.deepEqual(tok.tokenize('THE'), tok.tokenize('the'));
    assert.deepEqual(tok.tokenize('Über'), tok.tokenize('über'));
  });

  for (const opts of [{}, { lowercase: true }, { splitCjk: false }]) {
    test(`@huggingface/tokenizers gives the same tokens and ids ${JSON.stringify(opts)}`, () => {
      const tok = trainBpe(CORPUS, { vocabSize: 260, minFrequency: 1, ...opts });
      const hf = hfTokenizer(tok);
      for (const text of PROBES) {
        const enc = hf.encode(text, { add_special_tokens: false });
        assert.deepEqual(tok.tokenize(text), enc.tokens, `tokens of ${JSON.stringify(text)}`);
        assert.deepEqual(tok.encode(text), enc.ids, `ids of ${JSON.stringify(text)}`);
      }
    });
  }

  test('saveTokenizer / loadTokenizer round trip; tokenizer.json loads in tokenizers.js', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bpe-'));
    try {
      const tok = trainBpe(CORPUS, { vocabSize: 260, minFrequency: 1, lowercase: true });
      saveTokenizer(dir, tok);
      const back = loadTokenizer(dir);
      assert.equal(back.kind, 'bpe');
      assert.deepEqual(back.vocab.tokens, tok.vocab.tokens);
      for (const text of PROBES) assert.deepEqual(back.encode(text), tok.encode(text));
      const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      assert.deepEqual(Object.keys(json), ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model']);
      assert.equal(json.model.type, 'BPE');
      const hf = new HfTokenizer(json, JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
      assert.deepEqual(hf.encode('the lazy dog', { add_special_tokens: false }).ids, tok.encode('the lazy dog'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a foreign tokenizer.json is refused with the key named', () => {
    assert.throws(() => BpeTokenizer.fromHfJson({ model: { type: 'WordPiece' } }, 'x/tokenizer.json'), /x\/tokenizer.json: model.type is 'WordPiece'/);
  });

  const multi30k = sharedDataOrSkip('multi30k-en-de/raw');
  test('Multi30k: BPE trained on 5,000 lines matches tokenizers.js on held-out lines', { skip: multi30k ? false : 'skipped: ../shared/data/multi30k-en-de absent', timeout: 300_000 }, (t) => {
    const lines = gunzipSync(readFileSync(join(multi30k!, 'train.de.gz'))).toString('utf8').split('\n').filter(Boolean);
    const t0 = Date.now();
    const tok = trainBpe(lines.slice(0, 5000), { vocabSize: 2000, lowercase: true });
    const secs = (Date.now() - t0) / 1000;
    t.diagnostic(`BPE training on 5,000 lines: ${secs.toFixed(1)} s`); // timing is reported, never asserted
    const hf = hfTokenizer(tok);
    for (const text of lines.slice(20000, 20300)) assert.deepEqual(tok.encode(text), hf.encode(text, { add_special_tokens: false }).ids, text);
  });
});
