/**
 * BERT fine-tuning for named-entity recognition (token classification) on the shared trainer, as
 * Hugging Face's run_ner: CoNLL-2003 style files (src/models/bert/ner-data.ts), each word's label on
 * its first WordPiece (-100 on the rest), BertForTokenClassification's cross-entropy, and validation
 * by seqeval's entity-level precision / recall / F1 (default mode) over every word of the validation
 * file (a word cut by maxSeqLength counts as predicted O). The best checkpoint (by entity F1) is
 * exported as an HF folder that `BertForTokenClassification.fromPretrained` and the tokenClassify
 * pipeline read. The run folder is laid out as tasks.ts describes; `resume` continues it exactly;
 * the run scaffolding it shares with qa.ts and multiple-choice.ts is head-run.ts.
 */
import { batcherTask } from '../train/batcher-task.js';
import type { Batch } from '../data/batching.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { labelSetOf, type LabelSet } from '../models/bert/finetune-data.js';
import { BertForTokenClassification } from '../models/bert/heads.js';
import {
  NER_IGNORE_INDEX, alignNerWords, entityType, nerLabelIds, nerLabelSet, readConllFile, seqevalScores, type NerFeature, type NerSentence,
} from '../models/bert/ner-data.js';
import * as F from '../ops/functional.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { manualSeed } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import type { BertTokenizer } from '../text/bert/tokenizer.js';
import { train } from '../train/trainer.js';
import { finetuneTrainOptions } from './recipe.js';
import { beginHeadRun, buildHeadModel, saveHeadTask, type HeadFinetuneOptions } from './head-run.js';
import { BertTaskError, attentionMask, bestMetricsOf, checkSeqLength, exportBest, sequenceBatches, type BertRunResult } from './tasks.js';
import { withRunLock } from '../train/lock.js';
import { checkOptions } from '../tensor/options.js';

export interface NerFinetuneOptions extends HeadFinetuneOptions {
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

/** Fine-tunes BERT for named-entity recognition (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneNer(o: NerFinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneNer', o, { task: 1, tokenColumn: 1, labelColumn: 1, train: 1, valid: 1, model: 1, init: 1, vocab: 1, vocabSize: 1, size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, seed: 1, lowercase: 1, log: 1, outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, batchSize: 1, eps: 1, warmupRatio: 1, noDecay: 1, gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1 });
  return withRunLock(o.outDir, 'finetuneNer', () => finetuneNerLocked(o), o.log);
}

async function finetuneNerLocked(o: NerFinetuneOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  if ((o.task ?? 'ner') !== 'ner') throw new ArgumentError(`finetuneNer: task must be 'ner', got '${String(o.task)}'`);
  const { saved, init } = beginHeadRun(o, 'ner', 'finetuneNer');
  const data = (saved?.data ?? {
    train: o.train, valid: o.valid, tokenColumn: o.tokenColumn ?? 0, labelColumn: o.labelColumn ?? -1,
    maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize, init, model: o.model,
  }) as { train?: string; valid?: string; tokenColumn: number; labelColumn: number; maxSeqLength: number; seed: number; batchTokens: number; batchSize?: number; init: 'pretrained' | 'random'; model?: string };
  if (!data.train || !data.valid) throw new ArgumentError('finetuneNer: give training and validation files (--train, --valid)');
  const seed = data.seed;
  manualSeed(seed);
  const readOpts = { tokenColumn: data.tokenColumn, labelColumn: data.labelColumn };
  const trainData = readConllFile(data.train, readOpts);
  const validData = readConllFile(data.valid, readOpts);
  const labelSet: LabelSet = saved?.labels ? labelSetOf(saved.labels) : nerLabelSet(trainData.sentences);
  if (labelSet.labels.length < 3) throw new BertTaskError(`${data.train}: no entities (every label is O); NER needs B-TYPE / I-TYPE labels`);
  const trainIds = nerLabelIds(trainData, labelSet);
  const validIds = nerLabelIds(validData, labelSet);
  const labelKeys: BertConfigJSON = { num_labels: labelSet.labels.length, id2label: labelSet.id2label, label2id: labelSet.label2id };

  const { tokenizer, config, model } = await buildHeadModel({
    out, o, saved, data, labelKeys, headPrefix: 'classifier.', log,
    vocabTexts: () => trainData.sentences.map((s) => s.tokens.join(' ')),
    build: (c, initialize) => new BertForTokenClassification(c, { initialize }),
  });
  if (!saved) saveHeadTask(out, { task: 'ner', config, data, labels: labelSet.labels }, tokenizer);

  const maxSeqLength = data.maxSeqLength;
  const cache = new Map<string, number[]>();
  const allTrain = nerExamples(trainData.sentences, trainIds, tokenizer, maxSeqLength, cache);
  // A sentence with no labelled piece (words without tokens) would give an empty loss.
  const trainEx = allTrain.filter((e) => e.labels.some((l) => l !== NER_IGNORE_INDEX));
  const validEx = nerExamples(validData.sentences, validIds, tokenizer, maxSeqLength, cache);
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
  const { batcher, validBatches } = sequenceBatches(trainEx.map((e) => e.ids), validEx.map((e) => e.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed, padId, maxSeqLength });
  const task = batcherTask(batcher, {
    model,
    loss: (b) => {
      const t = nerBatch(b, trainEx);
      const r = model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels });
      return { loss: r.loss!, tokens: b.tokens };
    },
    validate: async () => {
      const r = await evaluateNer(model, validBatches, validEx, labelSet.labels);
      const types = Object.keys(r).filter((k) => k.startsWith('f1_')).map((k) => `${k.slice(3)} ${(100 * r[k as `f1_${string}`]).toFixed(1)}`).join(', ');
      log(`validation: loss ${r.valid_loss.toFixed(4)}, entity F1 ${(100 * r.f1).toFixed(2)}% (precision ${(100 * r.precision).toFixed(2)}%, recall ${(100 * r.recall).toFixed(2)}%; ${types}), token accuracy ${(100 * r.accuracy).toFixed(2)}%`);
      return r;
    },
    bestMetric: { name: 'f1', higherIsBetter: true },
  });
  const summary = await train(task, { ...finetuneTrainOptions(o, data.init), outDir: out, meta: { task: 'ner' } });
  const hfDir = await exportBest(out, () => new BertForTokenClassification(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}
