/**
 * BERT pretraining (MLM + NSP) and fine-tuning (sequence classification) on the shared trainer.
 *
 * A run folder (`outDir`) holds:
 *   zhuyi-bert.json      the task, the model config (HF keys) and the data settings (what --resume reads)
 *   tokenizer/           the tokenizer (HF files: vocab.txt, tokenizer.json, tokenizer_config.json, ...)
 *   last.safetensors     the trainer's latest checkpoint (weights, optimizer, data position, RNG)
 *   best.safetensors     the checkpoint with the best validation metric
 *   log.jsonl            training and validation metrics
 *   hf/                  the best checkpoint as a Hugging Face folder: config.json, model.safetensors
 *                        and the tokenizer files; `BertForPreTraining.fromPretrained(hf)` (pretraining)
 *                        or `BertForSequenceClassification.fromPretrained(hf)` (fine-tuning) reads it,
 *                        and `finetuneBert({ model: hf })` starts from a pretrained one.
 *
 * Batches are length-bucketed (src/data/batching.ts: padded lengths from a small fixed set, rows up
 * to a token budget, a seeded order per epoch), padded, with attention masks. The data position and
 * the masks are resumable: masks are a function of (seed, epoch, instance), see pretraining-data.ts.
 */
import type { BertPreTrainedModel } from '../models/bert/pretrained.js';
import { batcherTask } from '../train/batcher-task.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BucketBatcher, DEFAULT_BUCKETS, type Batch } from '../data/batching.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import {
  buildLabelSet, labelIds, labelSetOf, readClassificationFile, type ClassificationData, type ClassificationReadOptions, type LabelSet, type TableFormat,
} from '../models/bert/finetune-data.js';
import { BertForPreTraining, BertForSequenceClassification } from '../models/bert/heads.js';
import { crossEntropy } from '../models/bert/losses.js';
import { readBertFolder } from '../models/bert/pretrained.js';
import {
  IGNORE_INDEX, PretrainingDataset, createNspInstances, pairIds, readPretrainingCorpus, tokenizeDocuments, type NspInstance,
} from '../models/bert/pretraining-data.js';
import * as F from '../ops/functional.js';
import { ArgumentError, ZhuyiError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Generator, manualSeed } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { trainWordPiece } from '../text/bert/trainer.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { finetuneTrainOptions } from './recipe.js';
import { BEST, LAST, LOG, pickTrainOptions, train, type TrainOptions, type TrainSummary } from '../train/trainer.js';
import { withRunLock } from '../train/lock.js';
import { checkOptions } from '../tensor/options.js';

export class BertTaskError extends ZhuyiError {}

export const BERT_SIZES = ['tiny', 'mini', 'small'] as const;
export type BertSize = (typeof BERT_SIZES)[number];
export const TASK_FILE = 'zhuyi-bert.json';
export const HF_DIR = 'hf';
export const TOKENIZER_DIR = 'tokenizer';

/** Google's compact BERTs (Turc et al. 2019, "Well-Read Students Learn Better"): layers L, hidden H, heads A, FFN I. */
const PRESETS: Record<BertSize, BertConfigJSON> = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
};

/** The config of a size preset (HF keys), dropout 0.1 as BERT; vocab and positions are filled in by the tasks. */
export function bertPreset(size: BertSize): BertConfigJSON {
  const p = PRESETS[size];
  if (!p) throw new ArgumentError(`size must be one of ${BERT_SIZES.join(', ')}, got '${String(size)}'`);
  return { ...p, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12 };
}

/** Options both tasks share (plus the trainer's: epochs, maxSteps, lr, warmup, schedule, clipNorm, resume, saveEvery ...). */
export interface BertCommonOptions extends Omit<TrainOptions, 'meta'> {
  /** Config preset of a model built from scratch (default tiny). */
  size?: BertSize;
  /** Overrides of the model config, HF keys (e.g. { hidden_dropout_prob: 0 }). */
  modelOptions?: BertConfigJSON;
  /** Longest input in tokens, [CLS] and [SEP] included (default 128). */
  maxSeqLength?: number;
  /** Token budget of a batch: rows x padded length (default 4096) ... */
  batchTokens?: number;
  /** ... or this many examples per training batch whatever their length (Hugging Face's batch_size). */
  batchSize?: number;
  /** Seed of the init, the data order, the NSP pairs, the masks and dropout (default 0). */
  seed?: number;
  /** Lowercase text when a tokenizer is built here (default true: uncased). */
  lowercase?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface PretrainOptions extends BertCommonOptions {
  /** One sentence per line, blank lines between documents. */
  corpus: string;
  /**
   * Continue pretraining a Hugging Face BERT folder (its config, weights and tokenizer) on this
   * corpus: domain- or task-adaptive pretraining (Gururangan et al. 2020). Heads it lacks start
   * from the init; `size`, `vocab` and `vocabSize` do not apply.
   */
  model?: string;
  /** An existing vocabulary: a vocab.txt file or a tokenizer folder ... */
  vocab?: string;
  /** ... or the size of a WordPiece vocabulary trained on the corpus (default 8000). */
  vocabSize?: number;
  wholeWordMask?: boolean;
  /** Share of tokens predicted (default 0.15). */
  maskProb?: number;
  /** Google's short_seq_prob (default 0.1). */
  shortSeqProb?: number;
  /** New masks each epoch (default true). */
  dynamicMasking?: boolean;
  /** Share of documents held out for validation (default 0.05; instances when there are fewer than 10 documents). */
  validFraction?: number;
  /** At most this many validation instances (default 2000). */
  maxValidInstances?: number;
}

/** What every fine-tuning run takes besides its data format: its files and where the model comes from. */
export interface FinetuneSourceOptions extends BertCommonOptions {
  /** Training and validation files. */
  train?: string;
  valid?: string;
  /** A Hugging Face BERT folder to start from (pretrained weights, its tokenizer and config). */
  model?: string;
  /** 'pretrained' (from `model`, the default when given) or 'random' (a `size` preset from scratch, the without-pretraining baseline). */
  init?: 'pretrained' | 'random';
  /** init random: a vocab.txt or tokenizer folder; else a WordPiece vocabulary of vocabSize is trained on the training texts. */
  vocab?: string;
  vocabSize?: number;
}

/** Classification fine-tuning: the run's source plus how to read its CSV, TSV or JSONL files. */
export interface FinetuneOptions extends FinetuneSourceOptions, Omit<ClassificationReadOptions, 'requireLabel'> {
  task?: 'classify';
}

/** What a task run returns. */
export interface BertRunResult {
  summary: TrainSummary;
  /** outDir/hf, the best checkpoint as an HF folder; null when no validation has run yet (an early stop). */
  hfDir: string | null;
  /** The validation metrics logged with the best checkpoint. */
  bestMetrics: Record<string, number> | null;
  tokenizer: BertTokenizer;
  config: BertConfigJSON;
}

interface SavedTask {
  task: 'pretrain' | 'classify';
  config: BertConfigJSON;
  /** Every data setting the run needs again on --resume. */
  data: Record<string, unknown>;
  labels?: string[];
}

// ---- shared helpers ------------------------------------------------------------------------------------

/** @internal */
export function checkSeqLength(n: number): number {
  if (!Number.isInteger(n) || n < 8 || n > 4096) throw new ArgumentError(`maxSeqLength must be an integer in [8, 4096], got ${n}`);
  return n;
}

/** Bucket lengths up to maxSeqLength (which is always one), so padding never exceeds it. */
/** @internal */
export function bucketsUpTo(maxSeqLength: number): number[] {
  return [...DEFAULT_BUCKETS.filter((b) => b < maxSeqLength), maxSeqLength];
}

function readSaved(out: string): SavedTask {
  const path = join(out, TASK_FILE);
  if (!existsSync(path)) throw new BertTaskError(`${path}: nothing to resume (no ${TASK_FILE}; was the run started in this folder?)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedTask;
  } catch (e) {
    throw new BertTaskError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function startFolder(out: string, resume: boolean | undefined): void {
  if (!resume && existsSync(join(out, LAST))) throw new BertTaskError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });
}

/** A vocab.txt file, or a folder with vocab.txt / tokenizer.json (and its tokenizer settings). */
/** @internal */
export function tokenizerFromVocab(path: string, lowercase: boolean, maxSeqLength: number): BertTokenizer {
  if (existsSync(join(path, 'vocab.txt')) || existsSync(join(path, 'tokenizer.json'))) return BertTokenizer.fromPretrained(path);
  if (!existsSync(path)) throw new ArgumentError(`vocabulary '${path}' not found (give a vocab.txt file or a tokenizer folder)`);
  const lines = readFileSync(path, 'utf8').replace(/^\ufeff/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return new BertTokenizer(lines.map((l) => l.replace(/\r$/, '')), { doLowerCase: lowercase, modelMaxLength: maxSeqLength });
}

function trainTokenizer(texts: string[], vocabSize: number, lowercase: boolean, maxSeqLength: number): BertTokenizer {
  const vocab = trainWordPiece(texts, { vocabSize, lowercase });
  return new BertTokenizer(vocab, { doLowerCase: lowercase, modelMaxLength: maxSeqLength });
}

/** The validation metrics logged at the best checkpoint's step (from log.jsonl, so resumed runs count too). */
/** @internal */
export function bestMetricsOf(out: string, best: TrainSummary['best']): Record<string, number> | null {
  if (!best || !existsSync(join(out, LOG))) return null;
  let found: Record<string, number> | null = null;
  for (const line of readFileSync(join(out, LOG), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as Record<string, number>;
    if (e.step === best.step && e[best.name] !== undefined) found = e;
  }
  return found;
}

function pct(n: number, of: number): string {
  return `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
}

const asExamples = (seqs: readonly ArrayLike<number>[]) => seqs.map((ids) => ({ source: ids, target: [] as number[] }));

/**
 * @internal Length-bucketed batches of token-id sequences (buckets up to maxSeqLength): the shuffled,
 * resumable training batcher and the validation batches in corpus order.
 */
export function sequenceBatches(
  train: readonly ArrayLike<number>[], valid: readonly ArrayLike<number>[], o: { batchTokens: number; batchSize?: number; seed: number; padId: number; maxSeqLength: number },
): { batcher: BucketBatcher; validBatches: Batch[] } {
  return {
    batcher: new BucketBatcher(asExamples(train), {
      maxTokens: o.batchTokens, seed: o.seed, padId: o.padId, buckets: bucketsUpTo(o.maxSeqLength), ...(o.batchSize !== undefined ? { maxRows: o.batchSize } : {}),
    }),
    validBatches: evalBatches(valid, o),
  };
}

/**
 * @internal The batches validation scores (and `bert eval` on a test file): length-bucketed like
 * training, every sequence once, unshuffled.
 */
export function evalBatches(seqs: readonly ArrayLike<number>[], o: { batchTokens: number; padId: number; maxSeqLength: number }): Batch[] {
  return [...new BucketBatcher(asExamples(seqs), { maxTokens: o.batchTokens, shuffle: false, padId: o.padId, buckets: bucketsUpTo(o.maxSeqLength) }).epochRest()];
}

/** @internal Int32 (B, S) attention mask: 1 on the first length[b] positions of row b. */
export function attentionMask(lengths: Int32Array, S: number): Tensor {
  const m = new Int32Array(lengths.length * S);
  lengths.forEach((n, b) => m.fill(1, b * S, b * S + n));
  return Tensor.fromBuffer(m, [lengths.length, S]);
}

// ---- pretraining -----------------------------------------------------------------------------------------

/** The tensors of one pretraining batch; MLM targets gathered as Google does (positions + labels, padded to a per-length count). */
export interface PretrainingBatchTensors {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds: Tensor;
  /** (B*P) flat indices into the (B*S) token positions; padding entries point at 0 with label -100. */
  mlmPositions: Tensor;
  /** (B*P) original ids, -100 for padding entries. */
  mlmLabels: Tensor;
  /** (B) 0 = B follows A, 1 = random. */
  nextSentenceLabels: Tensor;
  /** The same labels laid out (B, S), -100 off target (what BertForPreTraining.forward takes). */
  labels: Tensor;
  targets: number;
  tokens: number;
}

/** Masks the batch's instances for `epoch` and lays them out as tensors. */
export function pretrainingBatch(ds: PretrainingDataset, indices: readonly number[], epoch: number, padId: number, paddedLength?: number): PretrainingBatchTensors {
  const B = indices.length;
  const longest = Math.max(...indices.map((i) => ds.lengthOf(i)));
  const S = paddedLength ?? longest;
  if (S < longest) throw new ArgumentError(`pretrainingBatch: padded length ${S} is shorter than the longest instance (${longest} tokens)`);
  const P = ds.masker.maxTargetsFor(S);
  const ids = new Int32Array(B * S).fill(padId);
  const types = new Int32Array(B * S);
  const lengths = new Int32Array(B);
  const labels = new Int32Array(B * S).fill(IGNORE_INDEX);
  const positions = new Int32Array(B * P);
  const mlmLabels = new Int32Array(B * P).fill(IGNORE_INDEX);
  const nsp = new Int32Array(B);
  let targets = 0;
  let tokens = 0;
  indices.forEach((i, b) => {
    const ex = ds.example(i, epoch);
    const n = ex.inputIds.length;
    ids.set(ex.inputIds, b * S);
    types.set(ex.tokenTypeIds, b * S);
    labels.set(ex.labels, b * S);
    lengths[b] = n;
    nsp[b] = ex.nextSentenceLabel;
    tokens += n;
    let k = 0;
    for (let t = 0; t < n; t++) {
      if (ex.labels[t] === IGNORE_INDEX) continue;
      if (k >= P) throw new BertTaskError(`pretrainingBatch: instance ${i} has more than ${P} masked tokens (internal bound broken)`);
      positions[b * P + k] = b * S + t;
      mlmLabels[b * P + k] = ex.labels[t]!;
      k++;
    }
    targets += k;
  });
  return {
    inputIds: Tensor.fromBuffer(ids, [B, S]), attentionMask: attentionMask(lengths, S), tokenTypeIds: Tensor.fromBuffer(types, [B, S]),
    mlmPositions: Tensor.fromBuffer(positions, [B * P]), mlmLabels: Tensor.fromBuffer(mlmLabels, [B * P]), nextSentenceLabels: Tensor.fromBuffer(nsp, [B]),
    labels: Tensor.fromBuffer(labels, [B, S]), targets, tokens,
  };
}

/**
 * MLM + NSP loss of a batch, as BertForPreTraining's (mean cross-entropy over the masked tokens plus
 * the NSP cross-entropy), computing the vocabulary projection only at the masked positions.
 */
export function pretrainingLoss(model: BertForPreTraining, t: PretrainingBatchTensors): { loss: Tensor; mlmLoss: Tensor; nspLoss: Tensor; mlmLogits: Tensor; nspLogits: Tensor } {
  const out = model.bert.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds });
  const [B, S, C] = out.lastHiddenState.shape as [number, number, number];
  const picked = F.indexSelect(F.reshape(out.lastHiddenState, [B * S, C]), 0, t.mlmPositions); // (B*S, C) -> (B*P, C)
  const mlmLogits = model.cls.predictions.forward(picked); // (B*P, V)
  const nspLogits = model.cls.seq_relationship.forward(out.poolerOutput!); // (B, 2)
  const mlmLoss = crossEntropy(mlmLogits, t.mlmLabels, IGNORE_INDEX);
  const nspLoss = crossEntropy(nspLogits, t.nextSentenceLabels);
  return { loss: F.add(mlmLoss, nspLoss), mlmLoss, nspLoss, mlmLogits, nspLogits };
}

/**
 * @internal Refuses a config that cannot take the run's inputs: maxSeqLength past its position
 * table, or a tokenizer with more ids than its vocabulary. `model` names the folder in the errors.
 */
export function checkModelFits(config: BertConfig, tokenizer: BertTokenizer, maxSeqLength: number, model?: string): void {
  if (maxSeqLength > config.maxPositionEmbeddings) {
    throw new ArgumentError(`maxSeqLength ${maxSeqLength} exceeds ${model ? `${model}'s` : "the model's"} max_position_embeddings ${config.maxPositionEmbeddings}`);
  }
  if (tokenizer.vocabSize > config.vocabSize) throw new BertTaskError(`${model ? `${model}: ` : ''}the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${config.vocabSize}`);
}

/** @internal Loads a folder's weights into a model about to train, and logs which keys were new or unused. */
export async function loadForTraining(model: BertPreTrainedModel, weights: Map<string, Tensor>, source: string, log: (line: string) => void): Promise<void> {
  const info = await model.loadPretrainedStateDict(weights, source);
  model.train();
  log(`init: ${source} (${info.missingKeys.length} new: ${info.missingKeys.join(', ') || 'none'}; ${info.unexpectedKeys.length} unused checkpoint keys)`);
}

/** Pretrains BERT (MLM + NSP) on a corpus into `outDir` (or continues it with `resume`). */
export async function pretrainBert(o: PretrainOptions): Promise<BertRunResult> {
  o = checkOptions('pretrainBert', o, { corpus: 1, model: 1, vocab: 1, vocabSize: 1, wholeWordMask: 1, maskProb: 1, shortSeqProb: 1, dynamicMasking: 1, validFraction: 1, maxValidInstances: 1, size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, seed: 1, lowercase: 1, log: 1, outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, batchSize: 1, eps: 1, warmupRatio: 1, noDecay: 1, gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1 });
  return withRunLock(o.outDir, 'pretrainBert', () => pretrainBertLocked(o), o.log);
}

async function pretrainBertLocked(o: PretrainOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  startFolder(out, o.resume);
  const saved = o.resume ? readSaved(out) : null;
  if (saved && saved.task !== 'pretrain') throw new BertTaskError(`${join(out, TASK_FILE)}: this folder holds a '${saved.task}' run, not pretraining`);
  const data = (saved?.data ?? {
    corpus: o.corpus, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), wholeWordMask: o.wholeWordMask ?? false, maskProb: o.maskProb ?? 0.15,
    shortSeqProb: o.shortSeqProb ?? 0.1, dynamicMasking: o.dynamicMasking ?? true, validFraction: o.validFraction ?? 0.05,
    maxValidInstances: o.maxValidInstances ?? 2000, seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, model: o.model,
  }) as {
    corpus: string; maxSeqLength: number; wholeWordMask: boolean; maskProb: number; shortSeqProb: number; dynamicMasking: boolean;
    validFraction: number; maxValidInstances: number; seed: number; batchTokens: number; model?: string;
  };
  if (!data.corpus) throw new ArgumentError('pretrainBert: give a corpus file');
  if (!saved && o.model && (o.vocab !== undefined || o.size !== undefined)) {
    throw new ArgumentError('pretrainBert: a model folder brings its own vocabulary and size; give model, or vocab/vocabSize and size, not both');
  }
  const seed = data.seed;
  manualSeed(seed);
  const corpus = readPretrainingCorpus(data.corpus);
  const lowercase = o.lowercase ?? true;
  let tokenizer: BertTokenizer;
  const start = !saved && data.model ? readBertFolder(data.model) : null;
  if (saved) tokenizer = BertTokenizer.fromPretrained(join(out, TOKENIZER_DIR));
  else if (start) tokenizer = BertTokenizer.fromPretrained(data.model!);
  else if (o.vocab) tokenizer = tokenizerFromVocab(o.vocab, lowercase, data.maxSeqLength);
  else tokenizer = trainTokenizer(corpus.documents.flatMap((d) => d.map((s) => s.text)), o.vocabSize ?? 8000, lowercase, data.maxSeqLength);

  const documents = tokenizeDocuments(corpus.documents, tokenizer);
  if (documents.length === 0) throw new BertTaskError(`${data.corpus}: no sentence has any token in this vocabulary`);
  const instances = createNspInstances(documents, new Generator(seed), { maxSeqLength: data.maxSeqLength, shortSeqProb: data.shortSeqProb });
  // Hold out whole documents (no sentence seen in training) when there are enough, else a slice of instances.
  let trainInst: NspInstance[];
  let validInst: NspInstance[];
  if (documents.length >= 10) {
    const k = Math.max(1, Math.round(documents.length * data.validFraction));
    trainInst = instances.filter((x) => x.docA < documents.length - k);
    validInst = instances.filter((x) => x.docA >= documents.length - k);
  } else {
    const k = Math.max(1, Math.round(instances.length * data.validFraction));
    if (instances.length < 2) throw new BertTaskError(`${data.corpus}: only ${instances.length} instance; need at least 2 (one to train on, one to validate)`);
    trainInst = instances.slice(0, instances.length - k);
    validInst = instances.slice(instances.length - k);
  }
  validInst = validInst.slice(0, data.maxValidInstances);
  const masking = { wholeWordMask: data.wholeWordMask, maskProb: data.maskProb, seed, dynamicMasking: data.dynamicMasking };
  const trainSet = new PretrainingDataset(trainInst, tokenizer, masking);
  // Validation masks are fixed (their own seed), so epochs compare on the same targets.
  const validSet = new PretrainingDataset(validInst, tokenizer, { ...masking, seed: seed + 7919, dynamicMasking: false });
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  log(`data: ${corpus.sentences} sentences in ${corpus.documents.length} documents; ${trainSet.length} training and ${validSet.length} validation instances (max ${data.maxSeqLength} tokens; ${pct(instances.filter((x) => x.isRandomNext).length, instances.length)} random-next, ${pct(instances.filter((x) => x.forced).length, instances.length)} of all forced by single-sentence chunks); vocab ${tokenizer.vocabSize}`);

  let config: BertConfigJSON;
  if (saved) config = saved.config;
  else if (start) {
    const { architectures: _a, ...rest } = start.config;
    void _a;
    config = { ...rest, ...(o.modelOptions ?? {}) };
  } else {
    config = {
      ...bertPreset(o.size ?? 'tiny'), ...(o.modelOptions ?? {}),
      vocab_size: tokenizer.vocabSize, pad_token_id: padId, max_position_embeddings: Math.max(512, data.maxSeqLength),
    };
  }
  const model = new BertForPreTraining(new BertConfig(config));
  if (start) {
    checkModelFits(model.config, tokenizer, data.maxSeqLength, data.model);
    await loadForTraining(model, start.stateDict, data.model!, log);
  }
  if (!saved) {
    tokenizer.savePretrained(join(out, TOKENIZER_DIR));
    writeFileAtomic(join(out, TASK_FILE), `${JSON.stringify({ task: 'pretrain', config, data } satisfies SavedTask, null, 2)}\n`);
  }
  const clsId = tokenizer.convertTokensToIds(tokenizer.clsToken);
  const sepId = tokenizer.convertTokensToIds(tokenizer.sepToken);
  const idsOf = (ds: PretrainingDataset) => ds.instances.map((inst) => pairIds(inst, clsId, sepId).ids);
  const { batcher, validBatches } = sequenceBatches(idsOf(trainSet), idsOf(validSet), { batchTokens: data.batchTokens, seed, padId, maxSeqLength: data.maxSeqLength });

  const task = batcherTask(batcher, {
    model,
    loss: (b) => {
      const t = pretrainingBatch(trainSet, b.indices, batcher.currentEpoch, padId, b.sourceLength);
      return { loss: pretrainingLoss(model, t).loss, tokens: t.tokens };
    },
    validate: async () => {
      let mlmSum = 0; let nspSum = 0; let targets = 0; let rows = 0; let mlmRight = 0; let nspRight = 0;
      for (const b of validBatches) {
        const t = pretrainingBatch(validSet, b.indices, 0, padId, b.sourceLength);
        const r = noGrad(() => pretrainingLoss(model, t));
        const mlmPred = F.argmax(r.mlmLogits, -1);
        const nspPred = F.argmax(r.nspLogits, -1);
        await realize(r.mlmLoss, r.nspLoss, mlmPred, nspPred);
        const labels = t.mlmLabels.buffer as Int32Array;
        const pred = await mlmPred.data();
        for (let k = 0; k < labels.length; k++) if (labels[k] !== IGNORE_INDEX && pred[k] === labels[k]) mlmRight++;
        const nl = t.nextSentenceLabels.buffer as Int32Array;
        const np = await nspPred.data();
        for (let k = 0; k < nl.length; k++) if (np[k] === nl[k]) nspRight++;
        mlmSum += (await r.mlmLoss.item()) * t.targets;
        nspSum += (await r.nspLoss.item()) * nl.length;
        targets += t.targets;
        rows += nl.length;
      }
      const m = {
        valid_loss: mlmSum / targets + nspSum / rows, mlm_loss: mlmSum / targets, nsp_loss: nspSum / rows,
        mlm_accuracy: mlmRight / targets, nsp_accuracy: nspRight / rows,
      };
      log(`validation: loss ${m.valid_loss.toFixed(3)} (MLM ${m.mlm_loss.toFixed(3)}, NSP ${m.nsp_loss.toFixed(3)}), MLM accuracy ${(100 * m.mlm_accuracy).toFixed(1)}%, NSP accuracy ${(100 * m.nsp_accuracy).toFixed(1)}%`);
      return m;
    },
    // The masked-LM loss picks the checkpoint: it is what transfers; NSP (which RoBERTa found does not
    // help) can overfit and raise the summed loss while MLM still improves.
    bestMetric: { name: 'mlm_loss', higherIsBetter: false },
  });
  const summary = await train(task, { ...pickTrainOptions(o), outDir: out, meta: { task: 'pretrain' } });
  const hfDir = await exportBest(out, () => new BertForPreTraining(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}

/** Writes the best checkpoint (model weights only) with the tokenizer as outDir/hf. */
/** @internal */
export async function exportBest(out: string, build: () => BertPreTrainedModel, tokenizer: BertTokenizer): Promise<string | null> {
  if (!existsSync(join(out, BEST))) return null;
  const model = build();
  await model.loadStateDict(loadCheckpoint(join(out, BEST)).model);
  const dir = join(out, HF_DIR);
  await model.savePretrained(dir);
  tokenizer.savePretrained(dir);
  return dir;
}

// ---- fine-tuning: sequence classification ----------------------------------------------------------------

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

/** Fine-tunes BERT for sequence classification (from a pretrained HF folder or from scratch) into `outDir`. */
export async function finetuneBert(o: FinetuneOptions): Promise<BertRunResult> {
  o = checkOptions('finetuneBert', o, { task: 1, train: 1, valid: 1, model: 1, init: 1, vocab: 1, vocabSize: 1, size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, seed: 1, lowercase: 1, log: 1, outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, batchSize: 1, eps: 1, warmupRatio: 1, noDecay: 1, gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1, format: 1, textColumn: 1, textPairColumn: 1, labelColumn: 1, header: 1 });
  return withRunLock(o.outDir, 'finetuneBert', () => finetuneBertLocked(o), o.log);
}

async function finetuneBertLocked(o: FinetuneOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  if ((o.task ?? 'classify') !== 'classify') throw new ArgumentError(`finetuneBert: task must be 'classify', got '${String(o.task)}'`);
  startFolder(out, o.resume);
  const saved = o.resume ? readSaved(out) : null;
  if (saved && saved.task !== 'classify') throw new BertTaskError(`${join(out, TASK_FILE)}: this folder holds a '${saved.task}' run, not classification`);
  const init = o.init ?? (o.model ? 'pretrained' : 'random');
  if (!saved && init === 'pretrained' && !o.model) throw new ArgumentError('finetuneBert: init pretrained needs a model folder (--model DIR), or use init random with a size preset');
  if (!saved && init === 'random' && o.model) throw new ArgumentError('finetuneBert: give either a model folder (pretrained init) or init random, not both');
  const data = (saved?.data ?? {
    train: o.train, valid: o.valid, format: o.format, textColumn: o.textColumn, textPairColumn: o.textPairColumn, labelColumn: o.labelColumn,
    header: o.header, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, batchSize: o.batchSize,
    init, model: o.model,
  }) as {
    train?: string; valid?: string; format?: TableFormat; textColumn?: string; textPairColumn?: string; labelColumn?: string; header?: boolean;
    maxSeqLength: number; seed: number; batchTokens: number; batchSize?: number; init: 'pretrained' | 'random'; model?: string;
  };
  if (!data.train || !data.valid) throw new ArgumentError('finetuneBert: give training and validation files (--train, --valid)');
  const seed = data.seed;
  manualSeed(seed);
  const readOpts: ClassificationReadOptions = {};
  for (const k of ['format', 'textColumn', 'textPairColumn', 'labelColumn', 'header'] as const) if (data[k] !== undefined) (readOpts as Record<string, unknown>)[k] = data[k];
  const trainData = readClassificationFile(data.train, readOpts);
  // The validation file uses the columns the training file resolved to.
  const validData = readClassificationFile(data.valid, {
    ...readOpts, textColumn: trainData.columns.text, labelColumn: trainData.columns.label,
    ...(trainData.columns.textPair !== undefined ? { textPairColumn: trainData.columns.textPair } : {}),
  });
  const labelSet: LabelSet = saved?.labels ? labelSetOf(saved.labels) : buildLabelSet(trainData.examples);
  if (labelSet.labels.length < 2) throw new BertTaskError(`${data.train}: one label only (${JSON.stringify(labelSet.labels[0])}); classification needs at least two`);
  const trainLabels = labelIds(trainData, labelSet);
  const validLabels = labelIds(validData, labelSet);
  const labelKeys = { num_labels: labelSet.labels.length, id2label: labelSet.id2label, label2id: labelSet.label2id, problem_type: 'single_label_classification' as const };

  const lowercase = o.lowercase ?? true;
  let tokenizer: BertTokenizer;
  let config: BertConfigJSON;
  let pretrained: Map<string, Tensor> | null = null;
  if (saved) {
    tokenizer = BertTokenizer.fromPretrained(join(out, TOKENIZER_DIR));
    config = saved.config;
  } else if (init === 'pretrained') {
    const folder = readBertFolder(data.model!);
    tokenizer = BertTokenizer.fromPretrained(data.model!);
    const { architectures: _a, _num_labels: _n, ...rest } = folder.config;
    void _a; void _n;
    config = { ...rest, ...(o.modelOptions ?? {}), ...labelKeys };
    pretrained = folder.stateDict;
  } else {
    tokenizer = o.vocab
      ? tokenizerFromVocab(o.vocab, lowercase, data.maxSeqLength)
      : trainTokenizer(trainData.examples.flatMap((e) => (e.textPair === undefined ? [e.text] : [e.text, e.textPair])), o.vocabSize ?? 8000, lowercase, data.maxSeqLength);
    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    config = {
      ...bertPreset(o.size ?? 'tiny'), ...(o.modelOptions ?? {}), vocab_size: tokenizer.vocabSize, pad_token_id: padId,
      max_position_embeddings: Math.max(512, data.maxSeqLength), ...labelKeys,
    };
  }
  const bertConfig = new BertConfig(config);
  checkModelFits(bertConfig, tokenizer, data.maxSeqLength);
  const model = new BertForSequenceClassification(bertConfig);
  if (pretrained) {
    // A classifier of another label count (a folder that was itself fine-tuned) is not reused.
    const own = model.stateDict();
    const weights = new Map([...pretrained].filter(([k, v]) => !k.startsWith('classifier.') || (own[k] && own[k]!.shape.join() === v.shape.join())));
    await loadForTraining(model, weights, data.model!, log);
  } else if (!saved) {
    log(`init: random, ${o.size ?? 'tiny'} preset (${bertConfig.numHiddenLayers} layers, hidden ${bertConfig.hiddenSize}), no pretraining`);
  }
  if (!saved) {
    tokenizer.savePretrained(join(out, TOKENIZER_DIR));
    writeFileAtomic(join(out, TASK_FILE), `${JSON.stringify({ task: 'classify', config, data, labels: labelSet.labels } satisfies SavedTask, null, 2)}\n`);
  }
  const maxSeqLength = data.maxSeqLength;
  const trainEx = encodeClassification(trainData, trainLabels, tokenizer, maxSeqLength);
  const validEx = encodeClassification(validData, validLabels, tokenizer, maxSeqLength);
  const counts = labelSet.labels.map((_, c) => trainLabels.filter((l) => l === c).length);
  log(`data: ${trainEx.length} training, ${validEx.length} validation examples; labels ${labelSet.labels.map((l, c) => `${l} (${counts[c]})`).join(', ')}; vocab ${tokenizer.vocabSize}`);
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  const { batcher, validBatches } = sequenceBatches(trainEx.map((e) => e.ids), validEx.map((e) => e.ids), { batchTokens: data.batchTokens, batchSize: data.batchSize, seed, padId, maxSeqLength });

  const task = batcherTask(batcher, {
    model,
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
  });
  const summary = await train(task, { ...finetuneTrainOptions(o, data.init), outDir: out, meta: { task: 'classify' } });
  const hfDir = await exportBest(out, () => new BertForSequenceClassification(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}

/** @internal Loss and accuracy of a classifier over batches of encoded examples: the validation metrics, and `bert eval`'s. */
export async function evaluateClassifier(model: BertForSequenceClassification, batches: Iterable<Batch>, examples: readonly EncodedExample[]): Promise<{ valid_loss: number; accuracy: number }> {
  let lossSum = 0;
  let right = 0;
  let n = 0;
  for (const b of batches) {
    const t = classificationBatch(b, examples);
    const r = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }));
    const pred = F.argmax(r.logits, -1);
    await realize(r.loss!, pred);
    const p = await pred.data();
    const labels = t.labels.buffer as Int32Array;
    for (let k = 0; k < labels.length; k++) if (p[k] === labels[k]) right++;
    lossSum += (await r.loss!.item()) * labels.length;
    n += labels.length;
  }
  return { valid_loss: lossSum / n, accuracy: right / n };
}
