/**
 * QA data: the SQuAD v1.1 reader (errors name the JSON path), HF run_qa features (only_second
 * windows with a doc stride, answer tokens through the offsets, [CLS] when a window misses the
 * answer), run_qa's post-processing on hand logits, and the official SQuAD v1.1 metric on hand cases.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertTokenizer } from '../../src/index.js';
import {
  bestAnswer, normalizeAnswer, qaFeatures, readSquadFile, squadExactMatch, squadF1, squadScores, type QaFeature, type SquadExample,
} from '../../src/bert/data/qa.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-qa-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

const CONTEXT = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu';
const at = (word: string): number => CONTEXT.indexOf(word);
const squad = (qas: unknown[], context = CONTEXT): unknown => ({ version: '1.1', data: [{ title: 'Greek', paragraphs: [{ context, qas }] }] });

describe('reading SQuAD v1.1', () => {
  test('articles, paragraphs, questions and several gold answers', () => {
    const f = file('dev.json', {
      version: '1.1',
      data: [
        { title: 'Greek', paragraphs: [{ context: CONTEXT, qas: [
          { id: 'q1', question: 'Where is kappa?', answers: [{ text: 'kappa', answer_start: at('kappa') }, { text: 'kappa lambda', answer_start: at('kappa') }] },
          { id: 'q2', question: '  Which letter follows eta?', answers: [{ text: 'theta', answer_start: at('theta') }] },
        ] }] },
        { title: 'Other', paragraphs: [{ context: 'one two', qas: [{ id: 7, question: 'second?', answers: [{ text: 'two', answer_start: 4 }] }] }] },
      ],
    });
    const d = readSquadFile(f);
    assert.equal(d.version, '1.1');
    assert.equal(d.contexts, 2);
    assert.deepEqual(d.examples.map((e) => [e.id, e.title, e.answers.length, e.path]), [
      ['q1', 'Greek', 2, 'data[0].paragraphs[0].qas[0]'], ['q2', 'Greek', 1, 'data[0].paragraphs[0].qas[1]'], ['7', 'Other', 1, 'data[1].paragraphs[0].qas[0]'],
    ]);
    assert.deepEqual(d.examples[0]!.answers[1], { text: 'kappa lambda', answerStart: at('kappa') });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['not-json.json', '{"data": [', /not-json\.json: not valid JSON/],
    ['no-data.json', { version: '1.1' }, /no-data\.json: \(root\): missing key "data"/],
    ['paragraphs.json', { data: [{ title: 't', paragraphs: {} }] }, /paragraphs\.json: data\[0\]\.paragraphs: expected an array, got \{\}/],
    ['question.json', squad([{ id: 'a', question: 5, answers: [] }]), /question\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.question: expected a string, got 5/],
    ['offset.json', squad([{ id: 'a', question: 'q?', answers: [{ text: 'iota', answer_start: 0 }] }, { id: 'b', question: 'q?', answers: [{ text: 'beta', answer_start: at('beta') }, { text: 'beta', answer_start: 3 }] }]),
      /offset\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]\.answer_start: 0 does not point at the answer: the context has "alph" there, the answer is "iota"/],
    ['negative.json', squad([{ id: 'a', question: 'q?', answers: [{ text: 'mu', answer_start: -1 }] }]), /negative\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]\.answer_start: expected a non-negative integer, got -1/],
    ['duplicate.json', squad([{ id: 'a', question: 'q?', answers: [{ text: 'mu', answer_start: at('mu') }] }, { id: 'a', question: 'r?', answers: [{ text: 'mu', answer_start: at('mu') }] }]),
      /duplicate\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]\.id: id "a" repeats data\[0\]\.paragraphs\[0\]\.qas\[0\]\.id/],
    ['impossible.json', squad([{ id: 'a', question: 'q?', answers: [], is_impossible: true }]), /impossible\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.is_impossible: unanswerable questions \(SQuAD 2\.0\) are not supported/],
    ['no-answer.json', squad([{ id: 'a', question: 'q?', answers: [] }]), /no-answer\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers: is empty/],
    ['missing-id.json', squad([{ question: 'q?', answers: [] }]), /missing-id\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]: missing key "id"/],
    ['no-questions.json', { data: [] }, /no-questions\.json: data: no questions/],
  ];
  for (const [name, content, message] of cases) {
    test(`error: ${name}`, () => {
      assert.throws(() => readSquadFile(file(name, content)), (e: Error) => {
        assert.match(e.message, message);
        return true;
      });
    });
  }
  test('questions without answers read for prediction', () => {
    const d = readSquadFile(file('questions.json', squad([{ id: 'a', question: 'q?' }])), { requireAnswers: false });
    assert.deepEqual(d.examples[0]!.answers, []);
  });
});

describe('features (HF run_qa)', () => {
  const words = CONTEXT.split(' ');
  const tok = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'where', 'is', '?', ...words]);
  const example = (text: string, question = 'where is kappa ?'): SquadExample => ({ id: text, title: '', question, context: CONTEXT, answers: [{ text, answerStart: at(text) }], path: '' });
  // The question is 4 tokens, so a 12-token window holds 5 context tokens; stride 2 starts windows 3 words apart.
  const opts = { maxSeqLength: 12, docStride: 2 };
  const contextWords = (f: QaFeature): string[] => [...f.ids].flatMap((id, t) => (f.types[t] === 1 && f.offsets[2 * t]! >= 0 ? [tok.vocab[id]!] : []));
  const span = (f: QaFeature): string => CONTEXT.slice(f.offsets[2 * f.startPosition]!, f.offsets[2 * f.endPosition + 1]!);

  test('windows overlap by docStride; the answer is found through the offsets or labelled [CLS]', () => {
    const { features, skipped, strideLowered } = qaFeatures([example('kappa')], tok, opts);
    assert.deepEqual([skipped, strideLowered], [[], 0]);
    assert.deepEqual(features.map(contextWords), [words.slice(0, 5), words.slice(3, 8), words.slice(6, 11), words.slice(9, 12)]);
    assert.deepEqual(features.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [0, 0], [9, 9], [6, 6]]);
    for (const f of features.slice(2)) assert.equal(span(f), 'kappa');
    // [CLS] question [SEP] have no context offsets.
    assert.deepEqual([...features[0]!.offsets.slice(0, 12)], Array(12).fill(-1));
    assert.deepEqual([...features[0]!.types], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  test('a multi-word answer; an answer ending a window (run_qa would run onto [SEP]); a window holding only part of it', () => {
    const multi = qaFeatures([example('iota kappa')], tok, opts).features;
    assert.deepEqual(multi.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [0, 0], [8, 9], [0, 0]]);
    assert.equal(span(multi[2]!), 'iota kappa');
    const last = qaFeatures([example('theta')], tok, opts).features;
    assert.deepEqual(last.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [10, 10], [7, 7], [0, 0]]);
    assert.equal(span(last[1]!), 'theta');
  });

  test('a long question lowers the stride; one that fills the window alone is skipped', () => {
    const long = 'where is is is is kappa ?';
    const r = qaFeatures([example('kappa', long), example('mu', 'where is is is is is is is is kappa ?')], tok, opts);
    assert.equal(r.strideLowered, 1);
    assert.deepEqual(r.skipped, [1]);
    assert.ok(r.features.every((f) => f.example === 0 && f.ids.length <= 12));
    assert.ok(r.features.some((f) => f.startPosition > 0 && span(f) === 'kappa'));
  });
});

describe('post-processing (run_qa) on hand logits', () => {
  const context = 'abc def ghi';
  const feature = (example = 0): QaFeature => ({
    example, ids: new Int32Array(6), types: Int32Array.from([0, 0, 0, 1, 1, 1]),
    offsets: Int32Array.from([-1, -1, -1, -1, -1, -1, 0, 3, 4, 7, 8, 11]), startPosition: 0, endPosition: 0,
  });
  const start = [10, 0, 0, 1, 5, 2];
  const end = [10, 0, 0, 0, 1, 6];

  test('best start + end logit among context spans with start <= end; the [CLS] score is not an answer', () => {
    assert.deepEqual(bestAnswer(context, [{ feature: feature(), startLogits: start, endLogits: end }]), { text: 'def ghi', start: 4, end: 11, score: 11 });
    assert.equal(bestAnswer(context, [{ feature: feature(), startLogits: start, endLogits: end }], { maxAnswerLength: 1 }).text, 'ghi');
    // Only the n best starts and ends are tried: with one each, both are [CLS], so there is no answer.
    assert.equal(bestAnswer(context, [{ feature: feature(), startLogits: start, endLogits: end }], { nBestSize: 1 }).text, '');
    // The end before the start is never taken.
    assert.equal(bestAnswer(context, [{ feature: feature(), startLogits: [0, 0, 0, 1, 2, 9], endLogits: [0, 0, 0, 9, 1, 2] }]).text, 'ghi');
  });

  test('the best over windows, read at an offset into a batch row', () => {
    const padded = [99, 99, 0, 0, 0, 8, 0, 0];
    const r = bestAnswer(context, [
      { feature: feature(), startLogits: start, endLogits: end },
      { feature: feature(), startLogits: padded, endLogits: [99, 99, 0, 0, 0, 0, 7, 0], from: 2 },
    ]);
    assert.deepEqual(r, { text: 'abc def', start: 0, end: 7, score: 15 });
  });
});

describe('the official SQuAD v1.1 metric', () => {
  test('normalization: lowercase, ASCII punctuation, articles as whole words (Unicode-aware), whitespace', () => {
    assert.equal(normalizeAnswer('The  Cat, sat!'), 'cat sat');
    assert.equal(normalizeAnswer('an apple a day'), 'apple day');
    assert.equal(normalizeAnswer('the U.S.'), 'us');
    assert.equal(normalizeAnswer('A-ha'), 'aha');
    assert.equal(normalizeAnswer('Théâtre'), 'théâtre'); // Python's \b: "the" inside a word stays
    assert.equal(normalizeAnswer('the\u3000end\u00a0an\tthere'), 'end there');
    assert.equal(normalizeAnswer('«quoted» — text'), '«quoted» — text'); // string.punctuation is ASCII only
  });

  test('exact match and token F1', () => {
    assert.ok(squadExactMatch('The Denver Broncos', 'denver broncos.'));
    assert.ok(!squadExactMatch('Denver', 'Denver Broncos'));
    assert.ok(Math.abs(squadF1('the cat sat', 'cat sat on the mat') - 2 / 3) < 1e-12);
    assert.ok(Math.abs(squadF1('x y y', 'y y y z') - 4 / 7) < 1e-12); // repeated tokens count once each (Counter &)
    assert.equal(squadF1('cat', 'dog'), 0);
    // Both normalize to nothing: the official script gives exact match 1 and F1 0.
    assert.ok(squadExactMatch('the', 'a'));
    assert.equal(squadF1('the', 'a'), 0);
  });

  test('each question takes its best gold answer; scores are percentages', () => {
    const s = squadScores(['Denver Broncos', 'the cat', 'nothing'], [['Denver Broncos', 'Broncos'], ['a dog', 'cat sat'], ['something']]);
    assert.ok(Math.abs(s.exactMatch - 100 / 3) < 1e-9);
    assert.ok(Math.abs(s.f1 - (100 * (1 + 2 / 3)) / 3) < 1e-9);
    assert.equal(s.total, 3);
    assert.throws(() => squadScores(['a'], []), /1 predictions but 0 gold answer lists/);
  });
});
