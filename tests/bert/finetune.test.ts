/**
 * Classification fine-tuning on the shared trainer: a tiny BERT from random init learns a generated
 * sentiment task with negation ("not good" is negative) to a high validation accuracy, and the best
 * checkpoint is a Hugging Face folder (labels in config.json) that the classify pipeline runs;
 * fine-tuning from a pretrained folder loads its encoder; stop + resume gives the same weights.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertConfig, BertForPreTraining, BertForSequenceClassification, BertTokenizer, Generator, classify, trainWordPiece } from '../../src/index.js';
import { bertPreset } from '../../src/bert/run.js';
import { finetuneBert } from '../../src/bert/classify.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-finetune-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POSITIVE = ['good', 'great', 'nice', 'wonderful'];
const NEGATIVE = ['bad', 'awful', 'terrible', 'poor'];

/** "the food was not really good" and the like; 40% negated, and negation flips the label. */
function sentiment(n: number, seed: number): Array<{ text: string; label: 'pos' | 'neg' }> {
  const g = new Generator(seed);
  const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
  return Array.from({ length: n }, () => {
    const positive = g.random() < 0.5;
    const negated = g.random() < 0.4;
    const words = [
      pick(['', 'honestly', 'well']), pick(['the movie', 'this film', 'the food', 'the service', 'our hotel', 'the book', 'my meal']),
      pick(['was', 'is', 'seemed', 'felt']), negated ? 'not' : '', pick(['', 'really', 'very', 'quite']), pick(positive ? POSITIVE : NEGATIVE),
      pick(['', 'overall', 'to me', 'in the end']),
    ].filter(Boolean);
    return { text: words.join(' '), label: positive !== negated ? 'pos' : 'neg' };
  });
}

const csv = (rows: ReturnType<typeof sentiment>): string => ['text,label', ...rows.map((r) => `${r.text},${r.label}`)].join('\n');
const trainFile = join(dir, 'train.csv');
const validFile = join(dir, 'valid.csv');
const validRows = sentiment(200, 2);
writeFileSync(trainFile, csv(sentiment(1200, 1)));
writeFileSync(validFile, csv(validRows));
const quiet = { warn: () => {} };

describe('finetuneBert (classify)', () => {
  test('a tiny BERT from random init learns sentiment with negation; the HF folder runs in the classify pipeline', async (t) => {
    const out = join(dir, 'random');
    const r = await finetuneBert({
      task: 'classify', train: trainFile, valid: validFile, init: 'random', size: 'tiny', vocabSize: 200, maxSeqLength: 32,
      batchTokens: 512, epochs: 6, lr: 2e-3, seed: 0, outDir: out,
    });
    const acc = r.bestMetrics!.accuracy!;
    const curve = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).filter((e) => e.accuracy !== undefined).map((e) => e.accuracy!);
    t.diagnostic(`validation accuracy by epoch ${JSON.stringify(curve)}; best ${acc} after ${r.summary.steps} steps, ${r.summary.seconds.toFixed(1)} s`);
    assert.equal(curve.length, 6);
    // Measured 1.0 (seed 0; 0.99 after the second epoch); a bag of words tops out near 0.6 here (40% of the examples are negated).
    assert.ok(acc >= 0.9, `best validation accuracy ${acc}`);

    const hf = join(out, 'hf');
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
    assert.deepEqual(config.id2label, { 0: 'neg', 1: 'pos' });
    assert.deepEqual(config.label2id, { neg: 0, pos: 1 });
    assert.equal(config.problem_type, 'single_label_classification');
    const model = await BertForSequenceClassification.fromPretrained(hf, quiet);
    const tokenizer = BertTokenizer.fromPretrained(hf);
    const preds = await classify(model, tokenizer, validRows.map((v) => v.text));
    const right = preds.filter((p, k) => p[0]!.label === validRows[k]!.label).length / validRows.length;
    assert.ok(Math.abs(right - acc) < 0.011, `the pipeline on the exported folder: ${right} vs validation ${acc}`);
    const [good, notGood] = await classify(model, tokenizer, ['the movie was really good', 'the movie was not really good']);
    assert.equal(good![0]!.label, 'pos');
    assert.equal(notGood![0]!.label, 'neg');
  });

  test('from a pretrained folder: the encoder is loaded, the classifier is new', async () => {
    // A "pretrained" folder: a BertForPreTraining with known weights and its tokenizer.
    const pre = join(dir, 'pre');
    const texts = sentiment(300, 5).map((r) => r.text);
    const tok = new BertTokenizer(trainWordPiece(texts, { vocabSize: 120 }), { modelMaxLength: 32 });
    const model = new BertForPreTraining(new BertConfig({ ...bertPreset('tiny'), vocab_size: tok.vocabSize, max_position_embeddings: 64 }));
    await model.savePretrained(pre);
    tok.savePretrained(pre);
    const lines: string[] = [];
    const small = join(dir, 'small.csv');
    writeFileSync(small, csv(sentiment(64, 3)));
    const r = await finetuneBert({ model: pre, train: small, valid: small, maxSeqLength: 32, batchTokens: 512, maxSteps: 1, lr: 1e-9, outDir: join(dir, 'from-pre'), log: (s) => lines.push(s) });
    assert.ok(lines.some((l) => /^init: .*pre \(2 new: classifier\.weight, classifier\.bias; 7 unused checkpoint keys\)$/.test(l)), lines.join('\n'));
    const ck = loadCheckpoint(join(dir, 'from-pre', 'last.safetensors')).model;
    const want = model.bert.embeddings.word_embeddings.weight;
    const got = ck.get('bert.embeddings.word_embeddings.weight')!;
    // One step at lr 1e-9 barely moves the pretrained weights.
    const a = await want.data(); const b = await got.data();
    assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 1e-6), 'word embeddings come from the pretrained folder');
    assert.equal(r.config.num_labels, 2);
    assert.equal(r.tokenizer.vocabSize, tok.vocabSize);
  });

  test('stop, then resume: the same final weights as an uninterrupted run', async () => {
    const small = join(dir, 'resume.csv');
    writeFileSync(small, csv(sentiment(160, 4)));
    const common = { train: small, valid: validFile, init: 'random', vocabSize: 120, maxSeqLength: 32, batchTokens: 256, epochs: 2, lr: 1e-3, seed: 2 } as const;
    const full = await finetuneBert({ ...common, outDir: join(dir, 'full') });
    const stopped = await finetuneBert({ ...common, outDir: join(dir, 'stopped'), stopAfterSteps: Math.floor(full.summary.steps * 0.75) });
    assert.ok(stopped.summary.interrupted);
    const resumed = await finetuneBert({ ...common, outDir: join(dir, 'stopped'), resume: true });
    assert.equal(resumed.summary.steps, full.summary.steps);
    const a = loadCheckpoint(join(dir, 'full', 'last.safetensors')).model;
    const b = loadCheckpoint(join(dir, 'stopped', 'last.safetensors')).model;
    for (const [k, v] of a) assert.deepEqual(await b.get(k)!.data(), await v.data(), `weight ${k} differs after resume`);
  });
});
