/**
 * `zhuyi bert fill-mask | classify | ner | answer | embed | eval` on tiny models saved with fixed seeds
 * (and on the shared Hugging Face checkpoints when present). Oracles: the printed results equal the
 * API's for the same inputs (JSON lines; the CLI and this process both on the js backend, the models
 * read back from the same folders), tables show the same values, eval's metrics equal counts made
 * here from the API's predictions; errors name the folder and the command that suits the model.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as z from '../../src/index.js';
import {
  BertConfig, type BertConfigJSON, BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, BertModel,
  BertTokenizer, Generator, type TokenEntity, answer, classify, embed, fillMask, seqevalScores, tokenClassify,
} from '../../src/index.js';
import { toBio } from '../../src/bert/data/ner.js';
import { type CliResult, sharedDataOrSkip, zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-pipelines-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `zhuyi bert ...` on the js backend; `input` is piped to stdin. */
function bert(args: string[], input = ''): CliResult {
  return zhuyi(['bert', ...args, '--backend', 'js'], { input });
}

function ok(args: string[], input = ''): string {
  const r = bert(args, input);
  assert.equal(r.status, 0, `zhuyi bert ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

const jsonLines = (out: string): unknown[] => out.trim().split('\n').map((l) => JSON.parse(l) as unknown);
const fixed4 = (x: number): string => x.toFixed(4);

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', '##s', 'run', 'john', 'smith',
  'lives', 'in', 'paris', 'who', 'where', 'does', 'live', '.', '?', 'good', 'bad', 'film', 'was', 'mary', 'rome', 'works',
];
const config = (extra: BertConfigJSON): BertConfig => new BertConfig({
  vocab_size: VOCAB.length, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 64, initializer_range: 0.5, ...extra,
});
const NER_LABELS = { 0: 'O', 1: 'B-PER', 2: 'I-PER', 3: 'B-LOC', 4: 'I-LOC' };
const MLM = join(dir, 'mlm');
const CLS = join(dir, 'cls');
const NER = join(dir, 'ner');
const QA = join(dir, 'qa');
const RUN = join(dir, 'run'); // a finetune run folder: RUN/hf and RUN/zhuyi-bert.json
let tok: BertTokenizer;
let mlm: BertForMaskedLM;
let cls: BertForSequenceClassification;
let ner: BertForTokenClassification;
let qa: BertForQuestionAnswering;
let prevBackend = '';

before(async () => {
  prevBackend = z.getBackend();
  z.setBackend('js');
  const t = new BertTokenizer(VOCAB);
  const save = async (path: string, m: z.BertPreTrainedModel): Promise<void> => {
    await m.savePretrained(path);
    t.savePretrained(path);
  };
  await save(MLM, new BertForMaskedLM(config({}), { generator: new Generator(1) }));
  await save(CLS, new BertForSequenceClassification(config({ id2label: { 0: 'neg', 1: 'pos' } }), { generator: new Generator(2) }));
  await save(NER, new BertForTokenClassification(config({ id2label: NER_LABELS }), { generator: new Generator(3) }));
  await save(QA, new BertForQuestionAnswering(config({}), { generator: new Generator(4) }));
  await save(join(RUN, 'hf'), await BertForSequenceClassification.fromPretrained(CLS, { warn: () => {} }));
  writeFileSync(join(RUN, 'zhuyi-bert.json'), JSON.stringify({ task: 'classify', config: {}, data: { textColumn: 'review', labelColumn: 'stars', maxSeqLength: 16, batchTokens: 64 } }));
  // What the CLI will compare against: the same folders read back.
  tok = BertTokenizer.fromPretrained(MLM);
  const quiet = { warn: () => {} };
  mlm = await BertForMaskedLM.fromPretrained(MLM, quiet);
  cls = await BertForSequenceClassification.fromPretrained(CLS, quiet);
  ner = await BertForTokenClassification.fromPretrained(NER, quiet);
  qa = await BertForQuestionAnswering.fromPretrained(QA, quiet);
});
after(() => z.setBackend(prevBackend));

describe('zhuyi bert pipelines', () => {
  test('fill-mask: JSON lines equal fillMask; the table shows its tokens and scores', async () => {
    const texts = ['the cat [MASK] on the mat .', 'a [MASK] was [MASK] .'];
    const got = jsonLines(ok(['fill-mask', MLM, ...texts, '--top-k', '3', '--json']));
    assert.deepEqual(got, await Promise.all(texts.map(async (text) => ({ text, predictions: await fillMask(mlm, tok, text, { topK: 3 }) }))));

    const table = ok(['fill-mask', MLM, texts[0]!]).trim().split('\n');
    const expected = (await fillMask(mlm, tok, texts[0]!))[0]!;
    assert.equal(table[0], texts[0]);
    assert.match(table[1]!, /^ {2}mask +rank +token +score +sequence$/);
    assert.equal(table.length, 2 + expected.length, 'five predictions by default');
    expected.forEach((p, r) => assert.deepEqual(table[2 + r]!.trim().split(/\s{2,}/).slice(r === 0 ? 1 : 0), [String(r + 1), p.token, fixed4(p.score), p.sequence]));
  });

  test('classify: stdin lines (--top-k 2) and a --pair equal classify', async () => {
    const texts = ['the film was good', 'the film was bad', 'a cat sat on the mat'];
    const got = jsonLines(ok(['classify', CLS, '--top-k', '2', '--json'], `${texts.join('\n')}\n\n`));
    const api = await classify(cls, tok, texts, { topK: 2 });
    assert.deepEqual(got, texts.map((text, i) => ({ text, labels: api[i] })));

    const table = ok(['classify', CLS, 'the film', '--pair', 'was good']).trim().split('\n');
    const [best] = await classify(cls, tok, 'the film', { textPair: 'was good' });
    assert.deepEqual(table, ['pair: was good', 'label  score   text', `${best!.label.padEnd(5)}  ${fixed4(best!.score)}  the film`]);
  });

  test('ner: grouped entities equal tokenClassify; a table row per entity', async () => {
    const texts = ['john smith lives in paris .', 'mary works in rome'];
    const got = jsonLines(ok(['ner', NER, ...texts, '--json']));
    assert.deepEqual(got, await Promise.all(texts.map(async (text) => ({ text, entities: await tokenClassify(ner, tok, text, { aggregation: 'simple' }) }))));

    const out = ok(['ner', NER, texts[0]!, '--aggregation', 'first']).trim().split('\n');
    const groups = await tokenClassify(ner, tok, texts[0]!, { aggregation: 'first' });
    assert.equal(out[0], texts[0]);
    if (groups.length === 0) assert.equal(out[1], '  (no entities)');
    else {
      assert.match(out[1]!, /^ {2}entity +type +score +start +end$/);
      groups.forEach((e, k) => assert.deepEqual(out[2 + k]!.trim().split(/\s{2,}/), [e.word, e.entityGroup, fixed4(e.score), String(e.start), String(e.end)]));
    }
  });

  test('ner on a Hugging Face token classifier (torch zip .bin): every token equals tokenClassify', async (t) => {
    const hf = sharedDataOrSkip('tiny-bert-checkpoints/torchzip-bert-tokencls-h16-l1');
    if (!hf) return t.skip('../shared/data/tiny-bert-checkpoints absent');
    const text = 'Hugging Face is based in New York City.';
    const got = jsonLines(ok(['ner', hf, text, '--aggregation', 'none', '--json']));
    const model = await BertForTokenClassification.fromPretrained(hf, { warn: () => {} });
    const expected = await tokenClassify(model, BertTokenizer.fromPretrained(hf), text);
    assert.ok(expected.length > 0, 'the oracle labels some tokens');
    assert.deepEqual(got, [{ text, entities: expected }]);
  });

  test('answer: questions from stdin and the context from stdin equal answer', async () => {
    const context = 'john smith lives in paris . mary works in rome .';
    const questions = ['who lives in paris ?', 'where does mary live ?'];
    const got = jsonLines(ok(['answer', QA, '--context', context, '--top-k', '2', '--json'], questions.join('\n')));
    assert.deepEqual(got, await Promise.all(questions.map(async (question) => ({ question, answers: await answer(qa, tok, question, context, { topK: 2 }) }))));

    const out = ok(['answer', QA, '--question', questions[0]!, '--max-answer-length', '3'], `${context}\n`).trim().split('\n');
    const [best] = await answer(qa, tok, questions[0]!, `${context}\n`, { topK: 1, maxAnswerLength: 3 });
    assert.equal(out.length, 3);
    assert.equal(out[0], questions[0]);
    assert.match(out[1]!, /^ {2}answer +score +start +end$/);
    assert.deepEqual(out[2]!.trim().split(/\s{2,}/), [best!.answer, fixed4(best!.score), String(best!.start), String(best!.end)]);
  });

  test('embed: vectors equal embed (cls, not normalised); the table shows cosine similarities', async () => {
    const texts = ['the cat sat', 'the dog runs', 'paris .'];
    const got = jsonLines(ok(['embed', CLS, ...texts, '--pooling', 'cls', '--no-normalize', '--json']));
    const encoder = await BertModel.fromPretrained(CLS, { warn: () => {} });
    const vectors = await embed(encoder, tok, texts, { pooling: 'cls', normalize: false });
    assert.deepEqual(got, texts.map((text, i) => ({ text, embedding: vectors[i] })));

    const out = ok(['embed', MLM, ...texts]).trim().split('\n');
    const unit = await embed(mlm, tok, texts);
    assert.equal(out[0], '3 texts, 16 dimensions, mean pooling, unit length');
    const cosine = out.slice(out.indexOf('cosine similarity') + 2).map((l) => l.split(/\s+/).slice(1).map(Number));
    const dot = (a: number[], b: number[]): number => a.reduce((s, x, k) => s + x * b[k]!, 0);
    cosine.forEach((row, i) => row.forEach((c, j) => assert.ok(Math.abs(c - dot(unit[i]!, unit[j]!)) <= 5e-5, `cosine ${i} ${j}: ${c}`)));
    assert.equal(cosine.length, 3);
  });

  test('embed reads any BERT folder (the shared safetensors BertModel)', async (t) => {
    const hf = sharedDataOrSkip('tiny-bert-checkpoints/safetensors-bertmodel-h32-l2');
    if (!hf) return t.skip('../shared/data/tiny-bert-checkpoints absent');
    const texts = ['hello world', 'attention is all you need'];
    const got = jsonLines(ok(['embed', hf, '--json'], texts.join('\n')));
    const vectors = await embed(await BertModel.fromPretrained(hf, { warn: () => {} }), BertTokenizer.fromPretrained(hf), texts);
    assert.deepEqual(got, texts.map((text, i) => ({ text, embedding: vectors[i] })));
  });
});

describe('zhuyi bert eval', () => {
  test('classify: accuracy equals a count of classify\'s predictions; a run folder lends its columns and length', async () => {
    const g = new Generator(11);
    const words = ['the', 'film', 'was', 'good', 'bad', 'cat', 'dog', 'sat', 'on', 'mat', 'a'];
    const rows = Array.from({ length: 24 }, () => ({
      text: Array.from({ length: 2 + g.randint(0, 6) }, () => words[g.randint(0, words.length)]!).join(' '),
      label: g.random() < 0.5 ? 'pos' : 'neg',
    }));
    const testFile = join(dir, 'test.tsv');
    writeFileSync(testFile, ['label\ttext', ...rows.map((r) => `${r.label}\t${r.text}`)].join('\n'));
    const predicted = (await classify(cls, tok, rows.map((r) => r.text))).map((l) => l[0]!.label);
    const right = predicted.filter((p, i) => p === rows[i]!.label).length;
    assert.ok(right > 0 && right < rows.length, `a non-trivial count (${right} of ${rows.length})`);
    const out = ok(['eval', CLS, '--test', testFile]);
    assert.match(out, new RegExp(`^test: .*test\\.tsv: 24 texts \\(maxSeqLength 64, batchTokens 4096\\)$`, 'm'));
    assert.match(out, new RegExp(`^test accuracy ${(100 * right / 24).toFixed(2)}% \\(${right}/24\\), loss [\\d.]+$`, 'm'));

    // The run's zhuyi-bert.json names the JSONL fields and maxSeqLength 16 (texts here are shorter).
    const jsonl = join(dir, 'test.jsonl');
    writeFileSync(jsonl, rows.map((r) => JSON.stringify({ review: r.text, stars: r.label })).join('\n'));
    const [r] = jsonLines(ok(['eval', RUN, '--test', jsonl, '--json'])) as Array<Record<string, unknown>>;
    assert.equal(r!.accuracy, right / 24);
    assert.equal(r!.correct, right);
    assert.deepEqual(r!.settings, { maxSeqLength: 16, batchTokens: 64, textColumn: 'review', labelColumn: 'stars' });
    assert.equal(r!.model, join(RUN, 'hf'));
  });

  test('a finetune run scored on its own validation file reports the best checkpoint\'s validation metrics', () => {
    const g = new Generator(5);
    const nouns = ['cat', 'dog', 'film', 'mat', 'john', 'mary'];
    const rows = (n: number): string[] => Array.from({ length: n }, () => {
      const good = g.random() < 0.5;
      return `the ${nouns[g.randint(0, nouns.length)]} was ${good ? 'good' : 'bad'},${good ? 'pos' : 'neg'}`;
    });
    const train = join(dir, 'ft-train.csv');
    const valid = join(dir, 'ft-valid.csv');
    writeFileSync(train, ['text,label', ...rows(64)].join('\n'));
    writeFileSync(valid, ['text,label', ...rows(24)].join('\n'));
    const out = join(dir, 'ft');
    const run = ok(['finetune', '--init', 'random', '--vocab-size', '60', '--train', train, '--valid', valid, '--out', out,
      '--epochs', '2', '--batch-tokens', '256', '--lr', '2e-3', '--max-seq-length', '16']);
    const [, step] = /^best accuracy [\d.]+ at step (\d+)/m.exec(run)!;
    const logged = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
      .find((e) => e.step === Number(step) && e.accuracy !== undefined)!;
    const [r] = jsonLines(ok(['eval', out, '--test', valid, '--json'])) as Array<Record<string, number>>;
    assert.equal(r!.accuracy, logged.accuracy);
    assert.ok(Math.abs(r!.loss! - logged.valid_loss!) < 1e-6, `loss ${r!.loss} vs validation ${logged.valid_loss}`);
  });

  test('ner: entity F1 and word accuracy equal seqeval over tokenClassify\'s first-piece labels', async () => {
    const sentences = [['john', 'smith', 'lives', 'in', 'paris', '.'], ['mary', 'works', 'in', 'rome'], ['the', 'dog', 'sat', 'on', 'the', 'mat'], ['smith', 'does', 'live', 'in', 'rome', '.']];
    // The model's label of each word: its first token's, from the pipeline without aggregation.
    const predicted = await Promise.all(sentences.map(async (words) => {
      const ents = await tokenClassify(ner, tok, words.join(' '), { ignoreLabels: [] }) as TokenEntity[];
      let at = 0;
      return words.map((w) => {
        const label = ents.find((e) => e.start === at)?.entity ?? 'O';
        at += w.length + 1;
        return label;
      });
    }));
    // Gold: the predictions themselves (as BIO) for two sentences, fixed tags for the other two.
    const gold = [toBio(predicted[0]!).labels, ['B-PER', 'O', 'O', 'B-LOC'], ['O', 'O', 'O', 'O', 'O', 'O'], toBio(predicted[3]!).labels];
    const testFile = join(dir, 'test.conll');
    writeFileSync(testFile, sentences.map((ws, s) => ws.map((w, k) => `${w} ${gold[s]![k]}`).join('\n')).join('\n\n'));
    const expected = seqevalScores(gold, predicted);
    const words = sentences.flat().length;
    const same = gold.flat().filter((l, k) => l === predicted.flat()[k]).length;
    const [r] = jsonLines(ok(['eval', NER, '--test', testFile, '--json'])) as Array<Record<string, number>>;
    assert.equal(r!.examples, 4);
    assert.equal(r!.f1, expected.f1);
    assert.equal(r!.precision, expected.precision);
    assert.equal(r!.recall, expected.recall);
    assert.equal(r!.accuracy, same / words);
    assert.ok(expected.f1 > 0, 'the oracle finds entities');
  });

  test('qa: exact match and F1 of answer\'s predictions, counted here', async () => {
    const context = 'john smith lives in paris . mary works in rome .';
    const qas = [['who lives in paris ?', 'john smith'], ['where does mary live ?', 'rome'], ['who works in rome ?', 'mary'], ['where does john smith live ?', 'paris']] as const;
    const squad = { version: '1.1', data: [{ title: 't', paragraphs: [{ context, qas: qas.map(([question, text], i) => ({ id: String(i), question, answers: [{ text, answer_start: context.indexOf(text) }] })) }] }] };
    const testFile = join(dir, 'squad.json');
    writeFileSync(testFile, JSON.stringify(squad));
    const predictions = await Promise.all(qas.map(async ([q]) => (await answer(qa, tok, q, context, { maxAnswerLength: 30 })).answer));
    const f1 = (p: string, g: string): number => {
      const pt = p.split(' ');
      const gt = g.split(' ');
      const common = pt.filter((w) => gt.includes(w)).length; // no repeated words in these answers
      return common === 0 ? 0 : (2 * (common / pt.length) * (common / gt.length)) / (common / pt.length + common / gt.length);
    };
    const em = (100 * predictions.filter((p, i) => p === qas[i]![1]).length) / qas.length;
    const meanF1 = (100 * predictions.reduce((s, p, i) => s + f1(p, qas[i]![1]), 0)) / qas.length;
    const [r] = jsonLines(ok(['eval', QA, '--test', testFile, '--json'])) as Array<Record<string, number>>;
    assert.equal(r!.examples, 4);
    assert.ok(Math.abs(r!.exact_match! - em) < 1e-9, `exact match ${r!.exact_match} vs ${em} (predictions ${JSON.stringify(predictions)})`);
    assert.ok(Math.abs(r!.f1! - meanF1) < 1e-9, `F1 ${r!.f1} vs ${meanF1}`);
  });
});

describe('zhuyi bert pipelines: errors and help', () => {
  test('errors name the folder, the flag and the command that suits the model', () => {
    const fail = (args: string[], re: RegExp, input = ''): void => {
      const r = bert(args, input);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re);
    };
    fail(['ner', join(dir, 'nowhere'), 'x'], /bert ner: .*nowhere: no such folder/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    fail(['classify', empty, 'x'], /bert classify: .*empty is not a BERT folder: no config\.json/);
    fail(['ner', CLS, 'x'], /bert ner: .*cls\/config\.json holds a BertForSequenceClassification, but bert ner needs BertForTokenClassification; for this model use 'zhuyi bert classify'/);
    fail(['eval', CLS, '--task', 'ner', '--test', join(dir, 'test.conll')], /bert eval --task ner: .*holds a BertForSequenceClassification.*use --task classify/);
    fail(['eval', NER, '--test', join(dir, 'test.conll'), '--doc-stride', '8'], /bert eval: --doc-stride is for --task qa/);
    fail(['classify', CLS], /bert classify: no texts: none given as arguments and stdin is empty/);
  });

  test('--help of each command', () => {
    const all = ok(['--help']);
    for (const c of ['fill-mask', 'classify', 'ner', 'answer', 'embed', 'eval']) assert.match(all, new RegExp(`^ {2}${c} \\[options\\]`, 'm'), c);
    const n = ok(['ner', '--help']);
    assert.match(n, /Usage: zhuyi bert ner \[options\] <dir> \[texts\.\.\.\]/);
    assert.match(n, /--aggregation <how>.*"simple", "first", "max", "average", "none"/s);
    const e = ok(['eval', '--help']);
    assert.match(e, /Usage: zhuyi bert eval \[options\] <dir>/);
    assert.match(e, /--test <file>.*--task <name>.*--format.*--text-column.*--label-column.*--token-column.*--max-seq-length.*--doc-stride.*--json/s);
  });
});
