/**
 * `zhuyi bert eval`: a fine-tuned model scored once on a held-out test file with the metrics (and the
 * code) fine-tuning validates with: accuracy for classification (classify.ts), seqeval entity F1 for NER
 * (ner.ts), SQuAD exact match and F1 for QA (qa.ts), accuracy for multiple choice (multiple-choice.ts). The point is the usual protocol: choose the
 * checkpoint on --valid during fine-tuning, then report the test set once.
 *
 * Settings come from the flags, else from the run folder's zhuyi-bert.json (the same maxSeqLength,
 * columns, doc stride ... as training), else the fine-tuning defaults. Labels are the model's
 * (config id2label), so a test label the model never saw is an error naming the file and line.
 */
import { join } from 'node:path';
import type { Batch } from '../data/batching.js';
import type { BertConfig } from '../models/bert/config.js';
import { labelIds, labelSetOf, readClassificationFile, type ClassificationReadOptions, type LabelSet, type TableFormat } from './data/classify.js';
import { BertForMultipleChoice, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification } from '../models/bert/heads.js';
import { multipleChoiceFeatures, readMultipleChoiceFile } from './data/multiple-choice.js';
import { nerLabelIds, readConllFile } from './data/ner.js';
import type { BertModelClass, BertPreTrainedModel } from '../models/bert/pretrained.js';
import { qaFeatures, readSquadFile } from './data/qa.js';
import { ArgumentError } from '../tensor/errors.js';
import { withProgress } from '../io/progress.js';
import { BertFolderError, findBertFolder, loadBertModel, loadBertTokenizer, type BertFolder } from './folder.js';
import { evaluateMultipleChoice, multipleChoiceEvalBatches } from './multiple-choice.js';
import { evaluateNer, nerExamples } from './ner.js';
import { evaluateQa } from './qa.js';
import { checkSeqLength, evalBatches } from './run.js';
import { encodeClassification, evaluateClassifier } from './classify.js';

/** The batches with a progress bar in a terminal (src/io/progress.ts), counting rows: texts, sentences, windows. */
function scoring(batches: readonly Batch[], what: string): Iterable<Batch> {
  return withProgress(batches, { label: `scoring ${what}`, total: batches.reduce((n, b) => n + b.rows, 0), size: (b) => b.rows });
}

export type BertEvalTask = 'classify' | 'ner' | 'qa' | 'multiple-choice';
export const BERT_EVAL_TASKS: readonly BertEvalTask[] = ['classify', 'ner', 'qa', 'multiple-choice'];

interface EvalCommon {
  /** A run folder of `zhuyi bert finetune` (its hf/ is loaded) or a Hugging Face folder. */
  model: string;
  /** The test file, in the task's training format. */
  test: string;
  /** Longest input in tokens (default: the run's, else 128; qa 384), at most max_position_embeddings. */
  maxSeqLength?: number;
  /** Token budget of a batch (default: the run's, else 4096). Only speed and memory depend on it. */
  batchTokens?: number;
  /** Receives a warning when the checkpoint lacks head weights. */
  warn?: (message: string) => void;
}

export type BertEvalOptions =
  | (EvalCommon & { task: 'classify' } & Omit<ClassificationReadOptions, 'requireLabel'>)
  | (EvalCommon & { task: 'ner'; tokenColumn?: number; labelColumn?: number })
  | (EvalCommon & { task: 'qa'; docStride?: number; maxAnswerLength?: number; nBestSize?: number })
  | (EvalCommon & { task: 'multiple-choice'; format?: TableFormat });

export interface BertEvalResult {
  task: BertEvalTask;
  /** The HF folder that was loaded. */
  hfDir: string;
  test: string;
  /** Examples scored: texts, sentences or questions. */
  examples: number;
  /**
   * classify: loss, accuracy, correct. ner: loss, precision, recall, f1 (entity level, seqeval),
   * accuracy (words), f1_TYPE per entity type. qa: loss, exact_match, f1 (0..100, official SQuAD v1.1).
   * multiple-choice: loss, accuracy, correct.
   */
  metrics: Record<string, number>;
  /** The settings used (maxSeqLength, batchTokens, columns, docStride ...), for the report. */
  settings: Record<string, string | number | boolean>;
  /** What the reader or the encoder changed (IOB1 tags read as BIO, words cut by maxSeqLength ...). */
  notes: string[];
}

/** The head each task scores. */
export const HEAD_OF: Record<BertEvalTask, string> = {
  classify: 'BertForSequenceClassification', ner: 'BertForTokenClassification', qa: 'BertForQuestionAnswering', 'multiple-choice': 'BertForMultipleChoice',
};

/** The eval task of a fine-tuned architecture (null for the others). */
export function evalTaskOf(architecture: string | null): BertEvalTask | null {
  return BERT_EVAL_TASKS.find((t) => HEAD_OF[t] === architecture) ?? null;
}

function evalHint(architecture: string): string | undefined {
  const task = evalTaskOf(architecture);
  return task ? `for this model use --task ${task}` : `bert eval scores ${BERT_EVAL_TASKS.map((t) => HEAD_OF[t]).join(', ')} (fine-tuned models)`;
}

/** The model's labels in id order; HF's default names (LABEL_k) read test labels written as k. */
function modelLabels(config: BertConfig, fileLabels: readonly string[], notes: string[]): LabelSet {
  const K = config.numLabels;
  const labels = Array.from({ length: K }, (_, k) => config.id2label[k] ?? `LABEL_${k}`);
  const defaults = labels.every((l, k) => l === `LABEL_${k}`);
  if (defaults && fileLabels.length && fileLabels.every((l) => /^\d+$/.test(l) && Number(l) < K)) {
    notes.push(`the model's labels are HF's defaults LABEL_0..LABEL_${K - 1}; test label k is read as LABEL_k`);
    return labelSetOf(labels.map((_, k) => String(k)));
  }
  return labelSetOf(labels);
}

/** The run's setting `key` when the run was of this task. */
function runSetting<T>(folder: BertFolder, task: BertEvalTask, key: string): T | undefined {
  return folder.run?.task === task ? (folder.run.data[key] as T | undefined) : undefined;
}

/** Scores a fine-tuned model on a test file (see the file comment). */
export async function evaluateBert(o: BertEvalOptions): Promise<BertEvalResult> {
  const who = 'bert eval';
  if (!BERT_EVAL_TASKS.includes(o.task)) throw new ArgumentError(`${who}: task must be ${BERT_EVAL_TASKS.join(', ')}, got '${String(o.task)}'`);
  const folder = findBertFolder(o.model, who);
  const tokenizer = loadBertTokenizer(folder);
  const config = folder.config;
  const notes: string[] = [];
  const positions = config.maxPositionEmbeddings;
  const explicit = o.maxSeqLength;
  if (explicit !== undefined && explicit > positions) throw new ArgumentError(`${who}: maxSeqLength ${explicit} exceeds the model's max_position_embeddings ${positions}`);
  const maxSeqLength = checkSeqLength(Math.min(explicit ?? runSetting<number>(folder, o.task, 'maxSeqLength') ?? (o.task === 'qa' ? 384 : 128), positions));
  const batchTokens = o.batchTokens ?? runSetting<number>(folder, o.task, 'batchTokens') ?? 4096;
  if (!Number.isInteger(batchTokens) || batchTokens < maxSeqLength) throw new ArgumentError(`${who}: batchTokens must be an integer of at least maxSeqLength (${maxSeqLength}), got ${batchTokens}`);
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  const batchOptions = { batchTokens, padId, maxSeqLength };
  const settings: Record<string, string | number | boolean> = { maxSeqLength, batchTokens };
  const load = <T extends BertPreTrainedModel>(cls: BertModelClass<T>): Promise<T> =>
    loadBertModel(folder, `${who} --task ${o.task}`, { accepts: [cls], hint: evalHint, ...(o.warn ? { warn: o.warn } : {}) });
  const base = { task: o.task, hfDir: folder.hfDir, test: o.test, settings, notes };

  if (o.task === 'classify') {
    if (config.problemType === 'regression' || config.problemType === 'multi_label_classification' || config.numLabels < 2) {
      throw new BertFolderError(`${who}: ${join(folder.hfDir, 'config.json')}: a ${config.problemType ?? 'regression'} head (num_labels ${config.numLabels}); bert eval scores single-label classification by accuracy`);
    }
    const readOpts: ClassificationReadOptions = {};
    for (const k of ['format', 'textColumn', 'textPairColumn', 'labelColumn', 'header'] as const) {
      const v = o[k] ?? runSetting(folder, 'classify', k);
      if (v !== undefined && v !== null) {
        (readOpts as Record<string, unknown>)[k] = v;
        settings[k] = v as string | boolean;
      }
    }
    const model = await load(BertForSequenceClassification);
    const data = readClassificationFile(o.test, readOpts);
    const labels = labelIds(data, modelLabels(config, [...new Set(data.examples.map((e) => e.label))], notes));
    const examples = encodeClassification(data, labels, tokenizer, maxSeqLength);
    const r = await evaluateClassifier(model, scoring(evalBatches(examples.map((e) => e.ids), batchOptions), 'texts'), examples);
    const n = examples.length;
    return { ...base, examples: n, metrics: { loss: r.valid_loss, accuracy: r.accuracy, correct: Math.round(r.accuracy * n) } };
  }

  if (o.task === 'ner') {
    const tokenColumn = o.tokenColumn ?? runSetting<number>(folder, 'ner', 'tokenColumn') ?? 0;
    const labelColumn = o.labelColumn ?? runSetting<number>(folder, 'ner', 'labelColumn') ?? -1;
    Object.assign(settings, { tokenColumn, labelColumn });
    const model = await load(BertForTokenClassification);
    const data = readConllFile(o.test, { tokenColumn, labelColumn });
    const labelSet = modelLabels(config, [], notes);
    const examples = nerExamples(data.sentences, nerLabelIds(data, labelSet), tokenizer, maxSeqLength);
    const cut = examples.reduce((n, e) => n + e.truncatedWords, 0);
    if (data.converted) notes.push(`IOB1 read as BIO: ${data.converted} I- tags became B-`);
    if (cut) notes.push(`maxSeqLength ${maxSeqLength} cuts ${cut} words (counted as predicted O)`);
    const { valid_loss, ...rest } = await evaluateNer(model, scoring(evalBatches(examples.map((e) => e.ids), batchOptions), 'sentences'), examples, labelSet.labels);
    return { ...base, examples: examples.length, metrics: { loss: valid_loss, ...rest } };
  }

  if (o.task === 'multiple-choice') {
    const format = o.format ?? runSetting<TableFormat>(folder, 'multiple-choice', 'format');
    if (format) settings.format = format;
    const model = await load(BertForMultipleChoice);
    const features = multipleChoiceFeatures(readMultipleChoiceFile(o.test, format ? { format } : {}).examples, tokenizer, maxSeqLength);
    const r = await evaluateMultipleChoice(model, scoring(multipleChoiceEvalBatches(features, batchOptions), 'examples'), features, padId);
    const n = features.length;
    return { ...base, examples: n, metrics: { loss: r.valid_loss, accuracy: r.accuracy, correct: Math.round(r.accuracy * n) } };
  }

  // Without a setting, fine-tuning's 128, lowered as the answer pipeline does for short windows.
  const docStride = o.docStride ?? runSetting<number>(folder, 'qa', 'docStride') ?? Math.min(128, Math.floor(maxSeqLength / 2));
  const maxAnswerLength = o.maxAnswerLength ?? runSetting<number>(folder, 'qa', 'maxAnswerLength') ?? 30;
  const nBestSize = o.nBestSize ?? runSetting<number>(folder, 'qa', 'nBestSize') ?? 20;
  if (!Number.isInteger(docStride) || docStride < 0 || docStride >= maxSeqLength) throw new ArgumentError(`${who}: docStride must be an integer in [0, maxSeqLength ${maxSeqLength}), got ${docStride}`);
  for (const [k, v] of [['maxAnswerLength', maxAnswerLength], ['nBestSize', nBestSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${who}: ${k} must be a positive integer, got ${v}`);
  }
  Object.assign(settings, { docStride, maxAnswerLength, nBestSize });
  const model = await load(BertForQuestionAnswering);
  const data = readSquadFile(o.test);
  const { features, skipped, strideLowered } = qaFeatures(data.examples, tokenizer, { maxSeqLength, docStride });
  if (skipped.length) notes.push(`${skipped.length} questions fill maxSeqLength alone and are scored as unanswered`);
  if (strideLowered) notes.push(`doc stride lowered for ${strideLowered} long questions`);
  const { valid_loss, exact_match, f1 } = await evaluateQa(model, scoring(evalBatches(features.map((f) => f.ids), batchOptions), 'windows'), features, data.examples, { maxAnswerLength, nBestSize });
  return { ...base, examples: data.examples.length, metrics: { loss: valid_loss, exact_match, f1 } };
}
