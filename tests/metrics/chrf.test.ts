/** chrF / chrF++: hand-checked cases and the expected values of sacreBLEU 2.x's test/test_chrf.py. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corpusChrf, exactMatch, exactMatchByLength, sentenceChrf } from '../../src/metrics/index.js';

const close = (a: number, b: number, eps: number, what = 'value') => assert.ok(Math.abs(a - b) < eps, `${what}: got ${a}, expected ${b}`);

describe('chrF', () => {
  test('hand-checked: "aa" vs "ab"', () => {
    // order 1: hyp {a:2}, ref {a:1, b:1}: match 1 -> P = 1/2, R = 1/2
    // order 2: "aa" vs "ab": match 0 -> P = R = 0; orders 3..6 have no n-grams on either side (skipped)
    // avg P = avg R = 1/4; chrF2 = (1 + 4) * P * R / (4 P + R) = 5/16 / (5/4) = 1/4 -> 25
    const s = sentenceChrf('aa', ['ab']);
    close(s.score, 25, 1e-12);
    assert.equal(s.name, 'chrF2');
    assert.equal(s.signature, 'nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.3');
    // whitespace is removed before extracting character n-grams
    close(sentenceChrf('a b c', ['abc']).score, 100, 1e-12);
  });
  test('sacreBLEU: effective-order mode, beta 3', () => {
    const cases: Array<[string[], string[], number]> = [
      [['a'], ['a'], 100], [[''], ['reference'], 0], [['a b c'], ['a b c'], 100], [['a b c'], ['abc'], 100],
      [[''], ['c'], 0], [['a', 'b'], ['a', 'c'], 50], [['aa'], ['ab'], 25],
    ];
    for (const [h, r, e] of cases) close(corpusChrf(h, [r], { beta: 3 }).score, e, 1e-4, JSON.stringify(h));
  });
  test('sacreBLEU: eps smoothing (chrF++.py style), beta 3', () => {
    const cases: Array<[string, string, number]> = [
      ['abcdefg', 'hijklmnop', 0], ['a', 'b', 0], ['', 'b', 0], ['', 'ref', 0], ['', 'reference', 0], ['aa', 'ab', 8.3333],
      ['a', 'a', 16.6667], ['a b c', 'a b c', 50], ['a b c', 'abc', 50],
      [' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .', 63.36173],
      [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. ',
        'Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.', 64.1302698],
      ['Niemand hat die Absicht, eine Mauer zu errichten', 'Niemand hat die Absicht, eine Mauer zu errichten', 100],
    ];
    for (const [h, r, e] of cases) close(corpusChrf([h], [[r]], { beta: 3, epsSmoothing: true }).score, e, 1e-4, h);
    close(corpusChrf(['a', 'b'], [['a', 'c']], { beta: 3, epsSmoothing: true }).score, 8.3333, 1e-4);
  });
  test('sacreBLEU: whitespace kept, beta 3', () => {
    close(corpusChrf(['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'],
      [['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.']], { beta: 3, whitespace: true }).score, 67.3481606, 1e-4);
    close(corpusChrf(['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
      [['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .']], { beta: 3, whitespace: true }).score, 65.2414427, 1e-4);
  });
  test('sacreBLEU: sentence-level chrF2 with eps smoothing (Czech)', () => {
    const cases: Array<[string, string, number]> = [
      ['Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.', 'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.', 39.14078509],
      ['Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.', 'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.', 31.22557079],
      ['Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.', 'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.', 57.15704367],
    ];
    for (const [h, r, e] of cases) close(sentenceChrf(h, [r], { epsSmoothing: true }).score, e, 1e-4, h);
  });
  test('chrF++ adds word unigrams and bigrams after splitting edge punctuation', () => {
    // identical strings: every order has P = R = 1
    const s = sentenceChrf('Hello, world!', ['Hello, world!'], { wordOrder: 2 });
    close(s.score, 100, 1e-12);
    assert.equal(s.name, 'chrF2++');
    // a single word in a different form only changes word n-grams: chrF++ < chrF
    assert.ok(sentenceChrf('the cats sat', ['the cat sat'], { wordOrder: 2 }).score < sentenceChrf('the cats sat', ['the cat sat']).score);
    // best reference is chosen per sentence
    close(corpusChrf(['abc'], [['xyz'], ['abc']]).score, 100, 1e-12);
  });
});

describe('exact match', () => {
  test('overall and per length', () => {
    assert.equal(exactMatch(['a b', 'c', 'd '], ['a  b', 'x', 'd']), 2 / 3);
    const rows = exactMatchByLength(['1', '2', 'x', '4'], ['1', '2', '3', '4'], [2, 1, 2, 1]);
    assert.deepEqual(rows, [{ length: 1, count: 2, correct: 2, accuracy: 1 }, { length: 2, count: 2, correct: 1, accuracy: 0.5 }]);
    assert.throws(() => exactMatch([], []), /no sentences/);
  });
});
