/**
 * BERT fine-tuning for extractive question answering (SQuAD v1.1) on the shared trainer, as Hugging
 * Face's run_qa: question + context windows (truncation 'only_second', maxSeqLength 384, docStride
 * 128), answer start / end tokens from the offset mapping ([CLS] when a window does not hold the
 * answer), BertForQuestionAnswering's loss (mean of the start and end cross-entropies), and validation
 * by run_qa's post-processing (best start + end logit over every window of a question) scored with
 * the official SQuAD v1.1 exact match and F1. The best checkpoint (by F1) is exported as an HF folder
 * that `BertForQuestionAnswering.fromPretrained` and the answer pipeline read. The run folder is laid
 * out as tasks.ts describes; `resume` continues it exactly.
 */
import { batcherTask } from '../train/batcher-task.js';
import type { Batch } from '../data/batching.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { BertForQuestionAnswering } from '../models/bert/heads.js';
import { bestAnswer, qaFeatures, readSquadFile, squadScores, type QaFeature, type SquadExample } from '../models/bert/qa-data.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { manualSeed } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { train } from '../train/trainer.js';
import { finetuneTrainOptions } from './recipe.js';
import { beginHeadRun, buildHeadModel, saveHeadTask, type HeadFinetuneOptions } from './head-run.js';
import { BertTaskError, attentionMask, bestMetricsOf, checkSeqLength, exportBest, sequenceBatches, type BertRunResult } from './tasks.js';
import { withRunLock } from '../train/lock.js';
import { checkOptions } from '../tensor/options.js';

export interface QaFinetuneOptions extends HeadFinetuneOptions {
  task?: 'qa';
  /** Tokens shared by consecutive windows of a long context (default 128). maxSeqLength defaults to 384 here. */
  docStride?: number;
  /** Longest answer in tokens at validation (default 30). */
  maxAnswerLength?: number;
  /** Start and end candidates per window at validation (default 20). */
  nBestSize?: number;
}

/** The tensors of a QA batch (the batcher already padded the ids). */
function qaBatch(batch: Batch, features: readonly QaFeature[]): { inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor; startPositions: Tensor; endPositions: Tensor } {
  const { rows: B, sourceLength: S } = batch;
  const types = new Int32Array(B * S);
  const starts = new Int32Array(B);
  const ends = new Int32Array(B);
  batch.indices.forEach((i, b) => {
    const f = features[i]!;
    types.set(f.types, b * S);
    starts[b] = f.startPosition;
    ends[b] = f.endPosition;
  });
  return {
    inputIds: Tensor.fromBuffer(batch.source, [B, S]), attentionMask: attentionMask(batch.sourceLengths, S), tokenTypeIds: Tensor.fromBuffer(types, [B, S]),
    startPositions: Tensor.fromBuffer(starts, [B]), endPositions: Tensor.fromBuffer(ends, [B]),
  };
}

export type QaEvaluation = {
  valid_loss: number;
  /** Official SQuAD v1.1 scores, 0..100. */
  exact_match: number;
  f1: number;
};

/** Validation of a QA model: the loss over every window, then the best answer of each question and SQuAD EM / F1. */
export async function evaluateQa(
  model: BertForQuestionAnswering, batches: Iterable<Batch>, features: readonly QaFeature[], examples: readonly SquadExample[],
  { maxAnswerLength = 30, nBestSize = 20 }: { maxAnswerLength?: number; nBestSize?: number } = {},
): Promise<QaEvaluation & { predictions: string[] }> {
  let lossSum = 0;
  const windows: Array<Array<{ feature: QaFeature; startLogits: Float32Array; endLogits: Float32Array }>> = examples.map(() => []);
  for (const b of batches) {
    const t = qaBatch(b, features);
    const r = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, startPositions: t.startPositions, endPositions: t.endPositions }));
    await realize(r.loss!, r.startLogits, r.endLogits);
    const s = await r.startLogits.data();
    const e = await r.endLogits.data();
    const S = b.sourceLength;
    b.indices.forEach((i, row) => {
      const f = features[i]!;
      const T = f.ids.length;
      windows[f.example]!.push({ feature: f, startLogits: Float32Array.from(s.subarray(row * S, row * S + T)), endLogits: Float32Array.from(e.subarray(row * S, row * S + T)) });
    });
    lossSum += (await r.loss!.item()) * b.rows;
  }
  // Windows in feature order (the batches are length-bucketed), so ties resolve as run_qa's loop would.
  const order = new Map(features.map((f, k) => [f, k]));
  const predictions = examples.map((ex, k) => bestAnswer(ex.context, windows[k]!.sort((x, y) => order.get(x.feature)! - order.get(y.feature)!), { maxAnswerLength, nBestSize }).text);
  const scores = squadScores(predictions, examples.map((ex) => ex.answers.map((a) => a.text)));
  return { valid_loss: lossSum / Math.max(1, features.length), exact_match: scores.exactMatch, f1: scores.f1, predictions };
}

/** Fine-tunes BERT for extractive question answering (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneQa(o: QaFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneQa', o, { task: 1, docStride: 1, maxAnswerLength: 1, nBestSize: 1, train: 1, valid: 1, model: 1, init: 1, vocab: 1, vocabSize: 1, size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, seed: 1, lowercase: 1, log: 1, outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, batchSize: 1, eps: 1, warmupRatio: 1, noDecay: 1, gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1 });
  return withRunLock(o.outDir, 'finetuneQa', () => finetuneQaLocked(o), o.log);
}

async function finetuneQaLocked(o: QaFinetuneOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  if ((o.task ?? 'qa') !== 'qa') throw new ArgumentError(`finetuneQa: task must be 'qa', got '${String(o.task)}'`);
  const { saved, init } = beginHeadRun(o, 'qa', 'finetuneQa');
  const data = (saved?.data ?? {
    train: o.train, valid: o.valid, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 384), docStride: o.docStride ?? 128,
    maxAnswerLength: o.maxAnswerLength ?? 30, nBestSize: o.nBestSize ?? 20, seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }) as {
    train?: string; valid?: string; maxSeqLength: number; docStride: number; maxAnswerLength: number; nBestSize: number; seed: number; batchTokens: number; batchSize?: number;
    init: 'pretrained' | 'random'; model?: string;
  };
  if (!data.train || !data.valid) throw new ArgumentError('finetuneQa: give training and validation files (--train, --valid)');
  if (!Number.isInteger(data.docStride) || data.docStride < 0 || data.docStride >= data.maxSeqLength) throw new ArgumentError(`docStride must be an integer in [0, maxSeqLength), got ${data.docStride}`);
  for (const k of ['maxAnswerLength', 'nBestSize'] as const) if (!Number.isInteger(data[k]) || data[k] < 1) throw new ArgumentError(`${k} must be a positive integer, got ${data[k]}`);
  const seed = data.seed;
  manualSeed(seed);
  const trainData = readSquadFile(data.train);
  const validData = readSquadFile(data.valid);
  const labelKeys: BertConfigJSON = { num_labels: 2, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } };

  const { tokenizer, config, model } = await buildHeadModel({
    out, o, saved, data, labelKeys, headPrefix: 'qa_outputs.', log,
    vocabTexts: () => [...new Set(trainData.examples.map((e) => e.context))].concat(trainData.examples.map((e) => e.question)),
    build: (c, initialize) => new BertForQuestionAnswering(c, { initialize }),
  });
  if (!saved) saveHeadTask(out, { task: 'qa', config, data }, tokenizer);

  const opts = { maxSeqLength: data.maxSeqLength, docStride: data.docStride };
  const trainSet = qaFeatures(trainData.examples, tokenizer, opts);
  const validSet = qaFeatures(validData.examples, tokenizer, opts);
  const trainF = trainSet.features;
  const validF = validSet.features;
  const without = trainF.filter((f) => f.startPosition === 0).length;
  log(`data: ${trainData.examples.length} training questions on ${trainData.contexts} contexts -> ${trainF.length} windows (${without} without the answer, labelled [CLS]); ${validData.examples.length} validation questions on ${validData.contexts} contexts -> ${validF.length} windows; max ${data.maxSeqLength} tokens, doc stride ${data.docStride}; vocab ${tokenizer.vocabSize}`);
  if (trainSet.skipped.length + validSet.skipped.length) {
    log(`note: ${trainSet.skipped.length} training and ${validSet.skipped.length} validation questions fill maxSeqLength alone and are left out (validation scores them as unanswered)`);
  }
  if (trainSet.strideLowered + validSet.strideLowered) log(`note: doc stride lowered for ${trainSet.strideLowered + validSet.strideLowered} long questions (room for fewer context tokens)`);
  if (trainF.length === 0) throw new BertTaskError(`${data.train}: no question fits maxSeqLength ${data.maxSeqLength}`);

  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  const { batcher, validBatches } = sequenceBatches(trainF.map((f) => f.ids), validF.map((f) => f.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed, padId, maxSeqLength: data.maxSeqLength });
  const task = batcherTask(batcher, {
    model,
    loss: (b) => {
      const t = qaBatch(b, trainF);
      const r = model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, startPositions: t.startPositions, endPositions: t.endPositions });
      return { loss: r.loss!, tokens: b.tokens };
    },
    validate: async () => {
      const { predictions: _p, ...r } = await evaluateQa(model, validBatches, validF, validData.examples, data);
      void _p;
      log(`validation: loss ${r.valid_loss.toFixed(4)}, exact match ${r.exact_match.toFixed(2)}, F1 ${r.f1.toFixed(2)}`);
      return r;
    },
    bestMetric: { name: 'f1', higherIsBetter: true },
  });
  const summary = await train(task, { ...finetuneTrainOptions(o, data.init), outDir: out, meta: { task: 'qa' } });
  const hfDir = await exportBest(out, () => new BertForQuestionAnswering(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}
