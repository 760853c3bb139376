/**
 * The arithmetic of the BERT pipelines after the forward pass, over plain arrays: softmax scores,
 * top-k, labels, fill-mask sequences, BIO grouping of token labels, overlapping windows. It follows
 * Hugging Face's pipelines (computed in float64 from float32 logits, as HF does in numpy).
 * pipelines.ts runs zhuyi's models and hands the logits here; src/export/runner.ts does the same
 * with ONNX Runtime. No tensors and no file system, so browsers use it.
 */
import type { BertEncoding } from '../../text/bert/encoding.js';
import type { BertTokenizerCore } from '../../text/bert/tokenizer-core.js';

/** Softmax of a row, in float64; `allowed` (when given) limits the support, the rest get probability 0. */
export function softmaxRow(logits: ArrayLike<number>, from = 0, len = logits.length - from, allowed?: (k: number) => boolean): number[] {
  let max = -Infinity;
  for (let k = 0; k < len; k++) if (!allowed || allowed(k)) max = Math.max(max, logits[from + k]!);
  const out = new Array<number>(len).fill(0);
  let sum = 0;
  for (let k = 0; k < len; k++) {
    if (allowed && !allowed(k)) continue;
    out[k] = Math.exp(logits[from + k]! - max);
    sum += out[k]!;
  }
  for (let k = 0; k < len; k++) out[k] = out[k]! / sum;
  return out;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < xs.length; k++) if (xs[k]! > xs[best]!) best = k;
  return best;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topIndices(values: readonly number[], k: number, candidates?: readonly number[]): number[] {
  const idx = candidates ? [...candidates] : values.map((_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  return idx.slice(0, k);
}

/** A class index's label name. */
export type LabelOf = (k: number) => string;

/** config.id2label as a LabelOf; HF's LABEL_k for indices it lacks. */
export function labelOf(id2label: Readonly<Record<number | string, string>>): LabelOf {
  return (k) => id2label[k] ?? `LABEL_${k}`;
}

// The replacements BertTokenizer.decode applies with cleanUpTokenizationSpaces.
const CLEAN_UP: [string, string][] = [[' .', '.'], [' ?', '?'], [' !', '!'], [' ,', ','], [" ' ", "'"], [" n't", "n't"], [" 'm", "'m"], [" 's", "'s"], [" 've", "'ve"], [" 're", "'re"]];

/** HF's convert_tokens_to_string for WordPiece: join with spaces, glue continuation pieces, clean up as decode does. */
export function tokensToString(tokenizer: BertTokenizerCore, tokens: readonly string[]): string {
  const prefix = tokenizer.wordpieceTokenizer.continuingSubwordPrefix;
  let text = tokens.join(' ').split(` ${prefix}`).join('').trim();
  if (tokenizer.cleanUpTokenizationSpaces) for (const [from, to] of CLEAN_UP) text = text.split(from).join(to);
  return text;
}

// ---- fill-mask -----------------------------------------------------------------------------------

export interface FillMaskPrediction {
  /** The predicted token as the tokenizer decodes it alone (HF's token_str). */
  token: string;
  tokenId: number;
  /** Softmax probability over the vocabulary at the mask position. */
  score: number;
  /** The input with this token in the mask's place, decoded (special tokens skipped when there is one mask, kept otherwise, as HF). */
  sequence: string;
}

/**
 * The k best tokens at each mask position (HF's FillMaskPipeline.postprocess): `logits` holds one
 * row of V scores per position in `positions`, in order; `targetIds` limits the candidates.
 */
export function maskPredictions(tokenizer: BertTokenizerCore, inputIds: readonly number[], positions: readonly number[], logits: ArrayLike<number>, V: number, k: number, targetIds?: readonly number[]): FillMaskPrediction[][] {
  const single = positions.length === 1;
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  return positions.map((pos, i) => {
    const probs = softmaxRow(logits, i * V, V);
    return topIndices(probs, k, targetIds).map((id) => {
      const ids = inputIds.map((x, t) => (t === pos ? id : x)).filter((x) => x !== padId);
      return {
        token: tokenizer.decode([id]),
        tokenId: id,
        score: probs[id]!,
        sequence: tokenizer.decode(ids, { skipSpecialTokens: single }),
      };
    });
  });
}

// ---- text classification -------------------------------------------------------------------------

export type ClassificationFunction = 'softmax' | 'sigmoid' | 'none';

export interface LabelScore {
  label: string;
  score: number;
}

/**
 * The score function for a sequence classifier's config: problem_type regression -> none,
 * multi_label_classification -> sigmoid, single_label_classification -> softmax; unset: one label
 * -> none (a regression head, as the model's loss treats it), otherwise softmax.
 */
export function classificationFunction(problemType: string | null | undefined, numLabels: number): ClassificationFunction {
  if (problemType === 'regression') return 'none';
  if (problemType === 'multi_label_classification') return 'sigmoid';
  if (problemType === 'single_label_classification') return 'softmax';
  return numLabels === 1 ? 'none' : 'softmax';
}

/** One text's label scores, best first: `topK` of them, or every label for null. */
export function labelScores(row: readonly number[], fn: ClassificationFunction, topK: number | null, label: LabelOf): LabelScore[] {
  const scores = fn === 'softmax' ? softmaxRow(row) : fn === 'sigmoid' ? row.map(sigmoid) : row;
  const order = topIndices(scores, topK === null ? row.length : Math.min(topK, row.length));
  return order.map((k) => ({ label: label(k), score: scores[k]! }));
}

// ---- token classification ------------------------------------------------------------------------

export type AggregationStrategy = 'none' | 'simple' | 'first' | 'max' | 'average';

/** aggregation 'none': one token. */
export interface TokenEntity {
  entity: string;
  score: number;
  /** Token position in the encoded input ([CLS] is 0). */
  index: number;
  /** The token (WordPiece form, e.g. '##s'; the original text for [UNK]). */
  word: string;
  start: number;
  end: number;
}

/** Any other aggregation: a group of tokens or words with one tag (HF's entity_group). */
export interface EntityGroup {
  /** The tag without its B-/I- prefix. */
  entityGroup: string;
  /** Mean score of the grouped tokens or words. */
  score: number;
  word: string;
  start: number;
  end: number;
}

interface PreEntity { word: string; scores: number[]; start: number; end: number; index: number; isSubword: boolean }
interface Tagged { entity: string; score: number; word: string; start: number; end: number; index?: number }

function bioTag(name: string): [string, string] {
  if (name.startsWith('B-')) return ['B', name.slice(2)];
  if (name.startsWith('I-')) return ['I', name.slice(2)];
  return ['I', name]; // not in B-/I- form: treated as a continuation (HF)
}

function groupSubEntities(tokenizer: BertTokenizerCore, group: readonly Tagged[]): EntityGroup {
  return {
    entityGroup: group[0]!.entity.slice(group[0]!.entity.indexOf('-') + 1), // HF: entity.split("-", 1)[-1]
    score: group.reduce((s, e) => s + e.score, 0) / group.length,
    word: tokensToString(tokenizer, group.map((e) => e.word)),
    start: group[0]!.start,
    end: group[group.length - 1]!.end,
  };
}

/** HF's group_entities: a new group starts at a B- tag or when the tag changes. */
function groupEntities(tokenizer: BertTokenizerCore, entities: readonly Tagged[]): EntityGroup[] {
  const groups: EntityGroup[] = [];
  let current: Tagged[] = [];
  for (const e of entities) {
    if (current.length === 0) { current.push(e); continue; }
    const [bi, tag] = bioTag(e.entity);
    const [, lastTag] = bioTag(current[current.length - 1]!.entity);
    if (tag === lastTag && bi !== 'B') current.push(e);
    else {
      groups.push(groupSubEntities(tokenizer, current));
      current = [e];
    }
  }
  if (current.length) groups.push(groupSubEntities(tokenizer, current));
  return groups;
}

/** HF's aggregate_word: one label for a word from its tokens' scores. */
function aggregateWord(label: LabelOf, tokenizer: BertTokenizerCore, tokens: readonly PreEntity[], strategy: 'first' | 'max' | 'average'): Tagged {
  let scores: number[];
  if (strategy === 'first') scores = tokens[0]!.scores;
  else if (strategy === 'max') {
    let best = tokens[0]!;
    for (const t of tokens) if (Math.max(...t.scores) > Math.max(...best.scores)) best = t;
    scores = best.scores;
  } else {
    scores = tokens[0]!.scores.map((_, k) => tokens.reduce((s, t) => s + t.scores[k]!, 0) / tokens.length);
  }
  const k = argmax(scores);
  return { entity: label(k), score: scores[k]!, word: tokensToString(tokenizer, tokens.map((t) => t.word)), start: tokens[0]!.start, end: tokens[tokens.length - 1]!.end };
}

/**
 * One window's entities (HF's gather_pre_entities, aggregate, group_entities, filtered by
 * `ignore`): `w` was encoded with offsets and the special-tokens mask; `logits` holds its (T, K)
 * scores from `offset`. A token is a sub-word when it starts with the WordPiece continuation prefix
 * ('##'), which is what HF's length test amounts to for BERT's fast tokenizer.
 */
export function windowEntities(
  tokenizer: BertTokenizerCore, text: string, w: BertEncoding, logits: ArrayLike<number>, offset: number, K: number,
  aggregation: AggregationStrategy, ignore: ReadonlySet<string>, label: LabelOf,
): (TokenEntity | EntityGroup)[] {
  const unkId = tokenizer.convertTokensToIds(tokenizer.unkToken);
  const prefix = tokenizer.wordpieceTokenizer.continuingSubwordPrefix;
  // gather_pre_entities: every non-special token with its label distribution and offsets.
  const pre: PreEntity[] = [];
  for (let t = 0; t < w.inputIds.length; t++) {
    if (w.specialTokensMask![t] || !w.attentionMask[t]) continue;
    const [start, end] = w.offsets![t]!;
    const isUnk = w.inputIds[t] === unkId;
    pre.push({
      word: isUnk ? text.slice(start, end) : w.tokens[t]!,
      scores: softmaxRow(logits, offset + t * K, K),
      start, end, index: t,
      isSubword: !isUnk && w.tokens[t]!.startsWith(prefix) && w.tokens[t]!.length > prefix.length,
    });
  }
  let tagged: Tagged[];
  if (aggregation === 'none' || aggregation === 'simple') {
    tagged = pre.map((p) => {
      const k = argmax(p.scores);
      return { entity: label(k), score: p.scores[k]!, index: p.index, word: p.word, start: p.start, end: p.end };
    });
  } else {
    // aggregate_words: a word is a token and the sub-word pieces after it.
    tagged = [];
    let word: PreEntity[] = [];
    for (const p of pre) {
      if (word.length && !p.isSubword) { tagged.push(aggregateWord(label, tokenizer, word, aggregation)); word = []; }
      word.push(p);
    }
    if (word.length) tagged.push(aggregateWord(label, tokenizer, word, aggregation));
  }
  if (aggregation === 'none') {
    return tagged.filter((e) => !ignore.has(e.entity)).map((e) => ({ entity: e.entity, score: e.score, index: e.index!, word: e.word, start: e.start, end: e.end }));
  }
  return groupEntities(tokenizer, tagged).filter((g) => !ignore.has(g.entityGroup));
}

/** HF's aggregate_overlapping_entities (windows): sort by start; of overlapping entities keep the longer, then the higher-scoring. */
export function resolveOverlaps<E extends { start: number; end: number; score: number }>(entities: readonly E[]): E[] {
  if (entities.length === 0) return [];
  const sorted = [...entities].sort((a, b) => a.start - b.start);
  const out: E[] = [];
  let prev = sorted[0]!;
  for (const e of sorted) {
    if (prev.start <= e.start && e.start < prev.end) {
      const len = e.end - e.start;
      const prevLen = prev.end - prev.start;
      if (len > prevLen || (len === prevLen && e.score > prev.score)) prev = e;
    } else {
      out.push(prev);
      prev = e;
    }
  }
  out.push(prev);
  return out;
}

// ---- question answering -----------------------------------------------------------------------------

export interface QaAnswer {
  answer: string;
  /** p(start) * p(end), each a softmax over the window's context tokens and [CLS]. */
  score: number;
  /** Character offsets into the context: answer = context.slice(start, end). */
  start: number;
  end: number;
}

/**
 * HF's QuestionAnsweringPipeline for one window `w` of the (question, context) pair, whose start and
 * end logits are start/end[offset .. offset + T): only context tokens may start or end the answer,
 * start <= end, at most maxAnswerLength tokens; a span scores softmax(start)[s] * softmax(end)[e].
 * Adds the window's topK spans to `found` by character span (the best score wins); returns the
 * window's null score (the [CLS] start and end probabilities).
 */
export function windowAnswers(
  tokenizer: BertTokenizerCore, context: string, w: BertEncoding, start: ArrayLike<number>, end: ArrayLike<number>, offset: number, clsId: number,
  o: { maxAnswerLength: number; alignToWords: boolean; topK: number }, found: Map<string, QaAnswer>,
): number {
  const T = w.inputIds.length;
  const isContext = (t: number): boolean => w.tokenTypeIds[t] === 1 && !w.specialTokensMask![t] && w.attentionMask[t] === 1;
  // HF's p_mask keeps [CLS] in the softmax (SQuAD 2.0's "no answer"), then zeroes it for spans.
  const inSoftmax = (t: number): boolean => isContext(t) || w.inputIds[t] === clsId;
  const ps = softmaxRow(start, offset, T, inSoftmax);
  const pe = softmaxRow(end, offset, T, inSoftmax);
  const spans: [number, number, number][] = [];
  for (let s = 0; s < T; s++) {
    if (!isContext(s)) continue;
    for (let e = s; e < Math.min(T, s + o.maxAnswerLength); e++) if (isContext(e)) spans.push([s, e, ps[s]! * pe[e]!]);
  }
  spans.sort((x, y) => y[2] - x[2] || x[0] - y[0] || x[1] - y[1]);
  const prefix = tokenizer.wordpieceTokenizer.continuingSubwordPrefix;
  const offsets = w.offsets!;
  const continues = (t: number): boolean => isContext(t) && w.tokens[t]!.startsWith(prefix) && w.tokens[t]!.length > prefix.length;
  const mine = new Set<string>();
  for (const [s0, e0, score] of spans) {
    if (mine.size >= o.topK) break;
    let s = s0;
    let e = e0;
    if (o.alignToWords) {
      // HF's token_to_word / word_to_chars: a word is a token and the "##" pieces after it (within this window).
      while (continues(s) && isContext(s - 1)) s--;
      while (continues(e + 1)) e++;
    }
    const [a, b] = [offsets[s]![0], offsets[e]![1]];
    const key = `${a}:${b}`;
    if (mine.has(key)) continue; // two token spans that widen to the same words
    mine.add(key);
    const prev = found.get(key);
    if (!prev || score > prev.score) found.set(key, { answer: context.slice(a, b), score, start: a, end: b });
  }
  return ps[0]! * pe[0]!;
}

/** The topK answers of all windows, best first; `nullScore` (when not null) adds the empty answer. */
export function bestAnswers(found: ReadonlyMap<string, QaAnswer>, nullScore: number | null, topK: number): QaAnswer[] {
  const answers = [...found.values()];
  if (nullScore !== null) answers.push({ answer: '', score: nullScore, start: 0, end: 0 });
  return answers.sort((x, y) => y.score - x.score || x.start - y.start).slice(0, topK);
}
