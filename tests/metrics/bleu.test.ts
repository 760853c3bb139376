/**
 * BLEU with sacreBLEU's conventions. Two kinds of expected values:
 * - hand-computed cases, with the arithmetic in comments;
 * - the expected values of sacreBLEU 2.x's own test suite (test/test_bleu.py and
 *   test/test_sentence_bleu.py in mjpost/sacrebleu), since sacrebleu is not installed here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeBleu, corpusBleu, sentenceBleu, tokenize13a, tokenizeZh } from '../../src/metrics/index.js';

const close = (a: number, b: number, eps: number, what = 'value') => assert.ok(Math.abs(a - b) < eps, `${what}: got ${a}, expected ${b}`);

describe('13a and zh tokenizers', () => {
  test('13a splits punctuation, keeps 3.14 and 1,000, splits a dash after a digit', () => {
    assert.equal(tokenize13a("Hello, world! It's 3.14 and 1,000 - 5-3"), "Hello , world ! It's 3.14 and 1,000 - 5 - 3");
    assert.equal(tokenize13a('a.b end.'), 'a . b end .');
    assert.equal(tokenize13a('&quot;x&quot; &amp; y&lt;z&gt;'), '" x " & y < z >');
    assert.equal(tokenize13a('  (hi)  /path  '), '( hi ) / path');
    assert.equal(tokenize13a('<skipped> a-\nb'), 'ab'); // '-\n' joins a hyphenated line break
  });
  test('zh splits every CJK character and CJK punctuation, then 13a-style rules', () => {
    assert.equal(tokenizeZh('我爱北京。Hello, world!'), '我 爱 北 京 。 Hello , world !');
    assert.equal(tokenizeZh('１２３'), '１ ２ ３'); // fullwidth forms U+FF00..FFEF
    // sacreBLEU's table reads '\u20000' as U+2000 + '0', so U+2001..U+2A6D count as Chinese: the en dash splits.
    assert.equal(tokenizeZh('a–b'), 'a – b');
    assert.equal(tokenize13a('a–b'), 'a–b');
  });
});

describe('BLEU, hand-checked', () => {
  test('one sentence, exp smoothing of a zero 4-gram precision', () => {
    // hyp: the cat sat on the mat   ref: the cat is on the mat   (c = r = 6, BP = 1)
    // 1-grams: the x2, cat, on, mat match -> 5/6
    // 2-grams: "the cat", "on the", "the mat" -> 3/5
    // 3-grams: "on the mat" -> 1/4
    // 4-grams: 0/3 -> exp smoothing: 1 / (2 * 3) = 1/6
    // BLEU = (5/6 * 3/5 * 1/4 * 1/6)^(1/4) = (1/48)^(1/4) = 37.99
    const b = corpusBleu(['the cat sat on the mat'], [['the cat is on the mat']]);
    assert.deepEqual(b.counts, [5, 3, 1, 0]);
    assert.deepEqual(b.totals, [6, 5, 4, 3]);
    close(b.score, 100 * (1 / 48) ** 0.25, 1e-9, 'bleu');
    assert.equal(b.signature, 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.3');
    assert.equal(b.format(), 'BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)');
    // Without smoothing the zero 4-gram precision makes the corpus score 0 (log 0 -> -9999999999).
    close(corpusBleu(['the cat sat on the mat'], [['the cat is on the mat']], { smoothMethod: 'none' }).score, 0, 1e-12);
  });

  test('brevity penalty and effective order (sentence BLEU)', () => {
    // hyp "the cat" (c = 2) vs "the cat sat on the mat" (r = 6): p1 = 2/2, p2 = 1/1, no 3- or 4-grams.
    // Sentence BLEU uses effective order 2: BLEU = BP * 1 = exp(1 - 6/2) = exp(-2) = 13.53.
    const s = sentenceBleu('the cat', ['the cat sat on the mat']);
    close(s.bp, Math.exp(-2), 1e-12, 'bp');
    close(s.score, 100 * Math.exp(-2), 1e-9, 'sentence bleu');
    assert.match(s.signature, /eff:yes/);
  });

  test('multiple references: clipping by the max count over references, closest length', () => {
    // hyp: the the the the; refs: "the cat" (2), "the the dog" (3)
    // 1-grams: "the" clipped to max(1, 2) = 2 -> 2/4; 2-grams: "the the" clipped to 1 -> 1/3
    // 3-grams 0/2 -> 1/(2*2); 4-grams 0/1 -> 1/(4*1); r = 3 (closest to 4), BP = 1
    // BLEU = (1/2 * 1/3 * 1/4 * 1/4)^(1/4) = (1/96)^(1/4) = 31.95
    const b = corpusBleu(['the the the the'], [['the cat'], ['the the dog']]);
    assert.deepEqual(b.counts, [2, 1, 0, 0]);
    assert.equal(b.refLen, 3);
    close(b.score, 100 * (1 / 96) ** 0.25, 1e-9);
    assert.match(b.signature, /^nrefs:2\|/);
    // Equal distance: 4 tokens vs refs of 3 and 5 -> the shorter one.
    assert.equal(corpusBleu(['a b c d'], [['a b c'], ['a b c d e']]).refLen, 3);
  });

  test('lowercase and tokenizer options', () => {
    // 13a splits "mat." into "mat ." so the final period matches; case:lc after lowercasing.
    const lc = corpusBleu(['The cat sat on the mat.'], [['the cat sat on the mat.']], { lowercase: true });
    close(lc.score, 100, 1e-9);
    assert.match(lc.signature, /case:lc/);
    assert.ok(corpusBleu(['The cat sat on the mat.'], [['the cat sat on the mat.']]).score < 100);
    // zh: characters are tokens; 我爱你 vs 我爱她: p1 = 2/3, p2 = 1/2, p3 = 0/1 -> 1/2, no 4-grams (total 0 stops).
    // effective order off: the 4th precision stays 0 -> corpus BLEU 0; sentence BLEU (eff 3): (2/3*1/2*1/2)^(1/3)
    const zh = sentenceBleu('我爱你', ['我爱她'], { tokenize: 'zh' });
    close(zh.score, 100 * (1 / 6) ** (1 / 3), 1e-9, 'zh');
    assert.match(zh.signature, /tok:zh/);
  });

  test('length mismatch and empty reference sets are errors', () => {
    assert.throws(() => corpusBleu(['a', 'b'], [['a']]), /reference stream 0 has 1 lines, hypotheses have 2/);
    assert.throws(() => corpusBleu(['a'], [[null]]), /sentence 0 has no reference/);
  });
});

describe('BLEU, sacreBLEU test-suite values', () => {
  const refs = [
    ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
    ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
  ];
  const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
  test('corpus BLEU (test_corpus_bleu)', () => {
    close(corpusBleu(hyps, refs).score, 48.530827, 1e-6, 'default');
    close(corpusBleu(['', '', ''], refs).score, 0, 1e-12, 'empty hyps');
    close(corpusBleu(hyps, refs, { tokenize: 'none' }).score, 49.1919566, 1e-6, 'tok none');
    close(corpusBleu(hyps, refs, { smoothMethod: 'none' }).score, 48.530827, 1e-6, 'smooth none');
  });
  test('max n-gram order (test_max_ngram_order)', () => {
    const expected = ['77.65', '60.50', '53.93', '48.53', '46.14', '43.28'];
    expected.forEach((e, i) => assert.equal(corpusBleu(hyps, refs, { maxNgramOrder: i + 1 }).score.toFixed(2), e));
  });
  // sacrebleu.raw_corpus_bleu = floor smoothing, tokenize none, effective order.
  const raw = (h: string[], r: string[][], v?: number) => corpusBleu(h, r, { smoothMethod: 'floor', smoothValue: v, tokenize: 'none', effectiveOrder: true });
  test('raw BLEU, effective order, statistics, offsets', () => {
    close(raw(['this is a test', 'another test'], [['ref1', 'ref2']], 0.01).score / 100, 0, 1e-8);
    close(raw(['this is a test'], [['this is a test']], 0.01).score / 100, 1, 1e-8);
    close(raw(['this is a fest'], [['this is a test']], 0.01).score / 100, 0.223606797749979, 1e-8);
    close(raw(['test'], [['a test']], 0.01).score / 100, 0.3678794411714425, 1e-8);
    close(raw(['a test'], [['a test']], 0.01).score / 100, 1, 1e-8);
    close(raw(['a little test'], [['a test']], 0.01).score / 100, 0.03218297948685433, 1e-8);
    const st = raw(['am I am a character sequence'], [['I am a symbol string sequence a a']], 0.01);
    assert.deepEqual([st.counts, st.totals], [[4, 2, 1, 0], [6, 5, 4, 3]]);
    close(raw(['am I am a character sequence'], [['I am a symbol string sequence a a']], 0).score, 0, 1e-8);
    close(raw(['am I am a character sequence'], [['I am a symbol string sequence a a']]).score / 100, 0.1555722182, 1e-8);
  });
  test('compute_bleu from statistics (test_scoring, test_degenerate_statistics)', () => {
    close(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100, 0.8375922397, 1e-8);
    const degenerate: Array<[number[], number[], number, number, number]> = [
      [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0], [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0], [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0],
      [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0], [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1], [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
    ];
    for (const [c, t, s, r, v] of degenerate) assert.equal(computeBleu(c, t, s, r, { smoothMethod: 'floor', smoothValue: v }).score, 0);
  });
  test('sentence BLEU smoothing variants (test_sentence_bleu, #98 and #141)', () => {
    const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
    const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
    const cases: Array<[Parameters<typeof sentenceBleu>[2], number]> = [
      [{ smoothMethod: 'exp' }, 8.493], [{ smoothMethod: 'none' }, 0], [{ smoothMethod: 'floor' }, 4.51688],
      [{ smoothMethod: 'floor', smoothValue: 0.5 }, 10.10], [{ smoothMethod: 'add-k' }, 14.882],
      [{ smoothMethod: 'add-k', smoothValue: 2 }, 21.389], [{ tokenize: 'none' }, 7.347],
      [{ tokenize: 'char' }, 40.8759], [{ tokenize: 'char', lowercase: true }, 42.0267],
    ];
    for (const [opts, expected] of cases) close(sentenceBleu(SYS, [REF], opts).score, expected, 1e-3, JSON.stringify(opts));
    for (const smoothMethod of ['exp', 'none', 'floor', 'add-k'] as const) {
      assert.equal(sentenceBleu('this is a cat', ['okay thanks'], { smoothMethod }).score, 0);
    }
    assert.equal(sentenceBleu(SYS, [REF], { smoothMethod: 'floor' }).signature, 'nrefs:1|case:mixed|eff:yes|tok:13a|smooth:floor[0.10]|version:2.4.3');
  });
});
