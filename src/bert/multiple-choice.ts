/**
 * BERT fine-tuning for multiple choice (SWAG and the like) on the shared trainer, as Hugging Face's
 * run_swag: each (context, choice) pair encoded as a sentence pair (src/models/bert/multiple-choice-data.ts),
 * the N pairs of an example scored together by BertForMultipleChoice (input (B, N, T), one logit per
 * choice from the pooled [CLS]), cross-entropy over the N choices, and validation by accuracy. The
 * best checkpoint (by accuracy) is exported as an HF folder that `BertForMultipleChoice.fromPretrained`
 * reads. The run folder is laid out as tasks.ts describes; `resume` continues it exactly.
 *
 * Batches are length-bucketed by an example's longest choice; the token budget counts every choice,
 * so a batch holds about batchTokens / (N x padded length) examples.
 */
import type { Batch } from '../data/batching.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { BertForMultipleChoice } from '../models/bert/heads.js';
import type { TableFormat } from '../models/bert/finetune-data.js';
import { multipleChoiceFeatures, readMultipleChoiceFile, type MultipleChoiceFeature } from '../models/bert/multiple-choice-data.js';
import * as F from '../ops/functional.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { manualSeed } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { batcherTask } from '../train/batcher-task.js';
import { train } from '../train/trainer.js';
import { finetuneTrainOptions } from './recipe.js';
import { beginHeadRun, buildHeadModel, saveHeadTask, type HeadFinetuneOptions } from './head-run.js';
import {
  BertTaskError, attentionMask, bestMetricsOf, checkSeqLength, evalBatches, exportBest, sequenceBatches, type BertRunResult,
} from './tasks.js';
import { withRunLock } from '../train/lock.js';
import { checkOptions } from '../tensor/options.js';

export interface MultipleChoiceFinetuneOptions extends HeadFinetuneOptions {
  task?: 'multiple-choice';
  /** File format of --train and --valid (default: from the file names). */
  format?: TableFormat;
}

/** @internal The tensors of a multiple-choice batch: inputs (B, N, S), labels (B), and the real token count. */
export function multipleChoiceBatch(batch: Batch, features: readonly MultipleChoiceFeature[], padId: number): {
  inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor; labels: Tensor; tokens: number;
} {
  // The batcher padded each example's longest choice to S; every choice of the batch gets that length.
  const { rows: B, sourceLength: S } = batch;
  const N = features[batch.indices[0]!]!.ids.length;
  const ids = new Int32Array(B * N * S).fill(padId);
  const types = new Int32Array(B * N * S);
  const lengths = new Int32Array(B * N);
  const labels = new Int32Array(B);
  let tokens = 0;
  batch.indices.forEach((i, b) => {
    const f = features[i]!;
    if (f.ids.length !== N) throw new BertTaskError(`multipleChoiceBatch: example ${i} has ${f.ids.length} choices, the batch ${N}`);
    f.ids.forEach((choice, c) => {
      ids.set(choice, (b * N + c) * S);
      types.set(f.types[c]!, (b * N + c) * S);
      lengths[b * N + c] = choice.length;
      tokens += choice.length;
    });
    labels[b] = f.label;
  });
  return {
    inputIds: Tensor.fromBuffer(ids, [B, N, S]), tokenTypeIds: Tensor.fromBuffer(types, [B, N, S]),
    attentionMask: F.reshape(attentionMask(lengths, S), [B, N, S]), // (B*N, S) -> (B, N, S)
    labels: Tensor.fromBuffer(labels, [B]), tokens,
  };
}

/** @internal The sequence that places an example in a length bucket: its longest choice. */
export function longestChoice(f: MultipleChoiceFeature): Int32Array {
  return f.ids.reduce((a, b) => (b.length > a.length ? b : a));
}

/**
 * @internal The token budget handed to the batcher, which counts one sequence per example: the
 * budget over N choices, never below one example of the longest bucket.
 */
export function perChoiceBudget(batchTokens: number, numChoices: number, maxSeqLength: number): number {
  return Math.max(maxSeqLength, Math.floor(batchTokens / numChoices));
}

/** @internal Validation batches of multiple-choice features (and `bert eval`'s): every example once, unshuffled. */
export function multipleChoiceEvalBatches(features: readonly MultipleChoiceFeature[], o: { batchTokens: number; padId: number; maxSeqLength: number }): Batch[] {
  if (features.length === 0) return [];
  return evalBatches(features.map(longestChoice), { ...o, batchTokens: perChoiceBudget(o.batchTokens, features[0]!.ids.length, o.maxSeqLength) });
}

/** @internal Loss and accuracy of a multiple-choice model over batches of features: the validation metrics, and `bert eval`'s. */
export async function evaluateMultipleChoice(model: BertForMultipleChoice, batches: Iterable<Batch>, features: readonly MultipleChoiceFeature[], padId: number): Promise<{ valid_loss: number; accuracy: number }> {
  let lossSum = 0;
  let right = 0;
  let n = 0;
  for (const b of batches) {
    const t = multipleChoiceBatch(b, features, padId);
    const r = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }));
    const pred = F.argmax(r.logits, -1); // (B, N) -> (B)
    await realize(r.loss!, pred);
    const p = await pred.data();
    const labels = t.labels.buffer as Int32Array;
    for (let k = 0; k < labels.length; k++) if (p[k] === labels[k]) right++;
    lossSum += (await r.loss!.item()) * labels.length;
    n += labels.length;
  }
  return { valid_loss: lossSum / Math.max(1, n), accuracy: right / Math.max(1, n) };
}

/** Fine-tunes BERT for multiple choice (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneMultipleChoice(o: MultipleChoiceFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneMultipleChoice', o, { task: 1, format: 1, train: 1, valid: 1, model: 1, init: 1, vocab: 1, vocabSize: 1, size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, seed: 1, lowercase: 1, log: 1, outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, batchSize: 1, eps: 1, warmupRatio: 1, noDecay: 1, gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1 });
  return withRunLock(o.outDir, 'finetuneMultipleChoice', () => finetuneMultipleChoiceLocked(o), o.log);
}

async function finetuneMultipleChoiceLocked(o: MultipleChoiceFinetuneOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  if ((o.task ?? 'multiple-choice') !== 'multiple-choice') throw new ArgumentError(`finetuneMultipleChoice: task must be 'multiple-choice', got '${String(o.task)}'`);
  const { saved, init } = beginHeadRun(o, 'multiple-choice', 'finetuneMultipleChoice');
  const data = (saved?.data ?? {
    train: o.train, valid: o.valid, format: o.format, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0,
    batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }) as { train?: string; valid?: string; format?: TableFormat; maxSeqLength: number; seed: number; batchTokens: number; batchSize?: number; init: 'pretrained' | 'random'; model?: string };
  if (!data.train || !data.valid) throw new ArgumentError('finetuneMultipleChoice: give training and validation files (--train, --valid)');
  const seed = data.seed;
  manualSeed(seed);
  const readOpts = data.format ? { format: data.format } : {};
  const trainData = readMultipleChoiceFile(data.train, readOpts);
  const validData = readMultipleChoiceFile(data.valid, readOpts);
  // HF's defaults: a multiple-choice head has one output whatever num_labels says.
  const labelKeys: BertConfigJSON = { num_labels: 2, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } };

  const { tokenizer, config, model } = await buildHeadModel({
    out, o, saved, data, labelKeys, headPrefix: 'classifier.', log,
    vocabTexts: () => trainData.examples.flatMap((e) => [e.context, ...e.choices]),
    build: (c, initialize) => new BertForMultipleChoice(c, { initialize }),
  });
  if (!saved) saveHeadTask(out, { task: 'multiple-choice', config, data }, tokenizer);

  const maxSeqLength = data.maxSeqLength;
  const trainF = multipleChoiceFeatures(trainData.examples, tokenizer, maxSeqLength);
  const validF = multipleChoiceFeatures(validData.examples, tokenizer, maxSeqLength);
  const fields = `${trainData.fields.context}${trainData.fields.header ? ` + ${trainData.fields.header}` : ''}, ${trainData.fields.choices}`;
  const chance = (d: typeof trainData): string => `${(100 / d.numChoices).toFixed(1)}%`;
  log(`data: ${trainF.length} training examples (${trainData.numChoices} choices; fields ${fields}), ${validF.length} validation examples (${validData.numChoices} choices, chance ${chance(validData)}); max ${maxSeqLength} tokens; vocab ${tokenizer.vocabSize}`);

  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  const { batcher } = sequenceBatches(trainF.map(longestChoice), [], { batchTokens: perChoiceBudget(data.batchTokens, trainData.numChoices, maxSeqLength), batchSize: data.batchSize, seed, padId, maxSeqLength });
  const validBatches = multipleChoiceEvalBatches(validF, { batchTokens: data.batchTokens, padId, maxSeqLength });
  const task = batcherTask(batcher, {
    model,
    loss: (b) => {
      const t = multipleChoiceBatch(b, trainF, padId);
      const r = model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels });
      return { loss: r.loss!, tokens: t.tokens };
    },
    validate: async () => {
      const r = await evaluateMultipleChoice(model, validBatches, validF, padId);
      log(`validation: loss ${r.valid_loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(2)}%`);
      return r;
    },
    bestMetric: { name: 'accuracy', higherIsBetter: true },
  });
  const summary = await train(task, { ...finetuneTrainOptions(o, data.init), outDir: out, meta: { task: 'multiple-choice' } });
  const hfDir = await exportBest(out, () => new BertForMultipleChoice(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}
