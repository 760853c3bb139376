/**
 * Corpus and sentence BLEU (Papineni et al. 2002) with sacreBLEU 2.x's conventions: the same
 * tokenizers, the same sufficient statistics (clipped n-gram matches against the per-n-gram maximum
 * over references, closest reference length with ties to the shorter), the same smoothing methods
 * (Chen & Cherry 2014: none, floor, add-k, exp) and the same signature string. Checked against the
 * expected values of sacreBLEU's own test suite (tests/metrics/bleu.test.ts).
 */
import { ArgumentError } from '../tensor/errors.js';
import { BLEU_TOKENIZERS, type BleuTokenizerName, pyRstrip, pySplit } from './tokenizers.js';
import { checkOptions } from '../tensor/options.js';

/** The sacreBLEU release whose conventions (and signature format) these metrics follow. */
export const SACREBLEU_VERSION = '2.4.3';

export type SmoothMethod = 'exp' | 'floor' | 'add-k' | 'none';

/** Default smoothing values, from sacreBLEU (Chen & Cherry 2014): floor 0.1, add-k 1. */
const SMOOTH_DEFAULTS: Readonly<Record<SmoothMethod, number | null>> = { none: null, floor: 0.1, 'add-k': 1, exp: null };

export interface BleuOptions {
  /** `13a` (default; mteval-v13a), `zh` (Chinese: one token per character), `char`, or `none` (already tokenized). */
  tokenize?: BleuTokenizerName;
  /** Lowercase hypotheses and references before tokenizing (signature `case:lc`). */
  lowercase?: boolean;
  /** Default `exp` (NIST / mteval-v13a smoothing). */
  smoothMethod?: SmoothMethod;
  /** For `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue?: number;
  /** Highest n-gram order, default 4. */
  maxNgramOrder?: number;
  /** Average only over orders with at least one hypothesis n-gram: false for corpus BLEU, true for sentence BLEU. */
  effectiveOrder?: boolean;
}

export interface BleuScore {
  /** BLEU on the 0..100 scale, as sacreBLEU reports it. */
  score: number;
  /** Clipped matches per order (after add-k smoothing, as sacreBLEU reports them). */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Per-order precisions in percent (smoothed). */
  precisions: number[];
  /** Brevity penalty exp(1 - r/c) when c < r, else 1. */
  bp: number;
  sysLen: number;
  refLen: number;
  ratio: number;
  /** `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.3` */
  signature: string;
  /** `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)` */
  format(): string;
}

/** Counts every n-gram of order 1..maxOrder of a whitespace-split line; keys are the tokens joined by spaces. */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const r of refLens) {
    const diff = Math.abs(hypLen - r);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = r;
    } else if (diff === closestDiff && r < closestLen) {
      closestLen = r;
    }
  }
  return closestLen;
}

/** sacreBLEU's `my_log`: log(0) is a large negative number instead of -Infinity. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** Sufficient statistics of one segment: [hypLen, refLen, correct_1..N, total_1..N]. */
export function bleuSegmentStats(hypothesis: string, references: readonly string[], maxOrder = 4): number[] {
  const refNgrams = new Map<string, number>();
  const refLens: number[] = [];
  for (const ref of references) {
    const tokens = pySplit(ref);
    refLens.push(tokens.length);
    for (const [ng, c] of ngramCounts(tokens, maxOrder)) refNgrams.set(ng, Math.max(refNgrams.get(ng) ?? 0, c));
  }
  const hypTokens = pySplit(hypothesis);
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  for (const [ng, c] of ngramCounts(hypTokens, maxOrder)) {
    const n = ng.split(' ').length - 1;
    total[n]! += c;
    const r = refNgrams.get(ng);
    if (r !== undefined) correct[n]! += Math.min(c, r);
  }
  return [hypTokens.length, closestRefLen(hypTokens.length, refLens), ...correct, ...total];
}

/**
 * BLEU from summed statistics; sacreBLEU's `BLEU.compute_bleu`, step for step (including the
 * early 0 when nothing matched at all, sacreBLEU #141, and add-k applied to orders >= 2 only).
 */
export function computeBleu(
  correctIn: readonly number[], totalIn: readonly number[], sysLen: number, refLen: number,
  options: { smoothMethod?: SmoothMethod; smoothValue?: number; effectiveOrder?: boolean } = {},
): Omit<BleuScore, 'signature' | 'format'> {
  const { smoothMethod = 'none', smoothValue, effectiveOrder = false } = checkOptions('computeBleu', options, { smoothMethod: 1, smoothValue: 1, effectiveOrder: 1 });
  const maxOrder = correctIn.length;
  const correct = [...correctIn];
  const total = [...totalIn];
  const value = smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number) => ({ score, counts: correct, totals: total, precisions, bp, sysLen, refLen, ratio: refLen ? sysLen / refLen : 0 });
  if (!correct.some((c) => c !== 0)) return result(0);

  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smoothMethod === 'add-k' && n > 1) {
      correct[n - 1]! += value;
      total[n - 1]! += value;
    }
    if (total[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (smoothMethod === 'floor') {
        precisions[n - 1] = (100 * value) / total[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]!);
  return result(bp * Math.exp(logSum / effOrder));
}

function validate(opts: BleuOptions): Required<Omit<BleuOptions, 'smoothValue'>> & { smoothValue: number | undefined } {
  const tokenize = opts.tokenize ?? '13a';
  const smoothMethod = opts.smoothMethod ?? 'exp';
  if (!(tokenize in BLEU_TOKENIZERS)) throw new ArgumentError(`bleu: unknown tokenizer '${tokenize}' (expected 13a, zh, char or none)`);
  if (!(smoothMethod in SMOOTH_DEFAULTS)) throw new ArgumentError(`bleu: unknown smoothMethod '${smoothMethod}' (expected exp, floor, add-k or none)`);
  const maxNgramOrder = opts.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1) throw new ArgumentError(`bleu: maxNgramOrder must be a positive integer, got ${maxNgramOrder}`);
  return { tokenize, smoothMethod, smoothValue: opts.smoothValue, lowercase: opts.lowercase ?? false, maxNgramOrder, effectiveOrder: opts.effectiveOrder ?? false };
}

function signature(o: ReturnType<typeof validate>, nrefs: number | 'var'): string {
  const def = SMOOTH_DEFAULTS[o.smoothMethod];
  const smooth = def === null ? o.smoothMethod : `${o.smoothMethod}[${(o.smoothValue ?? def).toFixed(2)}]`;
  return `nrefs:${nrefs}|case:${o.lowercase ? 'lc' : 'mixed'}|eff:${o.effectiveOrder ? 'yes' : 'no'}|tok:${o.tokenize}|smooth:${smooth}|version:${SACREBLEU_VERSION}`;
}

function finish(stats: Omit<BleuScore, 'signature' | 'format'>, sig: string): BleuScore {
  return {
    ...stats,
    signature: sig,
    format() {
      const prec = stats.precisions.map((p) => p.toFixed(1)).join('/');
      return `BLEU = ${stats.score.toFixed(2)} ${prec} (BP = ${stats.bp.toFixed(3)} ratio = ${stats.ratio.toFixed(3)} hyp_len = ${stats.sysLen} ref_len = ${stats.refLen})`;
    },
  };
}

/**
 * Corpus BLEU. `references` uses sacreBLEU's layout: a list of reference *streams*, each as long as
 * `hypotheses` (`references[k][i]` is the k-th reference of sentence i). A `null` entry means "this
 * sentence has fewer references"; every sentence needs at least one.
 */
export function corpusBleu(hypotheses: readonly string[], references: ReadonlyArray<ReadonlyArray<string | null>>, opts: BleuOptions = {}): BleuScore {
  opts = checkOptions('corpusBleu', opts, { tokenize: 1, lowercase: 1, smoothMethod: 1, smoothValue: 1, maxNgramOrder: 1, effectiveOrder: 1 });
  const o = validate(opts);
  if (references.length === 0) throw new ArgumentError('corpusBleu: no reference streams given');
  for (const [k, stream] of references.entries()) {
    if (stream.length !== hypotheses.length) {
      throw new ArgumentError(`corpusBleu: reference stream ${k} has ${stream.length} lines, hypotheses have ${hypotheses.length}`);
    }
  }
  const tok = BLEU_TOKENIZERS[o.tokenize];
  const prep = (s: string): string => tok(pyRstrip(o.lowercase ? s.toLowerCase() : s));
  const sums = new Array<number>(2 + 2 * o.maxNgramOrder).fill(0);
  const nrefsSeen = new Set<number>();
  for (let i = 0; i < hypotheses.length; i++) {
    const refs: string[] = [];
    for (const stream of references) if (stream[i] !== null && stream[i] !== undefined) refs.push(prep(stream[i]!));
    if (refs.length === 0) throw new ArgumentError(`corpusBleu: sentence ${i} has no reference`);
    nrefsSeen.add(refs.length);
    const s = bleuSegmentStats(prep(hypotheses[i]!), refs, o.maxNgramOrder);
    for (let j = 0; j < s.length; j++) sums[j]! += s[j]!;
  }
  const N = o.maxNgramOrder;
  const stats = computeBleu(sums.slice(2, 2 + N), sums.slice(2 + N), sums[0]!, sums[1]!, { smoothMethod: o.smoothMethod, smoothValue: o.smoothValue, effectiveOrder: o.effectiveOrder });
  const nrefs = nrefsSeen.size === 1 ? [...nrefsSeen][0]! : 'var';
  return finish(stats, signature(o, nrefs));
}

/** Sentence BLEU: as sacreBLEU recommends, effective order is on unless you turn it off. */
export function sentenceBleu(hypothesis: string, references: readonly string[], opts: BleuOptions = {}): BleuScore {
  opts = checkOptions('sentenceBleu', opts, { tokenize: 1, lowercase: 1, smoothMethod: 1, smoothValue: 1, maxNgramOrder: 1, effectiveOrder: 1 });
  return corpusBleu([hypothesis], references.map((r) => [r]), { effectiveOrder: true, ...opts });
}
