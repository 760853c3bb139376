/**
 * The model-free half of the BERT pipelines: checking the input, encoding it (windows over long
 * texts, batches of equal length), and turning the logits into answers (scores.ts). The forward
 * pass is a callback: zhuyi's BERT on tensors (index.ts) or an exported graph on ONNX Runtime
 * (src/export/runner.ts), so the two answer alike by construction. No tensors and no file system
 * here: browsers import it. Errors are the caller's class (PipelineError, RunnerError) and name
 * the pipeline `P`.
 */
import type { BertEncoding } from '../../text/bert/encoding.js';
import { BertTokenizerError } from '../../text/bert/errors.js';
import type { BertTokenizerCore } from '../../text/bert/tokenizer-core.js';
import {
  type AggregationStrategy, type ClassificationFunction, type EntityGroup, type FillMaskPrediction, type LabelOf, type LabelScore, type QaAnswer, type TokenEntity,
  bestAnswers, labelScores, maskPredictions, resolveOverlaps, windowAnswers, windowEntities,
} from './scores.js';

export type ErrorClass = new (message: string) => Error;

/** Logits of a batch of equal-length encodings, row-major ((B, K) or (B, T, K)). */
export type LogitsOf = (batch: BertEncoding[]) => Promise<ArrayLike<number>>;

export function positiveInt(P: string, Err: ErrorClass, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Err(`${P}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Tokens a forward may take: the tokenizer's model_max_length (if any), capped by max_position_embeddings. */
export function lengthLimit(tokenizer: BertTokenizerCore | null, maxPositionEmbeddings: number): number {
  return Math.min(tokenizer?.modelMaxLength ?? Infinity, maxPositionEmbeddings);
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface FillMaskAtOptions { topK?: number; targets?: readonly string[] }

/**
 * fill-mask: the topK tokens (default 5) at every mask token of `text`, one list per mask; with
 * `targets`, only those vocabulary tokens are ranked (probabilities stay those of the full
 * softmax). `rowsAt` gives the logits (M, V) at the mask positions of the encoded text.
 */
export async function fillMaskAt(P: string, Err: ErrorClass, tokenizer: BertTokenizerCore, limit: number, V: number, text: string, o: FillMaskAtOptions,
  rowsAt: (encoding: BertEncoding, positions: number[]) => Promise<ArrayLike<number>>): Promise<FillMaskPrediction[][]> {
  const { topK = 5, targets } = o;
  positiveInt(P, Err, 'topK', topK);
  const enc = tokenizer.encode(text);
  if (enc.inputIds.length > limit) throw new Err(`${P}: the text is ${enc.inputIds.length} tokens with [CLS] and [SEP]; the model takes at most ${limit}`);
  const positions = maskPositions(P, Err, tokenizer, enc.inputIds, text);
  let targetIds: number[] | undefined;
  if (targets) {
    if (targets.length === 0) throw new Err(`${P}: targets is empty`);
    targetIds = [...new Set(targets.map((t) => {
      const id = tokenizer.vocab.indexOf(t);
      if (id >= 0) return id;
      const pieces = tokenizer.tokenize(t);
      if (pieces.length !== 1 || pieces[0] === tokenizer.unkToken) throw new Err(`${P}: target ${JSON.stringify(t)} is not one vocabulary token (it tokenizes to ${JSON.stringify(pieces)})`);
      return tokenizer.convertTokensToIds(pieces[0]!);
    }))];
    const bad = targetIds.find((id) => id >= V);
    if (bad !== undefined) throw new Err(`${P}: target id ${bad} is outside the model's vocabulary (${V})`);
  }
  const rows = await rowsAt(enc, positions);
  return maskPredictions(tokenizer, enc.inputIds, positions, rows, V, Math.min(topK, targetIds ? targetIds.length : V), targetIds);
}

/** fill-mask: the positions of the mask token in `inputIds`, checked (the token is in the vocabulary, and in the text). */
function maskPositions(P: string, Err: ErrorClass, tokenizer: BertTokenizerCore, inputIds: readonly number[], text: string): number[] {
  const maskToken = tokenizer.maskToken;
  const maskId = tokenizer.convertTokensToIds(maskToken);
  if (tokenizer.vocab[maskId] !== maskToken) throw new Err(`${P}: the tokenizer's mask token ${JSON.stringify(maskToken)} is not in its vocabulary`);
  const positions = inputIds.flatMap((id, t) => (id === maskId ? [t] : []));
  if (positions.length === 0) throw new Err(`${P}: no mask token (${maskToken}) in the text ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`);
  return positions;
}

export interface ClassifyTextsOptions { topK?: number | null; functionToApply: ClassificationFunction; textPair?: string | readonly string[]; batchSize?: number }

/** Text classification of `texts` (with their pairs), batched with padding, truncated to `limit`; K labels. */
export async function classifyTexts(P: string, Err: ErrorClass, tokenizer: BertTokenizerCore, limit: number, texts: readonly string[], o: ClassifyTextsOptions,
  K: number, label: LabelOf, logitsOf: LogitsOf): Promise<LabelScore[][]> {
  if (texts.some((t) => typeof t !== 'string')) throw new Err(`${P}: texts must be strings`);
  const { topK = 1, batchSize = 32, functionToApply: fn } = o;
  if (topK !== null) positiveInt(P, Err, 'topK', topK);
  positiveInt(P, Err, 'batchSize', batchSize);
  if (!['softmax', 'sigmoid', 'none'].includes(fn)) throw new Err(`${P}: functionToApply must be softmax, sigmoid or none, got ${JSON.stringify(fn)}`);
  let pairs: string[] | null = null;
  if (o.textPair !== undefined) {
    pairs = typeof o.textPair === 'string' ? [o.textPair] : [...o.textPair];
    if (pairs.length !== texts.length) throw new Err(`${P}: ${texts.length} texts but ${pairs.length} text pairs`);
  }
  const results: LabelScore[][] = [];
  for (const part of chunks(texts.map((_, i) => i), batchSize)) {
    const encs = tokenizer.encodeBatch(part.map((i) => texts[i]!), pairs ? part.map((i) => pairs![i]!) : null, { padding: true, truncation: true, maxLength: limit });
    const data = await logitsOf(encs); // (B, K)
    part.forEach((_, r) => results.push(labelScores(Array.from({ length: K }, (_, k) => data[r * K + k]!), fn, topK, label)));
  }
  return results;
}

export interface ClassifyTokensOptions { aggregation?: AggregationStrategy; ignoreLabels?: readonly string[]; stride?: number; batchSize?: number }

/**
 * Token classification (NER) of `text`: truncated to `limit`, or with `stride` in windows that
 * overlap by that many tokens, whose entities are then resolved as HF does.
 */
export async function classifyTokens(P: string, Err: ErrorClass, tokenizer: BertTokenizerCore, limit: number, text: string, o: ClassifyTokensOptions,
  label: LabelOf, logitsOf: LogitsOf): Promise<(TokenEntity | EntityGroup)[]> {
  if (typeof text !== 'string') throw new Err(`${P}: text must be a string, got ${text === null ? 'null' : typeof text}`);
  const { aggregation = 'none', ignoreLabels = ['O'], stride, batchSize = 8 } = o;
  if (!['none', 'simple', 'first', 'max', 'average'].includes(aggregation)) {
    throw new Err(`${P}: aggregation must be none, simple, first, max or average, got ${JSON.stringify(aggregation)}`);
  }
  positiveInt(P, Err, 'batchSize', batchSize);
  if (stride !== undefined) {
    if (!Number.isInteger(stride) || stride < 0) throw new Err(`${P}: stride must be a non-negative integer, got ${String(stride)}`);
    if (aggregation === 'none') throw new Err(`${P}: stride splits the text into windows, which needs an aggregation other than 'none' to merge (HF refuses the same)`);
    if (stride >= limit - 2) throw new Err(`${P}: stride ${stride} must be smaller than the ${limit - 2} text tokens a window holds`);
  }
  const enc = tokenizer.encode(text, {
    truncation: true, maxLength: limit, returnOffsetsMapping: true, returnSpecialTokensMask: true,
    returnOverflowingTokens: stride !== undefined, stride: stride ?? 0, padding: stride !== undefined,
  });
  const windows = [enc, ...(enc.overflowing ?? [])];
  const ignore = new Set(ignoreLabels);
  const all: (TokenEntity | EntityGroup)[] = [];
  for (const part of chunks(windows, batchSize)) {
    const data = await logitsOf(part); // (W, T, K)
    const T = part[0]!.inputIds.length;
    const K = data.length / (part.length * T);
    part.forEach((w, r) => all.push(...windowEntities(tokenizer, text, w, data, r * T * K, K, aggregation, ignore, label)));
  }
  return windows.length > 1 ? resolveOverlaps(all) : all;
}

export interface AnswerQuestionOptions {
  topK?: number; maxAnswerLength?: number; docStride?: number; maxSeqLength?: number; handleImpossibleAnswer?: boolean; alignToWords?: boolean; batchSize?: number;
}

/**
 * Extractive QA (HF's QuestionAnsweringPipeline): the question and the context encoded as a pair,
 * the context in windows of maxSeqLength tokens (capped by `limit`) overlapping by docStride; the
 * best spans of every window merged (see windowAnswers). The best answer, or the topK best when
 * topK is given. `logitsOf` gives the start and end logits (W, T) of a batch of windows.
 */
export async function answerQuestion(P: string, Err: ErrorClass, tokenizer: BertTokenizerCore, limit: number, question: string, context: string, o: AnswerQuestionOptions,
  logitsOf: (windows: BertEncoding[]) => Promise<{ start: ArrayLike<number>; end: ArrayLike<number> }>): Promise<QaAnswer | QaAnswer[]> {
  const { maxAnswerLength = 15, maxSeqLength = 384, handleImpossibleAnswer = false, alignToWords = true, batchSize = 8 } = o;
  const topK = o.topK ?? 1;
  for (const [name, v] of [['topK', topK], ['maxAnswerLength', maxAnswerLength], ['maxSeqLength', maxSeqLength], ['batchSize', batchSize]] as const) positiveInt(P, Err, name, v);
  if (typeof question !== 'string' || question.trim() === '') throw new Err(`${P}: the question is empty`);
  if (typeof context !== 'string' || tokenizer.tokenize(context).length === 0) throw new Err(`${P}: the context is empty (no tokens)`);
  const seqLen = Math.min(maxSeqLength, limit);
  const questionTokens = tokenizer.tokenize(question).length;
  const room = seqLen - questionTokens - 3;
  if (room < 1) throw new Err(`${P}: the question is ${questionTokens} tokens, leaving no room for the context in ${seqLen}-token windows (maxSeqLength)`);
  const docStride = o.docStride ?? Math.min(128, Math.floor(seqLen / 2), room - 1);
  if (!Number.isInteger(docStride) || docStride < 0) throw new Err(`${P}: docStride must be a non-negative integer, got ${String(docStride)}`);
  let enc: BertEncoding;
  try {
    enc = tokenizer.encode(question, context, {
      truncation: 'only_second', maxLength: seqLen, stride: docStride, returnOverflowingTokens: true,
      returnOffsetsMapping: true, returnSpecialTokensMask: true, padding: true,
    });
  } catch (e) {
    if (e instanceof BertTokenizerError) {
      throw new Err(`${P}: cannot split the context into windows: ${e.message} (windows of ${seqLen} tokens hold ${room} context tokens; docStride ${docStride} must be smaller)`);
    }
    throw e;
  }
  const clsId = tokenizer.convertTokensToIds(tokenizer.clsToken);
  const found = new Map<string, QaAnswer>();
  let minNullScore = Infinity;
  for (const part of chunks([enc, ...(enc.overflowing ?? [])], batchSize)) {
    const { start, end } = await logitsOf(part);
    const T = part[0]!.inputIds.length;
    part.forEach((w, r) => { minNullScore = Math.min(minNullScore, windowAnswers(tokenizer, context, w, start, end, r * T, clsId, { maxAnswerLength, alignToWords, topK }, found)); });
  }
  const best = bestAnswers(found, handleImpossibleAnswer ? minNullScore : null, topK);
  return o.topK === undefined ? best[0]! : best;
}
