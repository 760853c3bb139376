/**
 * What every BERT run shares: the run folder, size presets, options, batching by length, attention
 * masks, loading a pretrained folder to train, and exporting the best checkpoint. Pretraining is
 * pretrain.ts; fine-tuning runs on finetune.ts's skeleton (classify.ts, ner.ts, qa.ts,
 * multiple-choice.ts).
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
 * the masks are resumable: masks are a function of (seed, epoch, instance), see data/pretraining.ts.
 */
import type { BertPreTrainedModel } from '../models/bert/pretrained.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BucketBatcher, DEFAULT_BUCKETS, type Batch } from '../data/batching.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { ArgumentError, ZhuyiError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { BEST, LOG, type TrainOptions, type TrainSummary } from '../train/trainer.js';
import type { OptionKeys } from '../tensor/options.js';

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

/** Every key of BertCommonOptions: what each run's checkOptions list starts from. */
export const BERT_COMMON_KEYS: OptionKeys<BertCommonOptions> = {
  size: 1, modelOptions: 1, maxSeqLength: 1, batchTokens: 1, batchSize: 1, seed: 1, lowercase: 1, log: 1,
  outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, schedule: 1, weightDecay: 1, betas: 1, clipNorm: 1, eps: 1, warmupRatio: 1, noDecay: 1,
  gradAccum: 1, resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, stopAfterSteps: 1,
};

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

/** A vocab.txt file, or a folder with vocab.txt / tokenizer.json (and its tokenizer settings). */
/** @internal */
export function tokenizerFromVocab(path: string, lowercase: boolean, maxSeqLength: number): BertTokenizer {
  if (existsSync(join(path, 'vocab.txt')) || existsSync(join(path, 'tokenizer.json'))) return BertTokenizer.fromPretrained(path);
  if (!existsSync(path)) throw new ArgumentError(`vocabulary '${path}' not found (give a vocab.txt file or a tokenizer folder)`);
  const lines = readFileSync(path, 'utf8').replace(/^\ufeff/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return new BertTokenizer(lines.map((l) => l.replace(/\r$/, '')), { doLowerCase: lowercase, modelMaxLength: maxSeqLength });
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
