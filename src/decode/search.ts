/**
 * Greedy and beam search over any autoregressive decoder. A model exposes a `DecoderStepper`:
 * given the previous tokens of every live hypothesis and its state (hidden states, attention
 * caches), it returns log-probabilities of the next token and the new state; `select` reorders the
 * state rows when beams are pruned. The encoder runs once; its output lives in the state.
 */
import { ArgumentError } from '../tensor/errors.js';
import { type OptionKeys, checkOptions } from '../tensor/options.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';

export interface StepResult<S> {
  logProbs: Tensor;
  state: S;
  /** The step's attention over the source (rows, S), if the model has one. */
  attention?: Tensor;
  /**
   * The state's tensors (hidden states, key/value caches): realized in the same backend run as
   * `logProbs`, so the next step starts from values instead of re-running every earlier step.
   */
  stateTensors?: ReadonlyArray<Tensor | null | undefined>;
}

/** Realizes a step's log-probabilities, attention and state together (one backend run). */
async function realizeStep<S>(r: StepResult<S>): Promise<void> {
  await realize(r.logProbs, ...(r.attention ? [r.attention] : []), ...(r.stateTensors ?? []).filter((t): t is Tensor => t != null));
}

export interface DecoderStepper<S> {
  /** Log-probabilities (rows, V) for the next token of each row, given each row's last token (rows,). */
  step(lastTokens: Tensor, state: S, stepIndex: number): StepResult<S>;
  /** The state with rows picked (and repeated) by `rows` (int32, length = new row count). */
  select(state: S, rows: Tensor): S;
}

export interface SearchOptions {
  bos: number;
  eos: number;
  /** Hard cap on output length (tokens, without BOS). */
  maxLength: number;
  /** Per-sentence cap as a multiple of the source length (with `sourceLengths`), plus `maxLengthOffset`. */
  maxLengthRatio?: number;
  maxLengthOffset?: number;
  sourceLengths?: readonly number[];
}

export interface BeamOptions extends SearchOptions {
  beamSize: number;
  /** GNMT length penalty exponent alpha: score / ((5 + |Y|) / 6)^alpha; 0 = raw log-probability. */
  lengthPenalty?: number;
  /** Hypotheses returned per sentence (n-best), at most beamSize. */
  nBest?: number;
}

const SEARCH_OPTIONS: OptionKeys<SearchOptions> = { bos: 1, eos: 1, maxLength: 1, maxLengthRatio: 1, maxLengthOffset: 1, sourceLengths: 1 };
const BEAM_OPTIONS: OptionKeys<BeamOptions> = { ...SEARCH_OPTIONS, beamSize: 1, lengthPenalty: 1, nBest: 1 };

export interface Hypothesis {
  tokens: number[];
  /** Sum of token log-probabilities (EOS included when reached). */
  logProb: number;
  /** logProb after the length penalty (what beams are ranked by). */
  score: number;
  /** Per output step, the model's attention over the source (if the stepper returns it). */
  attention?: number[][];
}

function lengthCaps(opts: SearchOptions, batch: number): number[] {
  return Array.from({ length: batch }, (_, i) => {
    const src = opts.sourceLengths?.[i];
    const byRatio = src !== undefined && opts.maxLengthRatio !== undefined ? Math.ceil(src * opts.maxLengthRatio + (opts.maxLengthOffset ?? 0)) : Infinity;
    return Math.max(1, Math.min(opts.maxLength, byRatio));
  });
}

async function rowsOf(t: Tensor): Promise<Float32Array | Float64Array> {
  return (await t.data()) as Float32Array | Float64Array;
}

/** Greedy decoding of a batch: one argmax per step for every unfinished sentence. */
export async function greedySearch<S>(stepper: DecoderStepper<S>, initial: S, batch: number, opts: SearchOptions): Promise<Hypothesis[]> {
  opts = checkOptions('greedySearch', opts, SEARCH_OPTIONS);
  return noGrad(async () => {
    const caps = lengthCaps(opts, batch);
    const hyps: Hypothesis[] = Array.from({ length: batch }, () => ({ tokens: [], logProb: 0, score: 0 }));
    const done = new Array<boolean>(batch).fill(false);
    let last = new Int32Array(batch).fill(opts.bos);
    let state = initial;
    const maxSteps = Math.max(...caps);
    for (let t = 0; t < maxSteps && done.some((d) => !d); t++) {
      const r = stepper.step(Tensor.fromBuffer(last, [batch]), state, t);
      const { logProbs, state: next, attention } = r;
      await realizeStep(r);
      state = next;
      const lp = await rowsOf(logProbs);
      const attn = attention ? await rowsOf(attention) : null;
      const V = logProbs.shape[1]!;
      const S = attention ? attention.shape[attention.ndim - 1]! : 0;
      const nextTokens = new Int32Array(batch);
      for (let b = 0; b < batch; b++) {
        if (done[b]) { nextTokens[b] = opts.eos; continue; }
        let best = 0;
        for (let v = 1; v < V; v++) if (lp[b * V + v]! > lp[b * V + best]!) best = v;
        hyps[b]!.logProb += lp[b * V + best]!;
        if (attn) (hyps[b]!.attention ??= []).push(Array.from(attn.subarray(b * S, (b + 1) * S)));
        if (best === opts.eos) done[b] = true;
        else hyps[b]!.tokens.push(best);
        if (hyps[b]!.tokens.length >= caps[b]!) done[b] = true;
        nextTokens[b] = best;
      }
      last = nextTokens;
    }
    for (const h of hyps) h.score = h.logProb;
    return hyps;
  });
}

function penalty(length: number, alpha: number): number {
  return alpha === 0 ? 1 : ((5 + length) / 6) ** alpha;
}

interface Beam { tokens: number[]; logProb: number; attention?: number[][] }

/**
 * Batched beam search. Every sentence keeps `beamSize` live rows; a hypothesis that emits EOS moves
 * to that sentence's finished list. A sentence stops when its best finished score beats what any
 * live beam could still reach (live scores only fall as they grow, up to the length penalty bound),
 * or at its length cap.
 */
export async function beamSearch<S>(stepper: DecoderStepper<S>, initial: S, batch: number, opts: BeamOptions): Promise<Hypothesis[][]> {
  opts = checkOptions('beamSearch', opts, BEAM_OPTIONS);
  const K = opts.beamSize;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`beamSearch: beamSize must be a positive integer, got ${K}`);
  const alpha = opts.lengthPenalty ?? 0;
  const nBest = Math.min(opts.nBest ?? 1, K);
  return noGrad(async () => {
    const caps = lengthCaps(opts, batch);
    // Start with one row per sentence; after the first step each sentence has K rows.
    let beams: Beam[][] = Array.from({ length: batch }, () => [{ tokens: [], logProb: 0 }]);
    const finished: Hypothesis[][] = Array.from({ length: batch }, () => []);
    const closed = new Array<boolean>(batch).fill(false);
    let state = initial;
    let rowsPerSentence = 1;
    let last = new Int32Array(batch).fill(opts.bos);
    for (let t = 0; t < Math.max(...caps); t++) {
      const rows = batch * rowsPerSentence;
      const r = stepper.step(Tensor.fromBuffer(last, [rows]), state, t);
      const { logProbs, state: next, attention } = r;
      await realizeStep(r);
      const lp = await rowsOf(logProbs);
      const attn = attention ? await rowsOf(attention) : null;
      const V = logProbs.shape[1]!;
      const S = attention ? attention.shape[attention.ndim - 1]! : 0;
      const pick = new Int32Array(batch * K);
      const nextLast = new Int32Array(batch * K).fill(opts.eos);
      const nextBeams: Beam[][] = [];
      for (let b = 0; b < batch; b++) {
        const live = beams[b]!;
        const candidates: { row: number; token: number; logProb: number }[] = [];
        if (!closed[b]) {
          live.forEach((beam, j) => {
            const row = b * rowsPerSentence + j;
            // Keep the best 2K tokens of this row: enough to fill K live beams even if K of them end.
            const top = topIndices(lp, row * V, V, 2 * K);
            for (const v of top) candidates.push({ row, token: v, logProb: beam.logProb + lp[row * V + v]! });
          });
          candidates.sort((x, y) => y.logProb - x.logProb);
        }
        const kept: Beam[] = [];
        for (const c of candidates) {
          const parent = live[c.row - b * rowsPerSentence]!;
          const attention = attn ? [...(parent.attention ?? []), Array.from(attn.subarray(c.row * S, (c.row + 1) * S))] : undefined;
          const length = parent.tokens.length + 1;
          if (c.token === opts.eos || length >= caps[b]!) {
            const tokens = c.token === opts.eos ? parent.tokens : [...parent.tokens, c.token];
            finished[b]!.push({ tokens, logProb: c.logProb, score: c.logProb / penalty(length, alpha), attention });
            continue;
          }
          if (kept.length < K) {
            pick[b * K + kept.length] = c.row;
            nextLast[b * K + kept.length] = c.token;
            kept.push({ tokens: [...parent.tokens, c.token], logProb: c.logProb, attention });
          }
          if (kept.length === K && finished[b]!.length >= nBest) break;
        }
        // Rows of a closed sentence still run (fixed shapes); they repeat row 0 of the sentence.
        for (let j = kept.length; j < K; j++) pick[b * K + j] = b * rowsPerSentence;
        nextBeams.push(kept);
        const best = Math.max(-Infinity, ...finished[b]!.map((h) => h.score));
        const bestLive = kept.length ? kept[0]!.logProb / penalty(caps[b]!, alpha) : -Infinity;
        // With alpha > 0 the penalty grows with length, so a live beam's best reachable score is its score at the cap.
        if (kept.length === 0 || (finished[b]!.length >= nBest && best >= (alpha > 0 ? bestLive : kept[0]!.logProb))) closed[b] = true;
      }
      if (closed.every(Boolean)) break;
      state = stepper.select(next, Tensor.fromBuffer(pick, [batch * K]));
      beams = nextBeams;
      rowsPerSentence = K;
      last = nextLast;
    }
    return finished.map((list, b) => {
      const all = list.length ? list : beams[b]!.map((x) => ({ ...x, score: x.logProb / penalty(x.tokens.length, alpha) }));
      return [...all].sort((x, y) => y.score - x.score).slice(0, nBest);
    });
  });
}

/** Indices of the k largest values of a[offset .. offset+n). */
function topIndices(a: ArrayLike<number>, offset: number, n: number, k: number): number[] {
  const idx: number[] = [];
  for (let v = 0; v < n; v++) {
    const x = a[offset + v]!;
    if (idx.length < k) {
      idx.push(v);
      idx.sort((p, q) => a[offset + q]! - a[offset + p]!);
    } else if (x > a[offset + idx[k - 1]!]!) {
      idx[k - 1] = v;
      for (let i = k - 1; i > 0 && a[offset + idx[i]!]! > a[offset + idx[i - 1]!]!; i--) [idx[i], idx[i - 1]] = [idx[i - 1]!, idx[i]!];
    }
  }
  return idx;
}
