/**
 * The one fine-tuning skeleton every BERT task runs on (classify.ts, ner.ts, qa.ts,
 * multiple-choice.ts supply a `FinetuneTask`; pretraining has its own loop in pretrain.ts):
 *
 *   1. the run folder: refuse to overwrite a run unless --resume, read zhuyi-bert.json on resume;
 *   2. the data settings (saved on the first run, read back on resume) and the seed;
 *   3. the task reads its files: the head's label keys, the texts a new vocabulary would learn from;
 *   4. tokenizer, config and model: from the saved run, from a pretrained HF folder (a head of
 *      another shape is not reused), or from a size preset with a vocabulary given or trained here;
 *   5. the task builds its features, batches, loss and validation;
 *   6. the shared trainer (HF Trainer's defaults for a pretrained start, the preset's from scratch);
 *   7. the best checkpoint exported as an HF folder (outDir/hf).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { readBertFolder, type BertPreTrainedModel } from '../models/bert/pretrained.js';
import { ArgumentError } from '../tensor/errors.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { trainWordPiece } from '../text/bert/trainer.js';
import { batcherTask, type BatchTaskParts } from '../train/batcher-task.js';
import type { Batch, BucketBatcher } from '../data/batching.js';
import * as F from '../ops/functional.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { withRunLock } from '../train/lock.js';
import { LAST, train } from '../train/trainer.js';
import { type OptionKeys } from '../tensor/options.js';
import { finetuneTrainOptions } from './recipe.js';
import {
  BERT_COMMON_KEYS, BertTaskError, TASK_FILE, TOKENIZER_DIR, bertPreset, bestMetricsOf, checkModelFits, exportBest, loadForTraining, tokenizerFromVocab,
  type BertRunResult, type FinetuneSourceOptions,
} from './run.js';

/** Every option the fine-tuning runs share (each task's checkOptions adds its own). */
export const FINETUNE_SOURCE_KEYS: OptionKeys<FinetuneSourceOptions> = { ...BERT_COMMON_KEYS, train: 1, valid: 1, model: 1, init: 1, vocab: 1, vocabSize: 1 };

/** @deprecated The options every fine-tuning run shares: use FinetuneSourceOptions. */
export type HeadFinetuneOptions = FinetuneSourceOptions;

/** The fine-tuning tasks. */
export type FinetuneTaskName = 'classify' | 'ner' | 'qa' | 'multiple-choice';

/** What zhuyi-bert.json holds for a fine-tuning run. */
export interface SavedFinetune {
  task: FinetuneTaskName;
  config: BertConfigJSON;
  /** Every data setting the run needs again on --resume. */
  data: Record<string, unknown>;
  labels?: string[];
}

/** The data settings every fine-tuning run has (a task adds its own). */
export interface RunData {
  train?: string;
  valid?: string;
  maxSeqLength: number;
  seed: number;
  batchTokens: number;
  batchSize?: number;
  init: 'pretrained' | 'random';
  model?: string;
}

/** What a task learns from its files before the model exists. */
export interface TaskFiles {
  /** num_labels, id2label, label2id (and problem_type) of the head. */
  labelKeys: BertConfigJSON;
  /** Label names saved in zhuyi-bert.json (resume keeps their order). */
  labels?: string[];
  /** Texts a new WordPiece vocabulary is trained on (random init without a vocab). */
  vocabTexts: () => string[];
}

/** What a task hands the trainer once the tokenizer and model exist: its batches, loss and validation. */
export type TaskTraining = { batcher: BucketBatcher } & Omit<BatchTaskParts, 'model'>;

/** One fine-tuning task: its name, its data settings, its files, its head and its training pieces. */
export interface FinetuneTask<O extends FinetuneSourceOptions, M extends BertPreTrainedModel, D extends RunData, R extends TaskFiles> {
  task: FinetuneTaskName;
  /** The public function's name, for errors. */
  fn: string;
  /** The run's data settings from the options (maxSeqLength checked). */
  data: (o: O, init: 'pretrained' | 'random') => D;
  /** Checks the task's own settings (on a new run and on resume). */
  check?: (data: D) => void;
  /** Reads the files. `labels` are the saved label names on resume. */
  read: (data: D, labels: string[] | undefined) => R;
  /** Head weights (e.g. 'classifier.') taken from a pretrained folder only when their shapes fit. */
  headPrefix: string;
  build: (config: BertConfig, initialize: boolean) => M;
  /** Features, batches, loss and validation. */
  prepare: (ctx: { data: D; files: R; tokenizer: BertTokenizer; model: M; log: (line: string) => void }) => TaskTraining;
}

/** Runs a fine-tuning task into `o.outDir` (or continues it with `o.resume`), under the folder's run lock. */
export async function finetune<O extends FinetuneSourceOptions & { task?: string }, M extends BertPreTrainedModel, D extends RunData, R extends TaskFiles>(
  o: O, spec: FinetuneTask<O, M, D, R>,
): Promise<BertRunResult> {
  return withRunLock(o.outDir, spec.fn, () => run(o, spec), o.log);
}

async function run<O extends FinetuneSourceOptions & { task?: string }, M extends BertPreTrainedModel, D extends RunData, R extends TaskFiles>(
  o: O, spec: FinetuneTask<O, M, D, R>,
): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  if ((o.task ?? spec.task) !== spec.task) throw new ArgumentError(`${spec.fn}: task must be '${spec.task}', got '${String(o.task)}'`);
  const { saved, init } = beginRun(o, spec.task, spec.fn);
  const data = (saved?.data as D | undefined) ?? spec.data(o, init);
  if (!data.train || !data.valid) throw new ArgumentError(`${spec.fn}: give training and validation files (--train, --valid)`);
  spec.check?.(data);
  manualSeed(data.seed);
  const files = spec.read(data, saved?.labels);
  const { tokenizer, config, model } = await buildModel(o, out, saved, data, files, spec, log);
  if (!saved) {
    tokenizer.savePretrained(join(out, TOKENIZER_DIR));
    const task: SavedFinetune = { task: spec.task, config, data: data as unknown as Record<string, unknown>, ...(files.labels ? { labels: files.labels } : {}) };
    writeFileAtomic(join(out, TASK_FILE), `${JSON.stringify(task, null, 2)}\n`);
  }
  const { batcher, ...parts } = spec.prepare({ data, files, tokenizer, model, log });
  const task = batcherTask(batcher, { model, ...parts });
  const summary = await train(task, { ...finetuneTrainOptions(o, data.init), outDir: out, meta: { task: spec.task } });
  const hfDir = await exportBest(out, () => spec.build(new BertConfig(config), false), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}

const TASK_NAMES: Record<FinetuneTaskName, string> = {
  classify: 'classification', ner: 'named-entity recognition', qa: 'question answering', 'multiple-choice': 'multiple choice',
};

/** Checks the run folder and the init choice; reads zhuyi-bert.json on resume. */
function beginRun(o: FinetuneSourceOptions, kind: FinetuneTaskName, fn: string): { saved: SavedFinetune | null; init: 'pretrained' | 'random' } {
  const out = o.outDir;
  if (!o.resume && existsSync(join(out, LAST))) throw new BertTaskError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });
  let saved: SavedFinetune | null = null;
  if (o.resume) {
    const path = join(out, TASK_FILE);
    if (!existsSync(path)) throw new BertTaskError(`${path}: nothing to resume (no ${TASK_FILE}; was the run started in this folder?)`);
    try {
      saved = JSON.parse(readFileSync(path, 'utf8')) as SavedFinetune;
    } catch (e) {
      throw new BertTaskError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    if (saved.task !== kind) throw new BertTaskError(`${path}: this folder holds a '${saved.task}' run, not ${TASK_NAMES[kind]}`);
  }
  const init = o.init ?? (o.model ? 'pretrained' : 'random');
  if (!saved && init === 'pretrained' && !o.model) throw new ArgumentError(`${fn}: init pretrained needs a model folder (--model DIR), or use init random with a size preset`);
  if (!saved && init === 'random' && o.model) throw new ArgumentError(`${fn}: give either a model folder (pretrained init) or init random, not both`);
  return { saved, init };
}

/** The tokenizer, the config and the model of a run: saved (resume), from a pretrained folder, or from a size preset. */
async function buildModel<M extends BertPreTrainedModel>(
  o: FinetuneSourceOptions, out: string, saved: SavedFinetune | null, data: RunData, files: TaskFiles,
  spec: { headPrefix: string; build: (config: BertConfig, initialize: boolean) => M }, log: (line: string) => void,
): Promise<{ tokenizer: BertTokenizer; config: BertConfigJSON; model: M }> {
  const lowercase = o.lowercase ?? true;
  let tokenizer: BertTokenizer;
  let config: BertConfigJSON;
  let pretrained: Map<string, Tensor> | null = null;
  if (saved) {
    tokenizer = BertTokenizer.fromPretrained(join(out, TOKENIZER_DIR));
    config = saved.config;
  } else if (data.init === 'pretrained') {
    const folder = readBertFolder(data.model!);
    tokenizer = BertTokenizer.fromPretrained(data.model!);
    // A fine-tuned folder's head settings do not carry over.
    const { architectures: _a, _num_labels: _n, problem_type: _p, ...rest } = folder.config;
    void _a; void _n; void _p;
    config = { ...rest, ...(o.modelOptions ?? {}), ...files.labelKeys };
    pretrained = folder.stateDict;
  } else {
    tokenizer = o.vocab
      ? tokenizerFromVocab(o.vocab, lowercase, data.maxSeqLength)
      : new BertTokenizer(trainWordPiece(files.vocabTexts(), { vocabSize: o.vocabSize ?? 8000, lowercase }), { doLowerCase: lowercase, modelMaxLength: data.maxSeqLength });
    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    config = {
      ...bertPreset(o.size ?? 'tiny'), ...(o.modelOptions ?? {}), vocab_size: tokenizer.vocabSize, pad_token_id: padId,
      max_position_embeddings: Math.max(512, data.maxSeqLength), ...files.labelKeys,
    };
  }
  const bertConfig = new BertConfig(config);
  checkModelFits(bertConfig, tokenizer, data.maxSeqLength);
  const model = spec.build(bertConfig, true);
  if (pretrained) {
    // A head of another shape (a folder fine-tuned for other labels) is not reused.
    const own = model.stateDict();
    const weights = new Map([...pretrained].filter(([k, v]) => !k.startsWith(spec.headPrefix) || (own[k] && own[k]!.shape.join() === v.shape.join())));
    await loadForTraining(model, weights, data.model!, log);
  } else if (!saved) {
    log(`init: random, ${o.size ?? 'tiny'} preset (${bertConfig.numHiddenLayers} layers, hidden ${bertConfig.hiddenSize}), no pretraining`);
  }
  return { tokenizer, config, model };
}

/** The inputs of a head that scores one label per row (sequence classification, multiple choice). */
export interface LabelledBatch { inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor; labels: Tensor }

/** @internal Mean loss and accuracy of a one-label-per-row head over batches: validation's metrics, and `bert eval`'s. */
export async function lossAndAccuracy(
  model: { forward(ids: Tensor, o: { attentionMask: Tensor; tokenTypeIds: Tensor; labels: Tensor }): { logits: Tensor; loss?: Tensor } },
  batches: Iterable<Batch>, tensors: (b: Batch) => LabelledBatch,
): Promise<{ valid_loss: number; accuracy: number }> {
  let lossSum = 0;
  let right = 0;
  let n = 0;
  for (const b of batches) {
    const t = tensors(b);
    const r = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }));
    const pred = F.argmax(r.logits, -1); // (B, C) or (B, N) -> (B)
    await realize(r.loss!, pred);
    const p = await pred.data();
    const labels = t.labels.buffer as Int32Array;
    for (let k = 0; k < labels.length; k++) if (p[k] === labels[k]) right++;
    lossSum += (await r.loss!.item()) * labels.length;
    n += labels.length;
  }
  return { valid_loss: lossSum / Math.max(1, n), accuracy: right / Math.max(1, n) };
}
