/**
 * Extractive question answering data and metrics (SQuAD v1.1):
 *
 *   readSquadFile    SQuAD v1.1 JSON: { data: [{ title, paragraphs: [{ context, qas: [{ id, question,
 *                    answers: [{ text, answer_start }] }] }] }] }. Every answer must sit at its
 *                    answer_start in the context; errors name the file and the JSON path
 *                    (data[3].paragraphs[0].qas[2].answers[0].answer_start).
 *   qaFeatures       Hugging Face run_qa's prepare_train_features / prepare_validation_features: the
 *                    question and the context as a pair, truncation 'only_second', windows of
 *                    maxSeqLength tokens overlapping by docStride; the answer's start and end tokens
 *                    found through the offset mapping, or [CLS] (0) when the window does not hold the
 *                    whole answer.
 *   bestAnswer       run_qa's postprocess_qa_predictions: the nBestSize highest start and end logits of
 *                    each window, spans inside the context with start <= end and at most
 *                    maxAnswerLength tokens, scored start + end logit, best over all windows.
 *   squadScores      the official v1.1 evaluation: normalize (lowercase, drop ASCII punctuation, drop
 *                    the articles a / an / the, collapse whitespace), exact match and token F1, each
 *                    the maximum over the gold answers, averaged and scaled to 0..100.
 */
import { DataFormatError, readBytes } from '../../data/read.js';
import { ArgumentError } from '../../tensor/errors.js';
import type { BertEncoding } from '../../text/bert/encoding.js';
import type { BertTokenizer } from '../../text/bert/tokenizer.js';
import { checkOptions } from '../../tensor/options.js';

export interface SquadAnswer {
  text: string;
  /** Character offset of the answer in the context. */
  answerStart: number;
}

export interface SquadExample {
  id: string;
  title: string;
  question: string;
  context: string;
  /** One for SQuAD's training set, usually three for its dev set. */
  answers: SquadAnswer[];
  /** JSON path of the question, for messages. */
  path: string;
}

export interface SquadData {
  file: string;
  version: string | null;
  examples: SquadExample[];
  /** Paragraphs (contexts) read. */
  contexts: number;
}

export interface SquadReadOptions {
  /** Every question needs at least one answer (default true); false reads questions for prediction. */
  requireAnswers?: boolean;
}

/** Reads a SQuAD v1.1 file. */
export function readSquadFile(file: string, options: SquadReadOptions = {}): SquadData {
  const { requireAnswers = true } = checkOptions('readSquadFile', options, { requireAnswers: 1 });
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readBytes(file)).replace(/^\ufeff/, ''));
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(file, 0, 0, `not valid JSON (${(e as Error).message})`);
  }
  const fail = (path: string, reason: string): never => { throw new DataFormatError(file, 0, 0, `${path}: ${reason}`); };
  const show = (v: unknown): string => { const s = JSON.stringify(v) ?? String(v); return s.length > 60 ? `${s.slice(0, 57)}...` : s; };
  const obj = (v: unknown, path: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object, got ${Array.isArray(v) ? 'an array' : show(v)}`);
    return v as Record<string, unknown>;
  };
  const arr = (o: Record<string, unknown>, key: string, path: string): unknown[] => {
    if (!(key in o)) fail(path, `missing key "${key}"`);
    const v = o[key];
    if (!Array.isArray(v)) fail(`${path}.${key}`, `expected an array, got ${show(v)}`);
    return v as unknown[];
  };
  const str = (o: Record<string, unknown>, key: string, path: string, allowEmpty = false): string => {
    if (!(key in o)) fail(path, `missing key "${key}"`);
    const v = o[key];
    if (typeof v !== 'string') fail(`${path}.${key}`, `expected a string, got ${show(v)}`);
    if (!allowEmpty && (v as string).trim() === '') fail(`${path}.${key}`, 'is empty');
    return v as string;
  };
  const top = obj(root, '(root)');
  const version = typeof top.version === 'string' ? top.version : null;
  const examples: SquadExample[] = [];
  const seen = new Map<string, string>();
  let contexts = 0;
  if (!('data' in top)) fail('(root)', 'missing key "data" (a SQuAD file is { "version": ..., "data": [...] })');
  arr(top, 'data', '(root)').forEach((article, a) => {
    const ap = `data[${a}]`;
    const art = obj(article, ap);
    const title = typeof art.title === 'string' ? art.title : '';
    arr(art, 'paragraphs', ap).forEach((paragraph, p) => {
      const pp = `${ap}.paragraphs[${p}]`;
      const par = obj(paragraph, pp);
      const context = str(par, 'context', pp);
      contexts++;
      arr(par, 'qas', pp).forEach((qa, q) => {
        const qp = `${pp}.qas[${q}]`;
        const rec = obj(qa, qp);
        const idValue = rec.id;
        if (idValue === undefined) fail(qp, 'missing key "id"');
        if (typeof idValue !== 'string' && typeof idValue !== 'number') fail(`${qp}.id`, `expected a string, got ${show(idValue)}`);
        const id = String(idValue);
        const before = seen.get(id);
        if (before !== undefined) fail(`${qp}.id`, `id ${JSON.stringify(id)} repeats ${before}.id`);
        seen.set(id, qp);
        const question = str(rec, 'question', qp);
        if (rec.is_impossible === true) fail(`${qp}.is_impossible`, 'unanswerable questions (SQuAD 2.0) are not supported; give SQuAD v1.1 data');
        const answers: SquadAnswer[] = [];
        const list = 'answers' in rec || requireAnswers ? arr(rec, 'answers', qp) : [];
        list.forEach((answer, k) => {
          const xp = `${qp}.answers[${k}]`;
          const ans = obj(answer, xp);
          const text = str(ans, 'text', xp);
          if (!('answer_start' in ans)) fail(xp, 'missing key "answer_start"');
          const start = ans.answer_start;
          if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) fail(`${xp}.answer_start`, `expected a non-negative integer, got ${show(start)}`);
          const at = context.slice(start as number, (start as number) + text.length);
          if (at !== text) {
            fail(`${xp}.answer_start`, `${start as number} does not point at the answer: the context has ${JSON.stringify(at)} there, the answer is ${JSON.stringify(text)}`);
          }
          answers.push({ text, answerStart: start as number });
        });
        if (requireAnswers && answers.length === 0) fail(`${qp}.answers`, 'is empty (every question needs an answer in SQuAD v1.1; unanswerable questions are SQuAD 2.0)');
        examples.push({ id, title, question, context, answers, path: qp });
      });
    });
  });
  if (examples.length === 0) fail('data', 'no questions');
  return { file, version, examples, contexts };
}

// ---- features ------------------------------------------------------------------------------------

export interface QaFeatureOptions {
  /** Window length in tokens, question and special tokens included (default 384). */
  maxSeqLength?: number;
  /** Tokens shared by consecutive windows of a long context (default 128). */
  docStride?: number;
}

/** One window of one example. */
export interface QaFeature {
  /** Index of the example. */
  example: number;
  ids: Int32Array;
  /** 0 for [CLS] question [SEP], 1 for context [SEP]. */
  types: Int32Array;
  /** Character span of each token in the context, [-1, -1] off the context (question, specials): (T, 2) flattened. */
  offsets: Int32Array;
  /** Token positions of the first answer's start and end; 0 ([CLS]) both when the window does not hold it. */
  startPosition: number;
  endPosition: number;
}

export interface QaFeatureSet {
  features: QaFeature[];
  /** Examples without a window: the question alone fills maxSeqLength (listed by index). */
  skipped: number[];
  /** Examples whose docStride was lowered to fit a long question's windows. */
  strideLowered: number;
}

/** Splits examples into windows with answer positions, as HF run_qa (features for training and for validation alike). */
export function qaFeatures(examples: readonly SquadExample[], tokenizer: BertTokenizer, { maxSeqLength = 384, docStride = 128 }: QaFeatureOptions = {}): QaFeatureSet {
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 8) throw new ArgumentError(`qaFeatures: maxSeqLength must be an integer of at least 8, got ${maxSeqLength}`);
  if (!Number.isInteger(docStride) || docStride < 0) throw new ArgumentError(`qaFeatures: docStride must be a non-negative integer, got ${docStride}`);
  const features: QaFeature[] = [];
  const skipped: number[] = [];
  let strideLowered = 0;
  examples.forEach((ex, e) => {
    // run_qa strips the questions' leading whitespace (some SQuAD questions have lots of it).
    const question = ex.question.trimStart();
    const room = maxSeqLength - tokenizer.tokenize(question).length - 3;
    if (room < 1) { skipped.push(e); return; }
    let stride = docStride;
    if (stride >= room) { stride = room - 1; strideLowered++; }
    const enc = tokenizer.encode(question, ex.context, {
      truncation: 'only_second', maxLength: maxSeqLength, stride, returnOverflowingTokens: true, returnOffsetsMapping: true, returnSpecialTokensMask: true,
    });
    const answer = ex.answers[0];
    for (const w of [enc, ...(enc.overflowing ?? [])]) features.push(windowFeature(w, e, answer));
  });
  return { features, skipped, strideLowered };
}

function windowFeature(w: BertEncoding, example: number, answer: SquadAnswer | undefined): QaFeature {
  const T = w.inputIds.length;
  const offsets = new Int32Array(2 * T).fill(-1);
  let first = -1;
  let last = -1;
  for (let t = 0; t < T; t++) {
    if (w.tokenTypeIds[t] !== 1 || w.specialTokensMask![t]) continue;
    offsets[2 * t] = w.offsets![t]![0];
    offsets[2 * t + 1] = w.offsets![t]![1];
    if (first < 0) first = t;
    last = t;
  }
  let startPosition = 0;
  let endPosition = 0;
  if (answer && first >= 0) {
    const startChar = answer.answerStart;
    const endChar = startChar + answer.text.length;
    // prepare_train_features: label [CLS] unless the window holds the whole answer, else move in from both ends
    // (bounded by the window's last context token: run_qa's loop runs past it, onto [SEP], when the answer
    // starts at that token, its acknowledged "edge case").
    if (offsets[2 * first]! <= startChar && offsets[2 * last + 1]! >= endChar) {
      let s = first;
      while (s <= last && offsets[2 * s]! <= startChar) s++;
      let e = last;
      while (e >= first && offsets[2 * e + 1]! >= endChar) e--;
      startPosition = s - 1;
      endPosition = e + 1;
    }
  }
  return { example, ids: Int32Array.from(w.inputIds), types: Int32Array.from(w.tokenTypeIds), offsets, startPosition, endPosition };
}

// ---- post-processing -----------------------------------------------------------------------------

export interface BestAnswerOptions {
  /** Start and end candidates per window (default 20, run_qa's n_best_size). */
  nBestSize?: number;
  /** Longest answer in tokens (default 30, run_qa's max_answer_length). */
  maxAnswerLength?: number;
}

export interface SpanAnswer {
  text: string;
  /** Character offsets into the context. */
  start: number;
  end: number;
  /** start logit + end logit. */
  score: number;
}

/** Indices of the n largest values, largest first (ties: lower index first). */
function topN(values: ArrayLike<number>, from: number, len: number, n: number): number[] {
  const idx = Array.from({ length: len }, (_, k) => k);
  idx.sort((a, b) => values[from + b]! - values[from + a]! || a - b);
  return idx.slice(0, n);
}

/**
 * The best span of one example over its windows (postprocess_qa_predictions without the null
 * answer). `windows[k]` holds the feature and its (T) start and end logits starting at `row * T`;
 * returns an empty answer when no window offers a valid span.
 */
export function bestAnswer(context: string, windows: ReadonlyArray<{ feature: QaFeature; startLogits: ArrayLike<number>; endLogits: ArrayLike<number>; from?: number }>, { nBestSize = 20, maxAnswerLength = 30 }: BestAnswerOptions = {}): SpanAnswer {
  let best: SpanAnswer = { text: '', start: 0, end: 0, score: -Infinity };
  for (const { feature, startLogits, endLogits, from = 0 } of windows) {
    const T = feature.ids.length;
    const off = feature.offsets;
    const starts = topN(startLogits, from, T, nBestSize);
    const ends = topN(endLogits, from, T, nBestSize);
    for (const s of starts) {
      if (off[2 * s]! < 0) continue;
      for (const e of ends) {
        if (off[2 * e]! < 0 || e < s || e - s + 1 > maxAnswerLength) continue;
        const score = startLogits[from + s]! + endLogits[from + e]!;
        if (score > best.score) {
          const start = off[2 * s]!;
          const end = off[2 * e + 1]!;
          best = { text: context.slice(start, end), start, end, score };
        }
      }
    }
  }
  return best;
}

// ---- the official SQuAD v1.1 metric --------------------------------------------------------------

// Python's string.punctuation, and str.split()'s whitespace (str.isspace).
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
// re.sub(r'\b(a|an|the)\b', ' ', text) with Python's Unicode word characters (letters, numbers, _).
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

function pySplit(s: string): string[] {
  return s.split(PY_SPACE).filter((t) => t !== '');
}

/** The official normalize_answer: lower, remove punctuation, remove articles, fix whitespace. */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  const noPunc = [...lower].filter((c) => !PUNCTUATION.has(c)).join('');
  return pySplit(noPunc.replace(ARTICLES, ' ')).join(' ');
}

export function squadExactMatch(prediction: string, truth: string): boolean {
  return normalizeAnswer(prediction) === normalizeAnswer(truth);
}

/** Token F1 of the normalized strings (0 when they share no token). */
export function squadF1(prediction: string, truth: string): number {
  const p = normalizeAnswer(prediction).split(' ').filter(Boolean);
  const t = normalizeAnswer(truth).split(' ').filter(Boolean);
  const counts = new Map<string, number>();
  for (const x of t) counts.set(x, (counts.get(x) ?? 0) + 1);
  let same = 0;
  for (const x of p) {
    const c = counts.get(x) ?? 0;
    if (c > 0) { same++; counts.set(x, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / t.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The official evaluate(): exact match and F1, each the best over an example's gold answers, as percentages. */
export function squadScores(predictions: readonly string[], golds: readonly (readonly string[])[]): { exactMatch: number; f1: number; total: number } {
  if (predictions.length !== golds.length) throw new ArgumentError(`squadScores: ${predictions.length} predictions but ${golds.length} gold answer lists`);
  let em = 0;
  let f1 = 0;
  predictions.forEach((p, k) => {
    const g = golds[k]!;
    if (g.length === 0) throw new ArgumentError(`squadScores: example ${k} has no gold answer`);
    em += Math.max(...g.map((t) => (squadExactMatch(p, t) ? 1 : 0)));
    f1 += Math.max(...g.map((t) => squadF1(p, t)));
  });
  const n = predictions.length;
  return { exactMatch: n === 0 ? 0 : (100 * em) / n, f1: n === 0 ? 0 : (100 * f1) / n, total: n };
}
