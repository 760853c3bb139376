/**
 * BERT fine-tuning for multiple choice (SWAG and the like) on the shared trainer, as Hugging Face's
 * run_swag: each (context, choice) pair encoded as a sentence pair (src/bert/data/multiple-choice.ts),
 * the N pairs of an example scored together by BertForMultipleChoice (input (B, N, T), one logit per
 * choice from the pooled [CLS]), cross-entropy over the N choices, and validation by accuracy. The
 * best checkpoint (by accuracy) is exported as an HF folder that `BertForMultipleChoice.fromPretrained`
 * reads. The run folder is laid out as run.ts describes; `resume` continues it exactly.
 *
 * Batches are length-bucketed by an example's longest choice; the token budget counts every choice,
 * so a batch holds about batchTokens / (N x padded length) examples.
 */
import type { Batch } from '../data/batching.js';
import { BertForMultipleChoice } from '../models/bert/heads.js';
import type { TableFormat } from './data/classify.js';
import { multipleChoiceFeatures, readMultipleChoiceFile, type MultipleChoiceData, type MultipleChoiceFeature } from './data/multiple-choice.js';
import * as F from '../ops/functional.js';
import { Tensor } from '../tensor/tensor.js';
import { FINETUNE_SOURCE_KEYS, finetune, lossAndAccuracy, type FinetuneTask, type RunData, type TaskFiles } from './finetune.js';
import {
  BertTaskError, attentionMask, checkSeqLength, evalBatches, sequenceBatches, type BertRunResult, type FinetuneSourceOptions,
} from './run.js';
import { checkOptions } from '../tensor/options.js';

export interface MultipleChoiceFinetuneOptions extends FinetuneSourceOptions {
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
  return lossAndAccuracy(model, batches, (b) => multipleChoiceBatch(b, features, padId));
}

type McData = RunData & { format?: TableFormat };
type McFiles = TaskFiles & { trainData: MultipleChoiceData; validData: MultipleChoiceData };

/** Multiple choice on the fine-tuning skeleton (finetune.ts). */
const MULTIPLE_CHOICE_TASK: FinetuneTask<MultipleChoiceFinetuneOptions, BertForMultipleChoice, McData, McFiles> = {
  task: 'multiple-choice',
  fn: 'finetuneMultipleChoice',
  headPrefix: 'classifier.',
  data: (o, init) => ({
    train: o.train, valid: o.valid, format: o.format, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0,
    batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }),
  read: (data) => {
    const readOpts = data.format ? { format: data.format } : {};
    const trainData = readMultipleChoiceFile(data.train!, readOpts);
    const validData = readMultipleChoiceFile(data.valid!, readOpts);
    return {
      trainData, validData,
      // HF's defaults: a multiple-choice head has one output whatever num_labels says.
      labelKeys: { num_labels: 2, id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } },
      vocabTexts: () => trainData.examples.flatMap((e) => [e.context, ...e.choices]),
    };
  },
  build: (c, initialize) => new BertForMultipleChoice(c, { initialize }),
  prepare: ({ data, files: { trainData, validData }, tokenizer, model, log }) => {
    const maxSeqLength = data.maxSeqLength;
    const trainF = multipleChoiceFeatures(trainData.examples, tokenizer, maxSeqLength);
    const validF = multipleChoiceFeatures(validData.examples, tokenizer, maxSeqLength);
    const fields = `${trainData.fields.context}${trainData.fields.header ? ` + ${trainData.fields.header}` : ''}, ${trainData.fields.choices}`;
    const chance = (d: typeof trainData): string => `${(100 / d.numChoices).toFixed(1)}%`;
    log(`data: ${trainF.length} training examples (${trainData.numChoices} choices; fields ${fields}), ${validF.length} validation examples (${validData.numChoices} choices, chance ${chance(validData)}); max ${maxSeqLength} tokens; vocab ${tokenizer.vocabSize}`);

    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    const { batcher } = sequenceBatches(trainF.map(longestChoice), [], { batchTokens: perChoiceBudget(data.batchTokens, trainData.numChoices, maxSeqLength), batchSize: data.batchSize, seed: data.seed, padId, maxSeqLength });
    const validBatches = multipleChoiceEvalBatches(validF, { batchTokens: data.batchTokens, padId, maxSeqLength });
    return {
      batcher,
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
    };
  },
};

/** Fine-tunes BERT for multiple choice (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneMultipleChoice(o: MultipleChoiceFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneMultipleChoice', o, { task: 1, format: 1, ...FINETUNE_SOURCE_KEYS });
  return finetune(o, MULTIPLE_CHOICE_TASK);
}
