/**
 * Extractive QA fine-tuning on the shared trainer: a tiny BERT from random init learns a generated
 * SQuAD-style task (the answer is the made-up word after "the <keyword> is", split into several
 * WordPieces; contexts longer than one window) to a high exact match; the best checkpoint is a
 * Hugging Face folder the answer pipeline runs; stop + resume gives the same weights.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertForQuestionAnswering, BertTokenizer, Generator, answer, squadScores } from '../../src/index.js';
import { finetuneQa } from '../../src/bert/qa.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-qa-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SYLLABLES = ['ka', 'lo', 'va', 'rin', 'do', 'sa', 'mi', 'ter', 'bo', 'nel', 'zu', 'fa', 'gri', 'po', 'len', 'tas'];
const FILLER = ['the', 'river', 'was', 'cold', 'and', 'we', 'walked', 'home', 'after', 'dinner', 'while', 'it', 'rained', 'on', 'old', 'roofs', 'birds', 'sang', 'loudly', 'near', 'a', 'bridge'];
const KEYS = ['code', 'password', 'color', 'city'];
type Row = { id: string; question: string; context: string; answer: string; start: number };

/** "river cold we . the code is lofafa . birds sang ." with "what is the code ?" -> "lofafa". */
function qaRows(n: number, seed: number): Row[] {
  const g = new Generator(seed);
  const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
  const filler = (): string => [...Array.from({ length: g.randint(3, 10) }, () => pick(FILLER)), '.'].join(' ');
  return Array.from({ length: n }, (_, i) => {
    const key = pick(KEYS);
    const value = Array.from({ length: g.randint(2, 4) }, () => pick(SYLLABLES)).join('');
    const before = `${filler()} the ${key} is `;
    return { id: `${seed}-${i}`, question: `what is the ${key} ?`, context: `${before}${value} . ${filler()}`, answer: value, start: before.length };
  });
}

const squad = (rows: readonly Row[]): string => JSON.stringify({
  version: '1.1',
  data: [{ title: 'generated', paragraphs: rows.map((r) => ({ context: r.context, qas: [{ id: r.id, question: r.question, answers: [{ text: r.answer, answer_start: r.start }] }] })) }],
});

const trainFile = join(dir, 'train.json');
const validFile = join(dir, 'valid.json');
const validRows = qaRows(150, 2);
writeFileSync(trainFile, squad(qaRows(800, 1)));
writeFileSync(validFile, squad(validRows));
const quiet = { warn: () => {} };

describe('finetuneQa', () => {
  test('a tiny BERT from random init learns the task to a high exact match; the HF folder runs in the answer pipeline', async (t) => {
    const out = join(dir, 'random');
    const lines: string[] = [];
    const r = await finetuneQa({
      train: trainFile, valid: validFile, init: 'random', size: 'tiny', vocabSize: 300, maxSeqLength: 32, docStride: 8,
      batchTokens: 512, epochs: 3, lr: 3e-3, seed: 0, outDir: out, log: (s) => lines.push(s),
    });
    const m = r.bestMetrics!;
    const curve = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).filter((e) => e.f1 !== undefined).map((e) => [+e.exact_match!.toFixed(2), +e.f1!.toFixed(2)]);
    t.diagnostic(`[EM, F1] by epoch ${JSON.stringify(curve)}; best EM ${m.exact_match}, F1 ${m.f1} after ${r.summary.steps} steps, ${r.summary.seconds.toFixed(1)} s`);
    assert.equal(curve.length, 3);
    // Contexts are longer than a 32-token window, so some windows miss the answer and are labelled [CLS].
    const data = lines.find((l) => l.startsWith('data: '))!;
    const [, windows, without] = /-> (\d+) windows \((\d+) without the answer/.exec(data)!.map(Number);
    assert.ok(windows! > 800 && without! > 0, data);
    // Measured EM 93.33 (seed 0; 89.33 after the first epoch); the errors end the answer a WordPiece early.
    assert.ok(m.exact_match! >= 85, `best exact match ${m.exact_match}`);
    assert.ok(m.f1! >= m.exact_match!);

    const hf = join(out, 'hf');
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config.architectures, ['BertForQuestionAnswering']);
    const model = await BertForQuestionAnswering.fromPretrained(hf, quiet);
    const tokenizer = BertTokenizer.fromPretrained(hf);
    const preds: string[] = [];
    for (const v of validRows) preds.push((await answer(model, tokenizer, v.question, v.context, { maxSeqLength: 32, docStride: 8 })).answer);
    const s = squadScores(preds, validRows.map((v) => [v.answer]));
    t.diagnostic(`the answer pipeline on the exported folder: EM ${s.exactMatch.toFixed(2)}, F1 ${s.f1.toFixed(2)}`);
    // The pipeline widens spans to whole words (run_qa's validation does not), so it does at least as well.
    assert.ok(s.exactMatch >= m.exact_match! - 1, `pipeline EM ${s.exactMatch} vs validation ${m.exact_match}`);
  });

  test('stop, then resume: the same final weights as an uninterrupted run', async () => {
    const small = join(dir, 'resume.json');
    writeFileSync(small, squad(qaRows(100, 4)));
    const common = { train: small, valid: small, init: 'random', vocabSize: 150, maxSeqLength: 32, docStride: 8, batchTokens: 256, epochs: 2, lr: 1e-3, seed: 2 } as const;
    const full = await finetuneQa({ ...common, outDir: join(dir, 'full') });
    const stopped = await finetuneQa({ ...common, outDir: join(dir, 'stopped'), stopAfterSteps: Math.floor(full.summary.steps * 0.75) });
    assert.ok(stopped.summary.interrupted);
    const resumed = await finetuneQa({ ...common, outDir: join(dir, 'stopped'), resume: true });
    assert.equal(resumed.summary.steps, full.summary.steps);
    const a = loadCheckpoint(join(dir, 'full', 'last.safetensors')).model;
    const b = loadCheckpoint(join(dir, 'stopped', 'last.safetensors')).model;
    for (const [k, v] of a) assert.deepEqual(await b.get(k)!.data(), await v.data(), `weight ${k} differs after resume`);
    assert.deepEqual(resumed.bestMetrics, full.bestMetrics);
  });
});
