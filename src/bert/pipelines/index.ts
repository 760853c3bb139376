/**
 * Inference pipelines over BERT models and a BertTokenizer, following Hugging Face's pipelines:
 *
 *   fillMask        FillMaskPipeline             BertForMaskedLM (or BertForPreTraining)
 *   classify        TextClassificationPipeline   BertForSequenceClassification
 *   tokenClassify   TokenClassificationPipeline  BertForTokenClassification (NER, BIO grouping)
 *   answer          QuestionAnsweringPipeline    BertForQuestionAnswering (extractive, stride windows)
 *   embed           feature extraction + pooling (sentence-transformers style)   BertModel
 *
 * Every pipeline builds its graph with the model in eval mode (dropout off) and without autograd
 * history; the model's own train/eval flags are restored once the graph is built. What follows the
 * forward pass (scores in float64, top-k, grouping) lives in scores.ts, and the input checks and
 * windows in core.ts: both are shared with the ONNX runner of src/export.
 * Character offsets (`start`, `end`) index the caller's original string (the tokenizer's offsets).
 */
import * as F from '../../ops/functional.js';
import type { Module } from '../../nn/module.js';
import { ZhuyiError } from '../../tensor/errors.js';
import { noGrad } from '../../tensor/grad-mode.js';
import { realize } from '../../tensor/realize.js';
import { type Tensor, tensor } from '../../tensor/tensor.js';
import type { BertEncoding } from '../../text/bert/encoding.js';
import type { BertTokenizer } from '../../text/bert/tokenizer.js';
import { BertForMaskedLM, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification } from '../../models/bert/heads.js';
import { BertModel } from '../../models/bert/modeling.js';
import type { BertPreTrainedModel } from '../../models/bert/pretrained-core.js';
import {
  type AggregationStrategy, type ClassificationFunction, type EntityGroup, type FillMaskPrediction, type LabelScore, type TokenEntity,
  classificationFunction, labelOf, type QaAnswer,
} from './scores.js';
import { answerQuestion, chunks, classifyTexts, classifyTokens, fillMaskAt, lengthLimit as coreLengthLimit, positiveInt as checkPositive } from './core.js';
export type { QaAnswer } from './scores.js';
import { checkOptions } from '../../tensor/options.js';

export type { AggregationStrategy, ClassificationFunction, EntityGroup, FillMaskPrediction, LabelScore, TokenEntity } from './scores.js';

/** A pipeline was given the wrong model, an input it cannot handle, or a bad option. Messages name the pipeline. */
export class PipelineError extends ZhuyiError {}

// ---- shared helpers ------------------------------------------------------------------------------

function className(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  return (x as object).constructor?.name ?? typeof x;
}

function expectModel<T>(pipeline: string, model: unknown, classes: (abstract new (...args: never[]) => T)[]): T {
  if (classes.some((c) => model instanceof c)) return model as T;
  throw new PipelineError(`${pipeline}: needs a ${classes.map((c) => c.name).join(' or ')}, got ${className(model)}`);
}

function expectTokenizer(pipeline: string, tokenizer: BertTokenizer): void {
  if (!tokenizer || typeof tokenizer.encode !== 'function' || !Array.isArray(tokenizer.vocab)) {
    throw new PipelineError(`${pipeline}: needs a BertTokenizer, got ${className(tokenizer)}`);
  }
}

function positiveInt(pipeline: string, name: string, v: number): number {
  return checkPositive(pipeline, PipelineError, name, v);
}

/** Tokens a forward may take: the tokenizer's model_max_length, capped by max_position_embeddings. */
function lengthLimit(tokenizer: BertTokenizer, model: BertPreTrainedModel): number {
  return coreLengthLimit(tokenizer, model.config.maxPositionEmbeddings);
}

/**
 * Builds a graph with the whole model in eval mode and grad recording off, then puts every module's
 * training flag back. Graph construction is synchronous (tensors are lazy); dropout reads the flag
 * when the graph is built, so realizing later is unaffected.
 */
function buildInEval<T>(model: Module, fn: () => T): T {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

interface BatchTensors { inputIds: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor }

/** Equal-length encodings -> (B, T) int32 tensors. */
function batchTensors(encs: readonly BertEncoding[]): BatchTensors {
  const rows = (k: 'inputIds' | 'attentionMask' | 'tokenTypeIds'): Tensor => tensor(encs.map((e) => e[k]), { dtype: 'int32' });
  return { inputIds: rows('inputIds'), attentionMask: rows('attentionMask'), tokenTypeIds: rows('tokenTypeIds') };
}

/** A headed model's forward over equal-length encodings, built in eval mode (buildInEval). */
function forwardBatch<O>(m: Module & { forward(inputIds: Tensor, o: { attentionMask: Tensor; tokenTypeIds: Tensor }): O }, encs: readonly BertEncoding[]): O {
  const b = batchTensors(encs);
  return buildInEval(m, () => m.forward(b.inputIds, { attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds }));
}

// ---- fill-mask -----------------------------------------------------------------------------------

export interface FillMaskOptions {
  /** Predictions per [MASK]. Default 5 (capped by the vocabulary, or by the number of targets). */
  topK?: number;
  /** Score only these tokens (each must be one vocabulary token); probabilities stay those of the full softmax, as in HF. */
  targets?: readonly string[];
}

/**
 * HF's FillMaskPipeline: for each mask token in `text` (in order), the topK most probable tokens.
 * Returns one list per mask, even for a single mask.
 */
export async function fillMask(model: BertForMaskedLM | BertForPreTraining, tokenizer: BertTokenizer, text: string, options: FillMaskOptions = {}): Promise<FillMaskPrediction[][]> {
  options = checkOptions('fillMask', options, { topK: 1, targets: 1 });
  const P = 'fillMask';
  const m = expectModel<BertForMaskedLM | BertForPreTraining>(P, model, [BertForMaskedLM, BertForPreTraining]);
  expectTokenizer(P, tokenizer);
  return fillMaskAt(P, PipelineError, tokenizer, lengthLimit(tokenizer, m), m.config.vocabSize, text, options, (enc, positions) => {
    // Only the mask rows go through the MLM head: the head works token by token, so this equals
    // slicing the full (1, T, V) logits.
    const logits = buildInEval(m, () => {
      const ids = tensor([enc.inputIds], { dtype: 'int32' });
      const hidden = m.bert.forward(ids, { tokenTypeIds: tensor([enc.tokenTypeIds], { dtype: 'int32' }) }).lastHiddenState; // (1, T, C)
      const atMasks = F.indexSelect(hidden, 1, tensor(positions, { dtype: 'int32' })); // (1, M, C)
      return m.cls.predictions.forward(atMasks); // (1, M, V)
    });
    return logits.data();
  });
}

// ---- text classification -------------------------------------------------------------------------

export interface ClassifyOptions {
  /** Labels per text, best first. Default 1; null for every label. */
  topK?: number | null;
  /**
   * Default from the config: problem_type regression -> none, multi_label_classification -> sigmoid,
   * single_label_classification -> softmax; unset: numLabels 1 -> none (a regression head, as the
   * model's loss treats it; HF's pipeline applies sigmoid there), otherwise softmax.
   */
  functionToApply?: ClassificationFunction;
  /** Second segments, one per text (sentence-pair tasks such as NLI). */
  textPair?: string | readonly string[];
  /** Texts per forward pass (each batch is padded to its longest text). Default 32. */
  batchSize?: number;
}

/** The score function classify applies by default for this model's config. */
export function defaultClassificationFunction(model: BertForSequenceClassification): ClassificationFunction {
  return classificationFunction(model.config.problemType, model.config.numLabels);
}

/**
 * HF's TextClassificationPipeline: labels (from config id2label) with scores, best first. Texts are
 * batched with padding and an attention mask, and truncated to the model's length limit.
 */
export function classify(model: BertForSequenceClassification, tokenizer: BertTokenizer, text: string, options?: ClassifyOptions): Promise<LabelScore[]>;
export function classify(model: BertForSequenceClassification, tokenizer: BertTokenizer, texts: readonly string[], options?: ClassifyOptions): Promise<LabelScore[][]>;
export async function classify(model: BertForSequenceClassification, tokenizer: BertTokenizer, texts: string | readonly string[], options: ClassifyOptions = {}): Promise<LabelScore[] | LabelScore[][]> {
  options = checkOptions('classify', options, { topK: 1, functionToApply: 1, textPair: 1, batchSize: 1 });
  const P = 'classify';
  const m = expectModel<BertForSequenceClassification>(P, model, [BertForSequenceClassification]);
  expectTokenizer(P, tokenizer);
  const single = typeof texts === 'string';
  const fn = options.functionToApply ?? defaultClassificationFunction(m);
  const results = await classifyTexts(P, PipelineError, tokenizer, lengthLimit(tokenizer, m), single ? [texts] : [...texts], { ...options, functionToApply: fn }, m.config.numLabels, labelOf(m.config.id2label), (encs) => forwardBatch(m, encs).logits.data()); // (B, K)
  return single ? results[0]! : results;
}

// ---- token classification ------------------------------------------------------------------------

export interface TokenClassifyOptions {
  /**
   * 'none' (default, as HF): one entry per token. 'simple': consecutive tokens grouped by BIO tags.
   * 'first' / 'max' / 'average': tokens first merged into words (a word's label is its first token's,
   * its most confident token's, or the argmax of its tokens' averaged scores), then grouped.
   */
  aggregation?: AggregationStrategy;
  /** Labels (or groups) left out. Default ['O']. */
  ignoreLabels?: readonly string[];
  /**
   * Long texts: without a stride the text is truncated to the model's length limit (HF's default);
   * with one, it is split into windows overlapping by `stride` tokens and overlapping entities are
   * resolved as HF does (longer span wins, then higher score). Needs an aggregation other than 'none'.
   */
  stride?: number;
  /** Windows per forward pass. Default 8. */
  batchSize?: number;
}

/**
 * HF's TokenClassificationPipeline (NER). Entities carry character offsets into `text`; special
 * tokens are never labelled. A token is a sub-word when it starts with the WordPiece continuation
 * prefix ('##'), which is what HF's length test amounts to for BERT's fast tokenizer.
 */
export function tokenClassify(model: BertForTokenClassification, tokenizer: BertTokenizer, text: string, options?: TokenClassifyOptions & { aggregation?: 'none' }): Promise<TokenEntity[]>;
export function tokenClassify(model: BertForTokenClassification, tokenizer: BertTokenizer, text: string, options: TokenClassifyOptions & { aggregation: 'simple' | 'first' | 'max' | 'average' }): Promise<EntityGroup[]>;
export function tokenClassify(model: BertForTokenClassification, tokenizer: BertTokenizer, text: string, options?: TokenClassifyOptions): Promise<(TokenEntity | EntityGroup)[]>;
export async function tokenClassify(model: BertForTokenClassification, tokenizer: BertTokenizer, text: string, options: TokenClassifyOptions = {}): Promise<(TokenEntity | EntityGroup)[]> {
  options = checkOptions('tokenClassify', options, { aggregation: 1, ignoreLabels: 1, stride: 1, batchSize: 1 });
  const P = 'tokenClassify';
  const m = expectModel<BertForTokenClassification>(P, model, [BertForTokenClassification]);
  expectTokenizer(P, tokenizer);
  return classifyTokens(P, PipelineError, tokenizer, lengthLimit(tokenizer, m), text, options, labelOf(m.config.id2label), (windows) => forwardBatch(m, windows).logits.data()); // (W, T, K)
}

// ---- question answering --------------------------------------------------------------------------

export interface AnswerOptions {
  /** Answers to return, best first. Without it, answer() returns the best answer itself; with it, a list. */
  topK?: number;
  /** Longest answer in tokens. Default 15. */
  maxAnswerLength?: number;
  /**
   * Tokens shared by consecutive windows over a long context (the tokenizer's stride). Default
   * min(128, maxSeqLength / 2) as HF, further lowered when a long question leaves fewer context
   * tokens per window; an explicit value must be smaller than that room.
   */
  docStride?: number;
  /** Window length in tokens, question and special tokens included. Default 384 (capped by the model's limit). */
  maxSeqLength?: number;
  /** Also offer the empty answer, scored by the [CLS] start and end probabilities (SQuAD 2.0 models). Default false. */
  handleImpossibleAnswer?: boolean;
  /** Widen the span to whole words (a start inside "##" pieces moves to the word's start). Default true, as HF. */
  alignToWords?: boolean;
  /** Windows per forward pass. Default 8. */
  batchSize?: number;
}

/**
 * HF's QuestionAnsweringPipeline (extractive QA): the question and the context are encoded as a
 * pair, the context split into windows of maxSeqLength tokens overlapping by docStride. In each
 * window only context tokens may start or end the answer, start <= end, and the answer is at most
 * maxAnswerLength tokens; a span scores softmax(start)[s] * softmax(end)[e]. The best spans of all
 * windows are merged (the same character span from two windows counts once, at its best score).
 */
export function answer(model: BertForQuestionAnswering, tokenizer: BertTokenizer, question: string, context: string, options?: AnswerOptions & { topK?: undefined }): Promise<QaAnswer>;
export function answer(model: BertForQuestionAnswering, tokenizer: BertTokenizer, question: string, context: string, options: AnswerOptions & { topK: number }): Promise<QaAnswer[]>;
export async function answer(model: BertForQuestionAnswering, tokenizer: BertTokenizer, question: string, context: string, options: AnswerOptions = {}): Promise<QaAnswer | QaAnswer[]> {
  options = checkOptions('answer', options, { topK: 1, maxAnswerLength: 1, docStride: 1, maxSeqLength: 1, handleImpossibleAnswer: 1, alignToWords: 1, batchSize: 1 });
  const P = 'answer';
  const m = expectModel<BertForQuestionAnswering>(P, model, [BertForQuestionAnswering]);
  expectTokenizer(P, tokenizer);
  return answerQuestion(P, PipelineError, tokenizer, lengthLimit(tokenizer, m), question, context, options, async (windows) => {
    const { startLogits, endLogits } = forwardBatch(m, windows); // (W, T) each
    await realize(startLogits, endLogits);
    return { start: startLogits.buffer!, end: endLogits.buffer! };
  });
}

// ---- embeddings ----------------------------------------------------------------------------------

export type EmbedPooling = 'cls' | 'mean' | 'pooler';

export interface EmbedOptions {
  /**
   * 'mean' (default): average of the last hidden states over real tokens ([CLS] and [SEP] included,
   * padding excluded), as sentence-transformers' mean pooling. 'cls': the [CLS] token's last hidden
   * state. 'pooler': BERT's pooler output, tanh(dense(h_cls)) (needs a model built with the pooler).
   */
  pooling?: EmbedPooling;
  /** Scale each vector to unit L2 norm. Default true. */
  normalize?: boolean;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
}

/**
 * Sentence embeddings from the encoder: one vector per text (a single string gives one row). A
 * headed model is accepted too and its encoder (`model.bert`) is used. Texts are truncated to the
 * model's length limit.
 */
export async function embed(model: BertModel | { bert: BertModel }, tokenizer: BertTokenizer, texts: string | readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
  const { pooling = 'mean', normalize = true, batchSize = 32 } = checkOptions('embed', options, { pooling: 1, normalize: 1, batchSize: 1 });
  const P = 'embed';
  const encoder = model instanceof BertModel ? model : model && (model as { bert?: unknown }).bert instanceof BertModel ? (model as { bert: BertModel }).bert : null;
  if (!encoder) throw new PipelineError(`${P}: needs a BertModel (or a BERT model with a .bert encoder), got ${className(model)}`);
  expectTokenizer(P, tokenizer);
  if (!['cls', 'mean', 'pooler'].includes(pooling)) throw new PipelineError(`${P}: pooling must be cls, mean or pooler, got ${JSON.stringify(pooling)}`);
  if (pooling === 'pooler' && !encoder.pooler) throw new PipelineError(`${P}: pooling 'pooler' needs a BertModel with a pooler (this one was built without; use 'cls' or 'mean')`);
  positiveInt(P, 'batchSize', batchSize);
  const list = typeof texts === 'string' ? [texts] : [...texts];
  if (list.some((t) => typeof t !== 'string')) throw new PipelineError(`${P}: texts must be strings`);
  const limit = lengthLimit(tokenizer, encoder);
  const out: number[][] = [];
  for (const part of chunks(list, batchSize)) {
    const b = batchTensors(tokenizer.encodeBatch(part, null, { padding: true, truncation: true, maxLength: limit }));
    const pooled = buildInEval(encoder, () => {
      const res = encoder.forward(b.inputIds, { attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds });
      const h = res.lastHiddenState; // (B, T, C)
      if (pooling === 'pooler') return res.poolerOutput!;
      if (pooling === 'cls') return F.squeeze(F.slice(h, 1, 0, 1), 1); // (B, 1, C) -> (B, C)
      const mask = F.cast(b.attentionMask, 'float32'); // (B, T)
      const summed = F.sum(F.mul(h, F.unsqueeze(mask, -1)), 1); // (B, C)
      const counts = F.clamp(F.sum(mask, 1, true), 1e-9); // (B, 1)
      return F.div(summed, counts);
    });
    const data = await pooled.data();
    const C = pooled.shape[1]!;
    for (let r = 0; r < part.length; r++) {
      const v = Array.from(data.subarray(r * C, (r + 1) * C));
      if (normalize) {
        const norm = Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), 1e-12); // torch.nn.functional.normalize's eps
        for (let c = 0; c < C; c++) v[c] = v[c]! / norm;
      }
      out.push(v);
    }
  }
  return out;
}
