// WordPiece vocabulary training on a generated corpus: the vocab has the requested size, special tokens
// come first, and every word of the corpus tokenizes without [UNK] through BertTokenizer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BertTokenizer, Generator, trainWordPiece } from '../../src/index.js';

function corpus(lines: number, seed: number): string[] {
  const g = new Generator(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(g.random() * xs.length)]!;
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tus', 'pa', 'do', 'shi', 'ne', 'vor', 'qué', 'zh'];
  const words = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(g.random() * 3) }, () => pick(syllables)).join(''));
  words.push('北京', '天安门', 'Ünïcode', '2024');
  return Array.from({ length: lines }, () => {
    const n = 4 + Math.floor(g.random() * 8);
    const ws = Array.from({ length: n }, (_, i) => (i === 0 ? pick(words).replace(/^./, (c) => c.toUpperCase()) : pick(words)));
    return `${ws.join(' ')}${pick(['.', '!', '?', ','])}`;
  });
}

test('trainWordPiece: requested size, specials first, ## continuations, no [UNK] on the corpus', () => {
  const lines = corpus(400, 7);
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-wordpiece-'));
  try {
    const vocab = trainWordPiece(lines, { vocabSize: 300, minFrequency: 2, outputDir: dir });
    assert.equal(vocab.length, 300);
    assert.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    assert.equal(new Set(vocab).size, vocab.length, 'no duplicate tokens');
    assert.ok(vocab.some((t) => t.startsWith('##') && t.length > 3), 'merged continuation pieces exist');
    assert.ok(vocab.includes('北') && vocab.includes('.'), 'CJK characters and punctuation are in the alphabet');
    assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), vocab.map((t) => `${t}\n`).join(''));

    const tok = BertTokenizer.fromPretrained(dir);
    let pieces = 0;
    let words = 0;
    for (const line of lines) {
      const tokens = tok.tokenize(line);
      assert.ok(!tokens.includes('[UNK]'), `[UNK] in ${JSON.stringify(line)} -> ${JSON.stringify(tokens)}`);
      pieces += tokens.length;
      words += line.split(' ').length;
    }
    // Merges make words shorter than their characters: about 1-2 pieces per word, not 5+.
    assert.ok(pieces / words < 2.5, `pieces per word ${pieces / words}`);
    // Same corpus, same result (ties broken by strings, not hash order).
    assert.deepEqual(trainWordPiece(lines, { vocabSize: 300, minFrequency: 2 }), vocab);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trainWordPiece: stops early when no pair reaches minFrequency; the alphabet is always kept', () => {
  const vocab = trainWordPiece(['ab ab cd'], { vocabSize: 100, minFrequency: 2, specialTokens: ['[UNK]', '[PAD]', '[CLS]', '[SEP]'] });
  // specials, alphabet a b c d, continuations ##b ##d, then only "ab" (seen twice) merges.
  assert.deepEqual(vocab, ['[UNK]', '[PAD]', '[CLS]', '[SEP]', 'a', 'b', 'c', 'd', '##b', '##d', 'ab']);
  assert.equal(trainWordPiece(['abcdef'], { vocabSize: 3 }).length, 5 + 6 + 5, 'vocabSize below the alphabet keeps the alphabet');
});
