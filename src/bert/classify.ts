/**
 * BERT fine-tuning for sequence classification (single sentences and pairs: SST-2, MRPC, ...) on the
 * fine-tuning skeleton (finetune.ts), as Hugging Face's run_glue: each example encoded with
 * truncation to maxSeqLength, BertForSequenceClassification's cross-entropy, validation by accuracy.
 * The best checkpoint (by accuracy) is exported as an HF folder that
 * `BertForSequenceClassification.fromPretrained` and the classify pipeline read.
 */
import type { Batch } from '../data/batching.js';
import {
  buildLabelSet, labelIds, labelSetOf, readClassificationFile,
  type ClassificationData, type ClassificationReadOptions, type LabelSet, type TableFormat,
} from './data/classify.js';
import { BertForSequenceClassification } from '../models/bert/heads.js';
import { checkOptions } from '../tensor/options.js';
import { Tensor } from '../tensor/tensor.js';
import type { BertTokenizer } from '../text/bert/tokenizer.js';
import { FINETUNE_SOURCE_KEYS, finetune, lossAndAccuracy, type FinetuneTask, type RunData, type TaskFiles } from './finetune.js';
import { BertTaskError, attentionMask, checkSeqLength, sequenceBatches, type BertRunResult, type FinetuneSourceOptions } from './run.js';

/** Options of `finetuneBert` (classification). */
export interface FinetuneOptions extends FinetuneSourceOptions, Omit<ClassificationReadOptions, 'requireLabel'> {
  task?: 'classify';
}

/** @internal A classification example as token ids, segment ids and a label id. */
export interface EncodedExample { ids: Int32Array; types: Int32Array; label: number }

/** @internal Encodes a file's examples (pairs included) with truncation to maxSeqLength. */
export function encodeClassification(data: ClassificationData, labels: number[], tokenizer: BertTokenizer, maxSeqLength: number): EncodedExample[] {
  return data.examples.map((e, k) => {
    const enc = tokenizer.encode(e.text, e.textPair ?? null, { maxLength: maxSeqLength, truncation: true });
    return { ids: Int32Array.from(enc.inputIds), types: Int32Array.from(enc.tokenTypeIds), label: labels[k]! };
  });
}

/** The tensors of a classification batch (the batcher already padded the ids). */
function classificationBatch(batch: Batch, examples: readonly EncodedExample[]): { inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor; labels: Tensor } {
  const { rows: B, sourceLength: S } = batch;
  const types = new Int32Array(B * S);
  const labels = new Int32Array(B);
  batch.indices.forEach((i, b) => {
    types.set(examples[i]!.types, b * S);
    labels[b] = examples[i]!.label;
  });
  return { inputIds: Tensor.fromBuffer(batch.source, [B, S]), attentionMask: attentionMask(batch.sourceLengths, S), tokenTypeIds: Tensor.fromBuffer(types, [B, S]), labels: Tensor.fromBuffer(labels, [B]) };
}

type ClassifyData = RunData & { format?: TableFormat; textColumn?: string; textPairColumn?: string; labelColumn?: string; header?: boolean };
type ClassifyFiles = TaskFiles & { trainData: ClassificationData; validData: ClassificationData; labelSet: LabelSet; trainLabels: number[]; validLabels: number[] };

/** Sequence classification on the fine-tuning skeleton. */
const CLASSIFY_TASK: FinetuneTask<FinetuneOptions, BertForSequenceClassification, ClassifyData, ClassifyFiles> = {
  task: 'classify',
  fn: 'finetuneBert',
  headPrefix: 'classifier.',
  data: (o, init) => ({
    train: o.train, valid: o.valid, format: o.format, textColumn: o.textColumn, textPairColumn: o.textPairColumn, labelColumn: o.labelColumn,
    header: o.header, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize,
    init, model: o.model,
  }),
  read: (data, saved) => {
    const readOpts: ClassificationReadOptions = {};
    for (const k of ['format', 'textColumn', 'textPairColumn', 'labelColumn', 'header'] as const) if (data[k] !== undefined) (readOpts as Record<string, unknown>)[k] = data[k];
    const trainData = readClassificationFile(data.train!, readOpts);
    // The validation file uses the columns the training file resolved to.
    const validData = readClassificationFile(data.valid!, {
      ...readOpts, textColumn: trainData.columns.text, labelColumn: trainData.columns.label,
      ...(trainData.columns.textPair !== undefined ? { textPairColumn: trainData.columns.textPair } : {}),
    });
    const labelSet: LabelSet = saved ? labelSetOf(saved) : buildLabelSet(trainData.examples);
    if (labelSet.labels.length < 2) throw new BertTaskError(`${data.train}: one label only (${JSON.stringify(labelSet.labels[0])}); classification needs at least two`);
    return {
      trainData, validData, labelSet, trainLabels: labelIds(trainData, labelSet), validLabels: labelIds(validData, labelSet), labels: labelSet.labels,
      labelKeys: { num_labels: labelSet.labels.length, id2label: labelSet.id2label, label2id: labelSet.label2id, problem_type: 'single_label_classification' },
      vocabTexts: () => trainData.examples.flatMap((e) => (e.textPair === undefined ? [e.text] : [e.text, e.textPair])),
    };
  },
  build: (c, initialize) => new BertForSequenceClassification(c, { initialize }),
  prepare: ({ data, files, tokenizer, model, log }) => {
    const { labelSet, trainLabels } = files;
    const maxSeqLength = data.maxSeqLength;
    const trainEx = encodeClassification(files.trainData, trainLabels, tokenizer, maxSeqLength);
    const validEx = encodeClassification(files.validData, files.validLabels, tokenizer, maxSeqLength);
    const counts = labelSet.labels.map((_, c) => trainLabels.filter((l) => l === c).length);
    log(`data: ${trainEx.length} training, ${validEx.length} validation examples; labels ${labelSet.labels.map((l, c) => `${l} (${counts[c]})`).join(', ')}; vocab ${tokenizer.vocabSize}`);
    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    const { batcher, validBatches } = sequenceBatches(trainEx.map((e) => e.ids), validEx.map((e) => e.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed: data.seed, padId, maxSeqLength });
    return {
      batcher,
      loss: (b) => {
        const t = classificationBatch(b, trainEx);
        const r = model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels });
        return { loss: r.loss!, tokens: b.tokens };
      },
      validate: async () => {
        const r = await evaluateClassifier(model, validBatches, validEx);
        log(`validation: loss ${r.valid_loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(2)}%`);
        return r;
      },
      bestMetric: { name: 'accuracy', higherIsBetter: true },
    };
  },
};

/** Fine-tunes BERT for sequence classification (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneBert(o: FinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneBert', o, { task: 1, format: 1, textColumn: 1, textPairColumn: 1, labelColumn: 1, header: 1, ...FINETUNE_SOURCE_KEYS });
  return finetune(o, CLASSIFY_TASK);
}

/** @internal Loss and accuracy of a classifier over batches of encoded examples: the validation metrics, and `bert eval`'s. */
export async function evaluateClassifier(model: BertForSequenceClassification, batches: Iterable<Batch>, examples: readonly EncodedExample[]): Promise<{ valid_loss: number; accuracy: number }> {
  return lossAndAccuracy(model, batches, (b) => classificationBatch(b, examples));
}
