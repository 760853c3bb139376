/**
 * Training a translation model in the page (the Train tab runs this in a Web Worker): a built-in
 * task, the tokenizers its data calls for, one of the ladder's three models, and the loop of
 * `zhuyi translate train` (src/translate/translator.ts + src/train/trainer.ts, which read and write
 * files and so stay in Node): length-bucketed batches, AdamW with linear warmup and decay, clipping,
 * one ONNX Runtime run per step. Evaluation decodes as Translator.translate and `zhuyi translate
 * eval` do (greedy, batches of 64 sorted by length, the same length caps), so the exact match shown
 * here is the one Node reports on the downloaded folder.
 */
import * as z from '../../src/browser.js';
import type { Batch, Tensor, Tokenizer, TranslationModel } from '../../src/browser.js';
import { averageHeads, translationAttentionMaps } from '../../src/viz/attention.js';
import { MODEL_PRESETS, type ModelKind, TASK_PRESETS, TRAINING, type TaskName } from './presets.js';

export interface TrainConfig {
  task: TaskName;
  model: ModelKind;
  seed?: number;
  epochs?: number;
  /** builtinTask options over the task's preset. */
  taskOptions?: Record<string, number | boolean>;
}

export interface StepReport { step: number; totalSteps: number; epoch: number; loss: number; tokensPerSecond: number; stepsPerSecond: number }
export interface ValidationReport { step: number; epoch: number; exactMatch: number; count: number; attention: AttentionMap | null }
export interface AttentionMap { text: string; translation: string; rows: string[]; cols: string[]; weights: number[][] }

type Pair = { source: string; target: string; length: number };

/** A translator as Translator (pipeline.ts) is: what translationAttentionMaps reads. */
interface PageTranslator { kind: ModelKind; model: TranslationModel<unknown>; source: Tokenizer; target: Tokenizer }

function buildModel(kind: ModelKind, config: Record<string, unknown>): TranslationModel<unknown> {
  // The classes' config types are checked where the presets are written (presets.ts vs modelPreset).
  const c = config as never;
  if (kind === 'seq2seq') return new z.Seq2Seq(c) as unknown as TranslationModel<unknown>;
  if (kind === 'attention') return new z.AttentionSeq2Seq(c) as unknown as TranslationModel<unknown>;
  return new z.TransformerSeq2Seq(c) as unknown as TranslationModel<unknown>;
}

export class TrainingSession {
  readonly translator: PageTranslator;
  readonly config: Record<string, unknown>;
  readonly totalSteps: number;
  readonly test: Pair[];
  readonly valid: Pair[];
  readonly example: string;
  step = 0;
  private readonly batcher: z.BucketBatcher;
  private readonly optimizer: z.optim.AdamW;
  private readonly scheduler: z.optim.LambdaLR;
  private readonly taskOptions: Record<string, number | boolean>;
  private readonly bos: number;
  private readonly pad: number;

  constructor(readonly options: TrainConfig) {
    const preset = TASK_PRESETS[options.task];
    if (!preset) throw new z.ArgumentError(`Train tab: unknown task '${options.task}' (numbers, dates, reverse)`);
    const seed = options.seed ?? 0;
    this.taskOptions = { ...preset.taskOptions, seed, ...options.taskOptions };
    this.example = preset.example;
    // As trainTranslator: the global generator seeded once, before tokenizers, model and dropout.
    z.manualSeed(seed);
    const splits = z.builtinTask(options.task, this.taskOptions);
    const train = (kind: 'char' | 'word', texts: string[]): Tokenizer => (kind === 'char' ? z.CharTokenizer.train(texts, { lowercase: false, minFrequency: 1 }) : z.WordTokenizer.train(texts, { lowercase: false, minFrequency: 1 }));
    const source = train(splits.sourceTokenizer, splits.train.map((p) => p.source));
    const target = train(splits.targetTokenizer, splits.train.map((p) => p.target));
    const examples = splits.train.map((p) => ({ source: source.encode(p.source), target: target.encode(p.target, { addEos: true }) })).filter((e) => e.source.length > 0);
    this.valid = splits.valid;
    this.test = splits.test;
    this.bos = target.vocab.bosId;
    this.pad = target.vocab.padId;
    this.config = {
      ...MODEL_PRESETS[options.model],
      srcVocabSize: source.vocab.size, tgtVocabSize: target.vocab.size, padId: target.vocab.padId, bosId: target.vocab.bosId, eosId: target.vocab.eosId,
    };
    const model = buildModel(options.model, this.config);
    this.translator = { kind: options.model, model, source, target };
    // As trainTranslator: the GRU rungs unroll over time, so they batch on square buckets (one graph per bucket).
    this.batcher = new z.BucketBatcher(examples, { maxTokens: TRAINING.batchTokens, seed, padId: this.pad, fixedRows: true, squareBuckets: options.model !== 'transformer' });
    this.totalSteps = (options.epochs ?? preset.epochs) * this.batcher.batchesPerEpoch;
    this.optimizer = new z.optim.AdamW([{ params: model.parameters(), weightDecay: TRAINING.weightDecay }], { lr: TRAINING.lr, betas: TRAINING.betas, eps: 1e-8 });
    const warmup = Math.max(1, Math.ceil(TRAINING.warmupShare * this.totalSteps));
    this.scheduler = z.optim.getSchedule(this.optimizer, 'linear', warmup, this.totalSteps);
  }

  get epoch(): number {
    return Math.floor(this.step / this.batcher.batchesPerEpoch);
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  /** Teacher forcing: the decoder reads [BOS, y1 .. y_{T-1}] and predicts [y1 .. y_T] (as pipeline.ts's teacherForcing). */
  private loss(batch: Batch): Tensor {
    const { rows: B, sourceLength: S, targetLength: T } = batch;
    const tgtIn = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      tgtIn[b * T] = this.bos;
      tgtIn.set(batch.target.subarray(b * T, b * T + T - 1), b * T + 1);
    }
    const logits = this.translator.model.forward(z.Tensor.fromBuffer(batch.source, [B, S]), Array.from(batch.sourceLengths), z.Tensor.fromBuffer(tgtIn, [B, T]));
    const V = logits.shape[2]!;
    return z.crossEntropy(logits.reshape(-1, V), z.Tensor.fromBuffer(batch.target, [B, T]).reshape(-1), { ignoreIndex: this.pad, labelSmoothing: TRAINING.labelSmoothing });
  }

  /** One optimizer step (forward, backward, clipping and AdamW in one ONNX Runtime run); returns the loss and the batch's tokens. */
  async trainStep(): Promise<{ loss: number; tokens: number }> {
    const model = this.translator.model;
    model.train();
    const batch = this.batcher.next();
    const loss = this.loss(batch);
    this.optimizer.zeroGrad();
    loss.backward();
    const norm = z.clipGradNorm(model.parameters(), TRAINING.clipNorm);
    await this.optimizer.step(loss, norm);
    this.scheduler.step();
    this.step++;
    const value = await loss.item();
    if (!Number.isFinite(value)) throw new z.ZhuyiError(`the loss is ${value} at step ${this.step}: training stopped`);
    return { loss: value, tokens: batch.tokens };
  }

  /** Greedy translations in batches of 64 sorted by length, with Translator.translate's length caps. */
  async translate(sentences: readonly string[]): Promise<string[]> {
    const { model, source, target } = this.translator;
    model.eval();
    const order = sentences.map((s, i) => ({ i, ids: source.encode(s) })).sort((a, b) => a.ids.length - b.ids.length);
    const out = new Array<string>(sentences.length);
    for (let k = 0; k < order.length; k += 64) {
      const chunk = order.slice(k, k + 64).map((e) => ({ ...e, ids: e.ids.length ? e.ids : [source.vocab.unkId] }));
      const S = Math.max(...chunk.map((e) => e.ids.length));
      const src = new Int32Array(chunk.length * S).fill(model.config.padId);
      chunk.forEach((e, r) => src.set(e.ids, r * S));
      const ids = await (model as unknown as { translate(s: Tensor, l: number[], o: object): Promise<number[][]> })
        .translate(z.Tensor.fromBuffer(src, [chunk.length, S]), chunk.map((e) => e.ids.length), { beamSize: 1, maxLength: Math.max(8, 2 * S + 10), maxLengthRatio: 2, maxLengthOffset: 10 });
      chunk.forEach((e, r) => { out[e.i] = target.decode(ids[r]!); });
    }
    return out;
  }

  /** Exact match of greedy translations against references spelled as the target tokenizer writes them (pipeline.ts's referenceText). */
  async exactMatch(pairs: readonly Pair[]): Promise<number> {
    const hyps = await this.translate(pairs.map((p) => p.source));
    const target = this.translator.target;
    const refs = pairs.map((p) => (target.kind === 'word' ? target.tokenize(p.target).join(' ') : p.target));
    return z.exactMatch(hyps, refs);
  }

  /** The cross-attention of the model's translation of `text` (Transformer: last layer, mean of heads); null for the plain Seq2Seq. */
  async attention(text: string): Promise<AttentionMap | null> {
    const a = await translationAttentionMaps(this.translator as never, text);
    if (a.kind === 'seq2seq') return null;
    return { text, translation: a.translation, rows: a.outputTokens, cols: a.sourceTokens, weights: averageHeads(a.maps[a.maps.length - 1]!) };
  }

  /**
   * The model folder `zhuyi translate train` writes, as files: zhuyi-translate.json (kind, config,
   * the task and its options), the tokenizers under source/ and target/, and last.safetensors (a
   * training checkpoint: weights under `model.`). `zhuyi translate run/eval` load it as it is.
   */
  async folderFiles(): Promise<Map<string, Uint8Array | string>> {
    const files = new Map<string, Uint8Array | string>();
    const saved = { kind: this.options.model, config: this.config, data: { task: this.options.task, taskOptions: this.taskOptions } };
    files.set('zhuyi-translate.json', `${JSON.stringify(saved, null, 2)}\n`);
    for (const [side, tok] of [['source', this.translator.source], ['target', this.translator.target]] as const) {
      for (const [name, text] of Object.entries(z.tokenizerFiles(tok))) files.set(`${side}/${name}`, text);
    }
    const tensors = new Map(Object.entries(this.translator.model.stateDict()).map(([k, t]) => [`model.${k}`, t as Tensor]));
    const state = { step: this.step, epoch: this.epoch, trainedIn: 'browser' };
    files.set('last.safetensors', await z.serializeSafetensors(tensors, { format: 'zhuyi-checkpoint', 'zhuyi.trainer': JSON.stringify(state) }));
    return files;
  }
}
