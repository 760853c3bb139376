/**
 * BERT fine-tuning for extractive question answering (SQuAD v1.1) on the shared trainer, as Hugging
 * Face's run_qa: question + context windows (truncation 'only_second', maxSeqLength 384, docStride
 * 128), answer start / end tokens from the offset mapping ([CLS] when a window does not hold the
 * answer), BertForQuestionAnswering's loss (mean of the start and end cross-entropies), and validation
 * by run_qa's post-processing (best start + end logit over every window of a question) scored with
 * the official SQuAD v1.1 exact match and F1. The best checkpoint (by F1) is exported as an HF folder
 * that `BertForQuestionAnswering.fromPretrained` and the answer pipeline read. The run folder is laid
 * out as run.ts describes; `resume` continues it exactly.
 */
import type { Batch } from '../data/batching.js';
import { BertForQuestionAnswering } from '../models/bert/heads.js';
import { bestAnswer, qaFeatures, readSquadFile, squadScores, type QaFeature, type SquadData, type SquadExample } from './data/qa.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { FINETUNE_SOURCE_KEYS, finetune, type FinetuneTask, type RunData, type TaskFiles } from './finetune.js';
import { BertTaskError, attentionMask, checkSeqLength, sequenceBatches, type BertRunResult, type FinetuneSourceOptions } from './run.js';
import { checkOptions } from '../tensor/options.js';

export interface QaFinetuneOptions extends FinetuneSourceOptions {
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

type QaData = RunData & { docStride: number; maxAnswerLength: number; nBestSize: number };
type QaFiles = TaskFiles & { trainData: SquadData; validData: SquadData };

/** Extractive question answering on the fine-tuning skeleton (finetune.ts). */
const QA_TASK: FinetuneTask<QaFinetuneOptions, BertForQuestionAnswering, QaData, QaFiles> = {
  task: 'qa',
  fn: 'finetuneQa',
  headPrefix: 'qa_outputs.',
  data: (o, init) => ({
    train: o.train, valid: o.valid, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 384), docStride: o.docStride ?? 128,
    maxAnswerLength: o.maxAnswerLength ?? 30, nBestSize: o.nBestSize ?? 20, seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }),
  check: (data) => {
    if (!Number.isInteger(data.docStride) || data.docStride < 0 || data.docStride >= data.maxSeqLength) throw new ArgumentError(`docStride must be an integer in [0, maxSeqLength), got ${data.docStride}`);
    for (const k of ['maxAnswerLength', 'nBestSize'] as const) if (!Number.isInteger(data[k]) || data[k] < 1) throw new ArgumentError(`${k} must be a positive integer, got ${data[k]}`);
  },
  read: (data) => {
    const trainData = readSquadFile(data.train!);
    const validData = readSquadFile(data.valid!);
    return {
      trainData, validData,
      labelKeys: { num_labels: 2, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } },
      vocabTexts: () => [...new Set(trainData.examples.map((e) => e.context))].concat(trainData.examples.map((e) => e.question)),
    };
  },
  build: (c, initialize) => new BertForQuestionAnswering(c, { initialize }),
  prepare: ({ data, files: { trainData, validData }, tokenizer, model, log }) => {
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
    const { batcher, validBatches } = sequenceBatches(trainF.map((f) => f.ids), validF.map((f) => f.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed: data.seed, padId, maxSeqLength: data.maxSeqLength });
    return {
      batcher,
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
    };
  },
};

/** Fine-tunes BERT for extractive question answering (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneQa(o: QaFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneQa', o, { task: 1, docStride: 1, maxAnswerLength: 1, nBestSize: 1, ...FINETUNE_SOURCE_KEYS });
  return finetune(o, QA_TASK);
}
