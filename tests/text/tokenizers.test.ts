/** Vocab, char and word tokenizers, save/load. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CharTokenizer, Vocab, WordTokenizer, loadTokenizer, loadVocab, saveTokenizer, saveVocab } from '../../src/text/index.js';

describe('Vocab', () => {
  test('fixed specials, min frequency, max size, stable order', () => {
    const v = Vocab.build([['b', 'a', 'c', 'a'], ['b', 'a', 'd']], { minFrequency: 1, maxSize: 7 });
    assert.deepEqual(v.tokens, ['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'b', 'c']); // a:3, b:2, then c/d tie -> c
    assert.deepEqual([v.padId, v.unkId, v.bosId, v.eosId], [0, 1, 2, 3]);
    assert.equal(v.id('zzz'), v.unkId);
    assert.deepEqual(Vocab.build([['x', 'y', 'y']], { minFrequency: 2 }).tokens.slice(4), ['y']);
    assert.deepEqual(Vocab.build([['x']], { extraSpecials: ['<sep>'] }).tokens, ['<pad>', '<unk>', '<bos>', '<eos>', '<sep>', 'x']);
  });
  test('plain file round trip with escapes; bad files name the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-vocab-'));
    try {
      const v = new Vocab(['<pad>', '<unk>', '<bos>', '<eos>', 'a', '\n', '\\', ' ']);
      saveVocab(join(dir, 'v.txt'), v);
      assert.equal(readFileSync(join(dir, 'v.txt'), 'utf8'), '<pad>\n<unk>\n<bos>\n<eos>\na\n\\n\n\\\\\n \n');
      assert.deepEqual(loadVocab(join(dir, 'v.txt')).tokens, v.tokens);
      writeFileSync(join(dir, 'dup.txt'), '<pad>\n<unk>\n<bos>\n<eos>\na\nb\na\n');
      assert.throws(() => loadVocab(join(dir, 'dup.txt')), /dup.txt:7: token 'a' already on line 5/);
      writeFileSync(join(dir, 'nospecial.txt'), '<pad>\nfoo\n');
      assert.throws(() => loadVocab(join(dir, 'nospecial.txt')), /nospecial.txt:2: expected special token '<unk>', got 'foo'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CharTokenizer', () => {
  test('code points, spaces kept, exact round trip, specials whole', () => {
    const tok = CharTokenizer.train(['hello world', '你好 😀']);
    assert.deepEqual(tok.tokenize('你好 😀'), ['你', '好', ' ', '😀']);
    for (const s of ['hello world', '你好 😀', 'hole']) assert.equal(tok.decode(tok.encode(s, { addBos: true, addEos: true })), s);
    assert.deepEqual(tok.tokenize('he<eos>'), ['h', 'e', '<eos>']);
    assert.equal(tok.decode(tok.encode('hz')), 'h<unk>');
  });
});

describe('WordTokenizer', () => {
  test('whitespace + punctuation, CJK per character, lowercase option', () => {
    const tok = WordTokenizer.train(["Hello, world! It's 3.14.", '我爱北京。'], { lowercase: true });
    assert.deepEqual(tok.tokenize("Hello, World! It's 3.14."), ['hello', ',', 'world', '!', 'it', "'", 's', '3', '.', '14', '.']);
    assert.deepEqual(tok.tokenize('我爱北京。'), ['我', '爱', '北', '京', '。']);
    assert.deepEqual(new WordTokenizer(tok.vocab, { splitCjk: false }).tokenize('我爱北京。'), ['我爱北京', '。']);
    assert.equal(tok.decode(tok.encode('hello world!', { addEos: true })), 'hello world !');
    assert.equal(tok.decode(tok.encode('hello mars')), 'hello <unk>');
  });
  test('whitespace option: pre-tokenized text keeps its tokens (Moses escapes, hyphens), and survives save/load', () => {
    const tok = WordTokenizer.train(['a kid &apos;s blond-haired dog .'], { whitespace: true });
    assert.deepEqual(tok.tokenize('a  kid &apos;s blond-haired dog .'), ['a', 'kid', '&apos;s', 'blond-haired', 'dog', '.']);
    assert.equal(tok.decode(tok.encode('a kid &apos;s dog .')), 'a kid &apos;s dog .');
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-tok-'));
    try {
      saveTokenizer(dir, tok);
      assert.deepEqual(loadTokenizer(dir).tokenize('blond-haired &apos;s'), ['blond-haired', '&apos;s']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('saveTokenizer / loadTokenizer for char and word', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-tok-'));
    try {
      const word = WordTokenizer.train(['a b c', 'Über'], { lowercase: true, extraSpecials: ['<sep>'] });
      saveTokenizer(join(dir, 'source'), word);
      const w2 = loadTokenizer(join(dir, 'source'));
      assert.equal(w2.kind, 'word');
      assert.deepEqual(w2.encode('A <sep> über'), word.encode('A <sep> über'));
      const char = CharTokenizer.train(['abc'], { normalizeWhitespace: false });
      saveTokenizer(join(dir, 'target'), char);
      const c2 = loadTokenizer(join(dir, 'target'));
      assert.equal(c2.decode(c2.encode('a  b')), 'a  b'.replace('  ', '<unk><unk>'));
      assert.throws(() => loadTokenizer(join(dir, 'missing')), /no zhuyi-tokenizer.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
