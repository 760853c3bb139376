/**
 * Translation end to end: data (a built-in task or parallel files) -> tokenizers -> length-bucketed
 * batches -> one of the ladder's three models -> the shared trainer -> a model folder that
 * `loadTranslator` reads back for `run` and `eval`.
 *
 * A model folder holds:
 *   zhuyi-translate.json        model kind and config, data and tokenizer settings, training options
 *   source/, target/            the tokenizers (zhuyi-tokenizer.json + vocab files)
 *   best.safetensors            the checkpoint with the best validation BLEU (weights under `model.`)
 *   last.safetensors            the latest checkpoint (what --resume continues)
 *   log.jsonl                   every logged metric, one JSON object per line
 */
import { batcherTask } from '../train/batcher-task.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BucketBatcher, type Batch, type TokenizedExample } from '../data/batching.js';
import { readParallelFiles, readParallelTsv, type ParallelPair } from '../data/read.js';
import { cmnEngPath, readCmnEng, type CmnEngPair } from '../data/cmn-eng.js';
import { loadSafetensors, writeFileAtomic } from '../io/safetensors.js';
import { corpusBleu } from '../metrics/bleu.js';
import { corpusChrf } from '../metrics/chrf.js';
import { exactMatch, exactMatchByLength, type LengthRow } from '../metrics/accuracy.js';
import { AttentionSeq2Seq, type AttentionSeq2SeqConfig } from '../models/translate/attention-seq2seq.js';
import type { TranslationConfig, TranslationModel } from '../models/translate/common.js';
import { Seq2Seq, type Seq2SeqConfig } from '../models/translate/seq2seq.js';
import { TransformerSeq2Seq, type TransformerSeq2SeqConfig } from '../models/translate/transformer.js';
import { crossEntropy } from '../nn/losses.js';
import { builtinTask, type TaskExample } from '../tasks/builtin/index.js';
import { ArgumentError, ZhuyiError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { type Generator, manualSeed } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { loadTokenizer, saveTokenizer } from '../text/io.js';
import { CharTokenizer, WordTokenizer, type Tokenizer } from '../text/tokenizer.js';
import { trainBpe } from '../text/bpe-trainer.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { BEST, LAST, pickTrainOptions, train, type TrainOptions, type TrainSummary } from '../train/trainer.js';
import { withRunLock } from '../train/lock.js';
import { progressBar } from '../io/progress.js';
import { checkOptions } from '../tensor/options.js';

export const MODEL_KINDS = ['seq2seq', 'attention', 'transformer'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export type TokenizerKind = 'char' | 'word' | 'whitespace' | 'bpe';
export type ModelSize = 'tiny' | 'small' | 'base';
export const CORPORA = ['cmn-eng'] as const;
export type CorpusName = (typeof CORPORA)[number];
export const CONFIG_FILE = 'zhuyi-translate.json';

export interface TranslateDataOptions {
  /** A built-in task (dates, numbers, numbers-zh, reverse) ... */
  task?: string;
  /** Options of the built-in task (sizes, lengths, seed). */
  taskOptions?: Record<string, number | boolean>;
  /** ... or parallel files: a TSV (columns) or a pair "train.de,train.en". */
  train?: string;
  valid?: string;
  sourceColumn?: number;
  targetColumn?: number;
  /** ... or a named corpus read at run time from the data folder: `cmn-eng` (Tatoeba English-Chinese, split by src/data/cmn-eng.ts's rule). */
  corpus?: CorpusName;
  /** Direction of a named corpus (default zh-en). */
  direction?: 'zh-en' | 'en-zh';
  /** The data folder of a named corpus (default $ZHUYI_DATA, else ../shared/data). */
  dataDir?: string;
  /** Tokenizer of each side (default: the task's, else word). */
  sourceTokenizer?: TokenizerKind;
  targetTokenizer?: TokenizerKind;
  lowercase?: boolean;
  /** Words seen fewer times become <unk> (default 1; 2 for files). */
  minFrequency?: number;
  bpeVocabSize?: number;
  /** Drop training pairs longer than this many tokens on either side (default 100). */
  maxTokens?: number;
}

export interface TranslateTrainOptions extends TranslateDataOptions, Omit<TrainOptions, 'meta'> {
  model: ModelKind;
  size?: ModelSize;
  /** Overrides of the model config (dModel, hidden, ...). */
  modelOptions?: Record<string, unknown>;
  /** Tokens per batch (rows x padded length; default 4096). */
  batchTokens?: number;
  labelSmoothing?: number;
  seed?: number;
  /** Validation sentences decoded for BLEU each epoch (default all, at most 1000). */
  validDecode?: number;
  log?: (line: string) => void;
}

interface SavedConfig {
  kind: ModelKind;
  config: Record<string, unknown>;
  data: TranslateDataOptions;
  task?: string;
}

/** Presets for this 2-core CPU: `tiny` for tests and demos, `small` for built-in tasks, `base` for Multi30k. */
export function modelPreset(kind: ModelKind, size: ModelSize): Record<string, unknown> {
  const presets: Record<ModelKind, Record<ModelSize, Record<string, unknown>>> = {
    seq2seq: {
      tiny: { cell: 'gru', embDim: 32, hidden: 64, numLayers: 1, dropout: 0 },
      small: { cell: 'gru', embDim: 64, hidden: 256, numLayers: 1, dropout: 0.1 },
      base: { cell: 'gru', embDim: 256, hidden: 512, numLayers: 1, dropout: 0.3, feedContext: true, maxout: 256, reverseSource: true },
    },
    attention: {
      tiny: { embDim: 32, encoderHidden: 32, decoderHidden: 64, dropout: 0 },
      small: { embDim: 64, encoderHidden: 128, decoderHidden: 256, dropout: 0.1 },
      base: { embDim: 256, encoderHidden: 256, decoderHidden: 512, maxout: 256, dropout: 0.5 },
    },
    transformer: {
      tiny: { dModel: 32, nHead: 4, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 64, dropout: 0 },
      small: { dModel: 128, nHead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 512, dropout: 0.1 },
      base: { dModel: 256, nHead: 8, numEncoderLayers: 3, numDecoderLayers: 3, dimFeedforward: 512, dropout: 0.1 },
    },
  };
  const p = presets[kind]?.[size];
  if (!p) throw new ArgumentError(`model must be one of ${MODEL_KINDS.join(', ')} and size one of tiny, small, base; got ${kind}/${size}`);
  return { ...p };
}

export function buildModel(kind: ModelKind, config: Record<string, unknown>, generator?: Generator): TranslationModel<unknown> {
  const opts = generator ? { generator } : {};
  switch (kind) {
    case 'seq2seq': return new Seq2Seq(config as unknown as Seq2SeqConfig, opts) as unknown as TranslationModel<unknown>;
    case 'attention': return new AttentionSeq2Seq(config as unknown as AttentionSeq2SeqConfig, opts) as unknown as TranslationModel<unknown>;
    case 'transformer': return new TransformerSeq2Seq(config as unknown as TransformerSeq2SeqConfig, opts) as unknown as TranslationModel<unknown>;
    default: throw new ArgumentError(`model must be one of ${MODEL_KINDS.join(', ')}, got '${String(kind)}'`);
  }
}

/** Pairs of a split with the graded length (task length, or source tokens). */
export interface Split { pairs: Array<{ source: string; target: string; length: number }> }

function fromTask(examples: readonly TaskExample[]): Split {
  return { pairs: examples.map((e) => ({ source: e.source, target: e.target, length: e.length })) };
}

/** Reads a parallel corpus: "file.tsv" (columns) or "src-file,tgt-file" (two aligned files, gzip ok). */
export function readCorpus(spec: string, o: TranslateDataOptions): ParallelPair[] {
  const parts = spec.split(',');
  if (parts.length === 2) return readParallelFiles(parts[0]!, parts[1]!).pairs;
  if (parts.length === 1) return readParallelTsv(spec, { sourceColumn: o.sourceColumn ?? 0, targetColumn: o.targetColumn ?? 1 }).pairs;
  throw new ArgumentError(`corpus '${spec}': give one TSV file or two files separated by a comma (src,tgt)`);
}

/**
 * cmn-eng in one direction. Chinese is tokenized by characters: it has no spaces to split on, its
 * training side has about 3,500 distinct characters (a vocabulary as small as a word-level English
 * one), and at 20k pairs BPE would merge few pairs worth having. English keeps the word tokenizer.
 * The graded length is the source's characters (Chinese) or words (English).
 */
function loadCmnEng(o: TranslateDataOptions): { train: Split; valid: Split; test: Split; sourceKind: TokenizerKind; targetKind: TokenizerKind; note: string } {
  const direction = o.direction ?? 'zh-en';
  if (direction !== 'zh-en' && direction !== 'en-zh') throw new ArgumentError(`cmn-eng: direction must be zh-en or en-zh, got '${String(direction)}'`);
  const s = readCmnEng(cmnEngPath(o.dataDir));
  const zhSource = direction === 'zh-en';
  const split = (pairs: readonly CmnEngPair[]): Split => ({
    pairs: pairs.map((p) => zhSource
      ? { source: p.zh, target: p.en, length: Array.from(p.zh.replace(/\s+/gu, '')).length }
      : { source: p.en, target: p.zh, length: p.en.split(/\s+/u).length }),
  });
  return {
    train: split(s.train), valid: split(s.valid), test: split(s.test),
    sourceKind: o.sourceTokenizer ?? (zhSource ? 'char' : 'word'), targetKind: o.targetTokenizer ?? (zhSource ? 'word' : 'char'),
    note: `cmn-eng ${direction}: ${s.lines} lines, ${s.duplicates} duplicate pairs removed (${s.exactDuplicates} byte-exact), ${s.groups} linked groups -> train ${s.train.length}, valid ${s.valid.length}, test ${s.test.length}`,
  };
}

export function loadSplits(o: TranslateDataOptions): { train: Split; valid: Split; test?: Split; sourceKind: TokenizerKind; targetKind: TokenizerKind; note?: string } {
  if (o.corpus !== undefined) {
    if (o.task || o.train || o.valid) throw new ArgumentError('translate: give one of --data, --task, or --train/--valid');
    if (o.corpus === 'cmn-eng') return loadCmnEng(o);
    throw new ArgumentError(`translate: unknown corpus '${String(o.corpus)}' (expected one of ${CORPORA.join(', ')})`);
  }
  if (o.task) {
    const t = builtinTask(o.task, o.taskOptions ?? {});
    return {
      train: fromTask(t.train), valid: fromTask(t.valid), test: fromTask(t.test),
      sourceKind: o.sourceTokenizer ?? t.sourceTokenizer, targetKind: o.targetTokenizer ?? t.targetTokenizer,
    };
  }
  if (!o.train || !o.valid) throw new ArgumentError('translate: give --task NAME, --data cmn-eng, or --train and --valid files');
  const split = (spec: string): Split => ({ pairs: readCorpus(spec, o).map((p) => ({ source: p.source, target: p.target, length: p.source.split(/\s+/u).length })) });
  return { train: split(o.train), valid: split(o.valid), sourceKind: o.sourceTokenizer ?? 'word', targetKind: o.targetTokenizer ?? 'word' };
}

function trainTokenizer(kind: TokenizerKind, texts: string[], o: TranslateDataOptions): Tokenizer {
  const common = { lowercase: o.lowercase ?? false, minFrequency: o.minFrequency ?? 1 };
  if (kind === 'char') return CharTokenizer.train(texts, common);
  if (kind === 'word') return WordTokenizer.train(texts, common);
  if (kind === 'whitespace') return WordTokenizer.train(texts, { ...common, whitespace: true });
  if (kind === 'bpe') return trainBpe(texts, { vocabSize: o.bpeVocabSize ?? 8000, lowercase: common.lowercase });
  throw new ArgumentError(`tokenizer must be char, word, whitespace or bpe, got '${String(kind)}'`);
}

/** Encodes pairs: source ids (no specials), target ids ending with EOS. */
function encodePairs(split: Split, src: Tokenizer, tgt: Tokenizer, maxTokens = Infinity): { examples: TokenizedExample[]; kept: Split; dropped: number } {
  const examples: TokenizedExample[] = [];
  const kept: Split['pairs'] = [];
  for (const p of split.pairs) {
    const source = src.encode(p.source);
    const target = tgt.encode(p.target, { addEos: true });
    if (source.length === 0 || source.length > maxTokens || target.length > maxTokens + 1) continue;
    examples.push({ source, target });
    kept.push(p);
  }
  return { examples, kept: { pairs: kept }, dropped: split.pairs.length - kept.length };
}

/**
 * Token ids of parallel pairs with a translator's own tokenizers, to train on elsewhere (PyTorch,
 * docs/pytorch.md): source ids, target ids ending with EOS, as the trainer encodes them; pairs it
 * would drop (an empty source, more than maxTokens tokens) are left out here too.
 */
export function encodeForTraining(t: Translator, pairs: ReadonlyArray<{ source: string; target: string }>, maxTokens = Infinity): { examples: Array<{ src: number[]; tgt: number[] }>; dropped: number } {
  const { examples, dropped } = encodePairs({ pairs: pairs.map((p) => ({ ...p, length: 0 })) }, t.source, t.target, maxTokens);
  return { examples: examples.map((e) => ({ src: Array.from(e.source), tgt: Array.from(e.target) })), dropped };
}

/** Teacher forcing: the decoder reads [BOS, y1 .. y_{T-1}] and predicts [y1 .. y_T] (EOS last, pads ignored). */
export function teacherForcing(batch: Batch, bos: number): { src: Tensor; srcLengths: number[]; tgtIn: Tensor; tgtOut: Tensor } {
  const { rows: B, sourceLength: S, targetLength: T } = batch;
  const tgtIn = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    tgtIn[b * T] = bos;
    tgtIn.set(batch.target.subarray(b * T, b * T + T - 1), b * T + 1);
  }
  return {
    src: Tensor.fromBuffer(batch.source, [B, S]),
    srcLengths: Array.from(batch.sourceLengths),
    tgtIn: Tensor.fromBuffer(tgtIn, [B, T]),
    tgtOut: Tensor.fromBuffer(batch.target, [B, T]),
  };
}

/** A trained (or loaded) translator: the model and both tokenizers. */
export class Translator {
  constructor(readonly kind: ModelKind, readonly model: TranslationModel<unknown>, readonly source: Tokenizer, readonly target: Tokenizer) {}

  /**
   * A reference as this translator's output can spell it. A word-level target decodes with one space
   * between tokens ("Let ' s go ."), so its references go through the same split; without it no
   * hypothesis could match a reference's "Let's". Other targets (characters, BPE) are left as they are.
   */
  referenceText(text: string): string {
    return this.target.kind === 'word' ? this.target.tokenize(text).join(' ') : text;
  }

  /** Translates sentences in batches (greedy, or beam search with beamSize > 1). */
  async translate(sentences: readonly string[], o: { beamSize?: number; batchSize?: number; maxLength?: number; lengthPenalty?: number; progress?: boolean } = {}): Promise<string[]> {
    o = checkOptions('Translator.translate', o, { beamSize: 1, batchSize: 1, maxLength: 1, lengthPenalty: 1, progress: 1 });
    const bs = o.batchSize ?? 64;
    // In a terminal (src/io/progress.ts); inside training's bar it shows as part of that line.
    const bar = progressBar({ label: 'translating', total: sentences.length, ...(o.progress !== undefined && { enabled: o.progress }) });
    // Sort by length so batches pad little; restore the order at the end.
    const order = sentences.map((s, i) => ({ i, ids: this.source.encode(s) })).sort((a, b) => a.ids.length - b.ids.length);
    const results = new Array<string>(sentences.length);
    try {
      for (let k = 0; k < order.length; k += bs) {
        const chunk = order.slice(k, k + bs).map((e) => ({ ...e, ids: e.ids.length ? e.ids : [this.source.vocab.unkId] }));
        const S = Math.max(...chunk.map((e) => e.ids.length));
        const src = new Int32Array(chunk.length * S).fill(this.model.config.padId);
        chunk.forEach((e, r) => src.set(e.ids, r * S));
        const lengths = chunk.map((e) => e.ids.length);
        const ids = await (this.model as unknown as { translate(s: Tensor, l: number[], o: object): Promise<number[][]> })
          .translate(Tensor.fromBuffer(src, [chunk.length, S]), lengths, {
            beamSize: o.beamSize ?? 1, maxLength: o.maxLength ?? Math.max(8, 2 * S + 10), maxLengthRatio: 2, maxLengthOffset: 10,
            ...(o.lengthPenalty !== undefined && { lengthPenalty: o.lengthPenalty }),
          });
        chunk.forEach((e, r) => { results[e.i] = this.target.decode(ids[r]!); });
        bar.increment(chunk.length);
      }
    } finally {
      bar.stop();
    }
    return results;
  }
}

export interface EvalReport {
  bleu: number;
  bleuSignature: string;
  chrf: number;
  exactMatch: number;
  byLength: LengthRow[];
  count: number;
  /** The model's translations, one per test pair and in its order (what the metrics scored). */
  hypotheses: string[];
}

/**
 * BLEU (sacreBLEU 13a, or zh for Chinese targets), chrF, exact match and exact match by length.
 * References of a word-level target are compared as that tokenizer splits them (see referenceText).
 */
export async function evaluate(t: Translator, split: Split, o: { beamSize?: number; lengthPenalty?: number; limit?: number; bleuTokenize?: '13a' | 'zh' | 'none'; progress?: boolean } = {}): Promise<EvalReport> {
  o = checkOptions('evaluate', o, { beamSize: 1, lengthPenalty: 1, limit: 1, bleuTokenize: 1, progress: 1 });
  const pairs = o.limit ? split.pairs.slice(0, o.limit) : split.pairs;
  const hyps = await t.translate(pairs.map((p) => p.source), {
    beamSize: o.beamSize ?? 1, ...(o.lengthPenalty !== undefined && { lengthPenalty: o.lengthPenalty }), ...(o.progress !== undefined && { progress: o.progress }),
  });
  const refs = pairs.map((p) => t.referenceText(p.target));
  const tokenize = o.bleuTokenize ?? (refs.some((r) => /[\u4e00-\u9fff]/u.test(r)) ? 'zh' : '13a');
  const bleu = corpusBleu(hyps, [refs], { tokenize });
  return {
    bleu: bleu.score, bleuSignature: bleu.signature, chrf: corpusChrf(hyps, [refs]).score,
    exactMatch: exactMatch(hyps, refs), byLength: exactMatchByLength(hyps, refs, pairs.map((p) => p.length)), count: pairs.length,
    hypotheses: hyps,
  };
}

/** Trains a translation model into `outDir` (or continues it with `resume`). */
export async function trainTranslator(o: TranslateTrainOptions): Promise<{ summary: TrainSummary; translator: Translator; valid: Split; test?: Split }> {
  return withRunLock(o.outDir, 'trainTranslator', () => trainTranslatorLocked(o), o.log);
}

async function trainTranslatorLocked(o: TranslateTrainOptions): Promise<{ summary: TrainSummary; translator: Translator; valid: Split; test?: Split }> {
  const log = o.log ?? (() => {});
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const out = o.outDir;
  const configPath = join(out, CONFIG_FILE);
  let saved: SavedConfig | null = null;
  if (o.resume) {
    if (!existsSync(configPath)) throw new ZhuyiError(`${configPath}: nothing to resume (no ${CONFIG_FILE})`);
    saved = JSON.parse(readFileSync(configPath, 'utf8')) as SavedConfig;
  }
  const data: TranslateDataOptions = saved?.data ?? {
    task: o.task, taskOptions: o.taskOptions, train: o.train, valid: o.valid, sourceColumn: o.sourceColumn, targetColumn: o.targetColumn,
    corpus: o.corpus, direction: o.direction, dataDir: o.dataDir,
    sourceTokenizer: o.sourceTokenizer, targetTokenizer: o.targetTokenizer, lowercase: o.lowercase, minFrequency: o.minFrequency,
    bpeVocabSize: o.bpeVocabSize, maxTokens: o.maxTokens,
  };
  const splits = loadSplits(data);
  if (splits.note) log(splits.note);
  let source: Tokenizer;
  let target: Tokenizer;
  if (saved) {
    source = loadTokenizer(join(out, 'source'));
    target = loadTokenizer(join(out, 'target'));
  } else {
    source = trainTokenizer(splits.sourceKind, splits.train.pairs.map((p) => p.source), data);
    target = trainTokenizer(splits.targetKind, splits.train.pairs.map((p) => p.target), data);
  }
  const { examples, dropped } = encodePairs(splits.train, source, target, data.maxTokens ?? 100);
  if (examples.length === 0) throw new ZhuyiError('translate: no training pairs left after length filtering');
  const valid = encodePairs(splits.valid, source, target);
  log(`data: ${examples.length} training pairs${dropped ? ` (${dropped} longer than ${data.maxTokens ?? 100} tokens left out)` : ''}, ${valid.examples.length} validation; vocab ${source.vocab.size} source, ${target.vocab.size} target`);

  const vocab: TranslationConfig = {
    srcVocabSize: source.vocab.size, tgtVocabSize: target.vocab.size, padId: target.vocab.padId, bosId: target.vocab.bosId, eosId: target.vocab.eosId,
  };
  const kind = saved?.kind ?? o.model;
  const config = saved?.config ?? { ...modelPreset(kind, o.size ?? 'small'), ...(o.modelOptions ?? {}), ...vocab };
  // Initialised from the global generator seeded above: dropout then draws from it too, and the
  // trainer saves and restores its state, so a resumed run sees the same masks.
  const model = buildModel(kind, config);
  if (!saved) {
    mkdirSync(out, { recursive: true });
    if (existsSync(join(out, LAST))) throw new ZhuyiError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
    saveTokenizer(join(out, 'source'), source);
    saveTokenizer(join(out, 'target'), target);
    writeFileAtomic(configPath, `${JSON.stringify({ kind, config, data } satisfies SavedConfig, null, 2)}\n`);
  }
  const batchTokens = o.batchTokens ?? 4096;
  // fixedRows: one batch shape per bucket pair, so the ort backend compiles a bounded set of graphs.
  // The GRU rungs unroll over time, so each (source, target) shape is a graph of its own: square
  // buckets cut their count about fourfold (the Transformer's symbolic graph serves every shape).
  const shapes = { fixedRows: true, squareBuckets: kind !== 'transformer', padId: vocab.padId, maxTokens: batchTokens };
  const batcher = new BucketBatcher(examples, { ...shapes, seed });
  const validBatches = [...new BucketBatcher(valid.examples, { ...shapes, shuffle: false }).epochRest()];
  const translator = new Translator(kind, model, source, target);
  const labelSmoothing = o.labelSmoothing ?? 0.1;
  const validDecode = Math.min(o.validDecode ?? 1000, valid.kept.pairs.length);

  const lossOf = (batch: Batch, smoothing: number): { loss: Tensor; tokens: number } => {
    const { src, srcLengths, tgtIn, tgtOut } = teacherForcing(batch, vocab.bosId);
    const logits = model.forward(src, srcLengths, tgtIn);
    const V = logits.shape[2]!;
    return { loss: crossEntropy(logits.reshape(-1, V), tgtOut.reshape(-1), { ignoreIndex: vocab.padId, labelSmoothing: smoothing }), tokens: batch.tokens };
  };
  const task = batcherTask(batcher, {
    model,
    loss: (b) => lossOf(b, labelSmoothing),
    validate: async (): Promise<Record<string, number>> => {
      let sum = 0;
      let count = 0;
      for (const b of validBatches) {
        const targetTokens = b.targetLengths.reduce((a, n) => a + n, 0);
        const l = noGrad(() => lossOf(b, 0).loss);
        sum += (await l.item()) * targetTokens;
        count += targetTokens;
      }
      if (validDecode === 0) {
        log(`validation: loss ${(sum / count).toFixed(3)}`);
        return { valid_loss: sum / count };
      }
      const rep = await evaluate(translator, { pairs: valid.kept.pairs.slice(0, validDecode) });
      log(`validation: loss ${(sum / count).toFixed(3)}, BLEU ${rep.bleu.toFixed(2)}, exact match ${(100 * rep.exactMatch).toFixed(1)}%`);
      return { valid_loss: sum / count, bleu: rep.bleu, exact_match: rep.exactMatch, chrf: rep.chrf };
    },
    // With no sentences decoded, the best checkpoint is the one of lowest validation loss.
    bestMetric: validDecode > 0 ? { name: 'bleu', higherIsBetter: true } : { name: 'valid_loss', higherIsBetter: false },
  });
  const summary = await train(task, { ...pickTrainOptions(o), outDir: out, meta: { kind } });
  return { summary, translator, valid: valid.kept, test: splits.test };
}


/** Plain weights (a state dict under zhuyi's names): what a PyTorch run writes back (docs/pytorch.md). */
export const PLAIN_WEIGHTS = 'model.safetensors';

/**
 * The model weights of a folder: the training checkpoint asked for (best, else last), or, in a folder
 * without checkpoints, model.safetensors, a plain state dict such as docs/pytorch/translation.py's
 * save_zhuyi_translation writes.
 */
function readWeights(dir: string, which: 'best' | 'last'): Map<string, Tensor> {
  for (const name of which === 'best' ? [BEST, LAST] : [LAST]) {
    if (existsSync(join(dir, name))) return loadCheckpoint(join(dir, name)).model;
  }
  if (existsSync(join(dir, PLAIN_WEIGHTS))) return loadSafetensors(join(dir, PLAIN_WEIGHTS)).tensors;
  throw new ZhuyiError(`${dir}: no weights (${which === 'best' ? `${BEST}, ` : ''}${LAST} or ${PLAIN_WEIGHTS})`);
}

/** Loads a model folder written by trainTranslator (best checkpoint, else last), or a folder of plain weights (model.safetensors). */
export async function loadTranslator(dir: string, which: 'best' | 'last' = 'best'): Promise<Translator> {
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) throw new ZhuyiError(`${dir}: not a zhuyi translation model folder (no ${CONFIG_FILE})`);
  let saved: SavedConfig;
  try {
    saved = JSON.parse(readFileSync(configPath, 'utf8')) as SavedConfig;
  } catch (e) {
    throw new ZhuyiError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  const model = buildModel(saved.kind, saved.config);
  await model.loadStateDict(readWeights(dir, which));
  model.eval();
  return new Translator(saved.kind, model, loadTokenizer(join(dir, 'source')), loadTokenizer(join(dir, 'target')));
}

/** The training split of a folder's data (built-in task, named corpus or files, read with the saved options). */
export function savedTrainSplit(dir: string): Split {
  const saved = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as SavedConfig;
  return loadSplits(saved.data).train;
}

/** The test split of a folder's built-in task or named corpus (same options, so the same held-out set). */
export function savedTestSplit(dir: string): Split | undefined {
  const saved = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as SavedConfig;
  return saved.data.task || saved.data.corpus ? loadSplits(saved.data).test : undefined;
}
