/**
 * BERT fine-tuning for named-entity recognition (token classification) on the shared trainer, as
 * Hugging Face's run_ner: CoNLL-2003 style files (src/bert/data/ner.ts), each word's label on
 * its first WordPiece (-100 on the rest), BertForTokenClassification's cross-entropy, and validation
 * by seqeval's entity-level precision / recall / F1 (default mode) over every word of the validation
 * file (a word cut by maxSeqLength counts as predicted O). The best checkpoint (by entity F1) is
 * exported as an HF folder that `BertForTokenClassification.fromPretrained` and the tokenClassify
 * pipeline read. The run folder is laid out as run.ts describes; `resume` continues it exactly;
 * the fine-tuning skeleton it runs on is finetune.ts.
 */
import type { Batch } from '../data/batching.js';
import { labelSetOf, type LabelSet } from './data/classify.js';
import { BertForTokenClassification } from '../models/bert/heads.js';
import {
  NER_IGNORE_INDEX, alignNerWords, entityType, nerLabelIds, nerLabelSet, readConllFile, seqevalScores, type NerFeature, type NerSentence,
} from './data/ner.js';
import * as F from '../ops/functional.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import type { BertTokenizer } from '../text/bert/tokenizer.js';
import { FINETUNE_SOURCE_KEYS, finetune, type FinetuneTask, type RunData, type TaskFiles } from './finetune.js';
import { BertTaskError, attentionMask, checkSeqLength, sequenceBatches, type BertRunResult, type FinetuneSourceOptions } from './run.js';
import { checkOptions } from '../tensor/options.js';

export interface NerFinetuneOptions extends FinetuneSourceOptions {
  task?: 'ner';
  /** 0-based column of the token (default 0). */
  tokenColumn?: number;
  /** 0-based column of the label, negative from the end (default -1: the last). */
  labelColumn?: number;
}

// ---- NER -----------------------------------------------------------------------------------------

/** @internal A sentence aligned with its WordPieces, with its gold word labels (what seqeval scores against). */
export interface NerExample extends NerFeature { gold: string[] }

/** @internal Aligns sentences (and their label ids) with WordPieces as training and validation do; `cache` maps word -> ids. */
export function nerExamples(sentences: readonly NerSentence[], ids: readonly number[][], tokenizer: BertTokenizer, maxSeqLength: number, cache = new Map<string, number[]>()): NerExample[] {
  return sentences.map((s, k) => ({ ...alignNerWords(s.tokens, ids[k]!, tokenizer, maxSeqLength, cache), gold: s.labels }));
}

/** The tensors of a token-classification batch (the batcher already padded the ids); labels -100 on padding. */
function nerBatch(batch: Batch, examples: readonly NerFeature[]): { inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor; labels: Tensor; targets: number } {
  const { rows: B, sourceLength: S } = batch;
  const labels = new Int32Array(B * S).fill(NER_IGNORE_INDEX);
  let targets = 0;
  batch.indices.forEach((i, b) => {
    const l = examples[i]!.labels;
    labels.set(l, b * S);
    for (const x of l) if (x !== NER_IGNORE_INDEX) targets++;
  });
  return {
    inputIds: Tensor.fromBuffer(batch.source, [B, S]), attentionMask: attentionMask(batch.sourceLengths, S),
    tokenTypeIds: Tensor.fromBuffer(new Int32Array(B * S), [B, S]), labels: Tensor.fromBuffer(labels, [B, S]), targets,
  };
}

export type NerEvaluation = {
  valid_loss: number;
  /** seqeval, micro-averaged over entities. */
  precision: number;
  recall: number;
  f1: number;
  /** Token (word) accuracy. */
  accuracy: number;
} & {
  /** Entity F1 per type, keyed f1_TYPE. */
  [perType: `f1_${string}`]: number;
};

/** @internal Validation of a token classifier (and `bert eval`'s): loss over the labelled pieces, and seqeval over every word (first-piece predictions). */
export async function evaluateNer(model: BertForTokenClassification, batches: Iterable<Batch>, examples: readonly NerExample[], labels: readonly string[]): Promise<NerEvaluation> {
  let lossSum = 0;
  let targets = 0;
  const pred: string[][] = examples.map((e) => e.gold.map(() => 'O'));
  for (const b of batches) {
    const t = nerBatch(b, examples);
    const r = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }));
    const argmax = F.argmax(r.logits, -1); // (B, S)
    await realize(r.loss!, argmax);
    const p = await argmax.data();
    const S = b.sourceLength;
    b.indices.forEach((i, row) => {
      const ws = examples[i]!.wordStarts;
      for (let k = 0; k < ws.length; k++) if (ws[k]! >= 0) pred[i]![k] = labels[p[row * S + ws[k]!]!] ?? 'O';
    });
    if (t.targets > 0) {
      lossSum += (await r.loss!.item()) * t.targets;
      targets += t.targets;
    }
  }
  const s = seqevalScores(examples.map((e) => e.gold), pred);
  const m: NerEvaluation = { valid_loss: targets ? lossSum / targets : 0, precision: s.precision, recall: s.recall, f1: s.f1, accuracy: s.accuracy };
  for (const [type, v] of Object.entries(s.perType)) m[`f1_${type}`] = v.f1;
  return m;
}

type NerData = RunData & { tokenColumn: number; labelColumn: number };
type NerFiles = TaskFiles & { trainData: ConllData; validData: ConllData; labelSet: LabelSet; trainIds: number[][]; validIds: number[][] };
type ConllData = ReturnType<typeof readConllFile>;

/** Named-entity recognition on the fine-tuning skeleton (finetune.ts). */
const NER_TASK: FinetuneTask<NerFinetuneOptions, BertForTokenClassification, NerData, NerFiles> = {
  task: 'ner',
  fn: 'finetuneNer',
  headPrefix: 'classifier.',
  data: (o, init) => ({
    train: o.train, valid: o.valid, tokenColumn: o.tokenColumn ?? 0, labelColumn: o.labelColumn ?? -1,
    maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }),
  read: (data, saved) => {
    const readOpts = { tokenColumn: data.tokenColumn, labelColumn: data.labelColumn };
    const trainData = readConllFile(data.train!, readOpts);
    const validData = readConllFile(data.valid!, readOpts);
    const labelSet: LabelSet = saved ? labelSetOf(saved) : nerLabelSet(trainData.sentences);
    if (labelSet.labels.length < 3) throw new BertTaskError(`${data.train}: no entities (every label is O); NER needs B-TYPE / I-TYPE labels`);
    return {
      trainData, validData, labelSet, trainIds: nerLabelIds(trainData, labelSet), validIds: nerLabelIds(validData, labelSet), labels: labelSet.labels,
      labelKeys: { num_labels: labelSet.labels.length, id2label: labelSet.id2label, label2id: labelSet.label2id },
      vocabTexts: () => trainData.sentences.map((s) => s.tokens.join(' ')),
    };
  },
  build: (c, initialize) => new BertForTokenClassification(c, { initialize }),
  prepare: ({ data, files, tokenizer, model, log }) => {
    const { trainData, validData, labelSet } = files;
    const maxSeqLength = data.maxSeqLength;
    const cache = new Map<string, number[]>();
    const allTrain = nerExamples(trainData.sentences, files.trainIds, tokenizer, maxSeqLength, cache);
    // A sentence with no labelled piece (words without tokens) would give an empty loss.
    const trainEx = allTrain.filter((e) => e.labels.some((l) => l !== NER_IGNORE_INDEX));
    const validEx = nerExamples(validData.sentences, files.validIds, tokenizer, maxSeqLength, cache);
    const entities = (sentences: typeof trainData.sentences): string => {
      const c = new Map<string, number>();
      for (const s of sentences) for (const l of s.labels) if (l.startsWith('B-')) c.set(entityType(l)!, (c.get(entityType(l)!) ?? 0) + 1);
      return [...c].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => `${t} ${n}`).join(', ');
    };
    const cut = (ex: NerExample[]): number => ex.reduce((n, e) => n + e.truncatedWords, 0);
    const words = (d: typeof trainData): number => d.sentences.reduce((n, s) => n + s.tokens.length, 0);
    log(`data: ${trainEx.length} training sentences (${words(trainData)} words; entities ${entities(trainData.sentences)}), ${validEx.length} validation sentences (${words(validData)} words; entities ${entities(validData.sentences)}); labels ${labelSet.labels.join(' ')}; vocab ${tokenizer.vocabSize}`);
    const notes: string[] = [];
    if (trainData.converted + validData.converted) notes.push(`IOB1 read as BIO: ${trainData.converted} training and ${validData.converted} validation I- tags became B-`);
    if (cut(allTrain) + cut(validEx)) notes.push(`maxSeqLength ${maxSeqLength} cuts ${cut(allTrain)} training and ${cut(validEx)} validation words (validation counts them as predicted O)`);
    if (allTrain.length > trainEx.length) notes.push(`${allTrain.length - trainEx.length} training sentences have no token in the vocabulary and are left out`);
    for (const n of notes) log(`note: ${n}`);
    if (trainEx.length === 0) throw new BertTaskError(`${data.train}: no sentence has a token in this vocabulary`);

    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    const { batcher, validBatches } = sequenceBatches(trainEx.map((e) => e.ids), validEx.map((e) => e.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed: data.seed, padId, maxSeqLength });
    return {
      batcher,
      loss: (b) => {
        const t = nerBatch(b, trainEx);
        const r = model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels });
        return { loss: r.loss!, tokens: b.tokens };
      },
      validate: async () => {
        const r = await evaluateNer(model, validBatches, validEx, labelSet.labels);
        const types = Object.keys(r).filter((k) => k.startsWith('f1_')).map((k) => `${k.slice(3)} ${(100 * r[k as `f1_${string}`]!).toFixed(1)}`).join(', ');
        log(`validation: loss ${r.valid_loss.toFixed(4)}, entity F1 ${(100 * r.f1).toFixed(2)}% (precision ${(100 * r.precision).toFixed(2)}%, recall ${(100 * r.recall).toFixed(2)}%; ${types}), token accuracy ${(100 * r.accuracy).toFixed(2)}%`);
        return r;
      },
      bestMetric: { name: 'f1', higherIsBetter: true },
    };
  },
};

/** Fine-tunes BERT for named-entity recognition (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneNer(o: NerFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneNer', o, { task: 1, tokenColumn: 1, labelColumn: 1, ...FINETUNE_SOURCE_KEYS });
  return finetune(o, NER_TASK);
}
