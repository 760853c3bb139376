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
import { SentenceBeam, greedyStep, lengthCap } from './beam.js';
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
  return Array.from({ length: batch }, (_, i) => lengthCap(opts.maxLength, opts.sourceLengths?.[i], opts.maxLengthRatio, opts.maxLengthOffset));
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
        const { token, done: ended } = greedyStep(hyps[b]!, lp, b * V, V, opts.eos, caps[b]!);
        if (attn) (hyps[b]!.attention ??= []).push(Array.from(attn.subarray(b * S, (b + 1) * S)));
        done[b] = ended;
        nextTokens[b] = token;
      }
      last = nextTokens;
    }
    for (const h of hyps) h.score = h.logProb;
    return hyps;
  });
}

/**
 * Batched beam search. Every sentence keeps `beamSize` live rows; the bookkeeping of each sentence
 * (candidates, finished hypotheses, when it stops) is beam.ts's SentenceBeam, the same the runner
 * of exported models uses. Rows of a closed sentence still run (fixed shapes) until all close or
 * reach their length caps.
 */
export async function beamSearch<S>(stepper: DecoderStepper<S>, initial: S, batch: number, opts: BeamOptions): Promise<Hypothesis[][]> {
  opts = checkOptions('beamSearch', opts, BEAM_OPTIONS);
  const K = opts.beamSize;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`beamSearch: beamSize must be a positive integer, got ${K}`);
  const settings = { beamSize: K, eos: opts.eos, lengthPenalty: opts.lengthPenalty ?? 0, nBest: Math.min(opts.nBest ?? 1, K) };
  return noGrad(async () => {
    const caps = lengthCaps(opts, batch);
    const beams = caps.map((cap) => new SentenceBeam<Hypothesis>({ ...settings, cap }, { tokens: [], logProb: 0, score: 0 }));
    let state = initial;
    // One row per sentence to start; after the first step each sentence has K rows.
    let rowsPerSentence = 1;
    let last = new Int32Array(batch).fill(opts.bos);
    for (let t = 0; t < Math.max(...caps); t++) {
      const r = stepper.step(Tensor.fromBuffer(last, [batch * rowsPerSentence]), state, t);
      const { logProbs, state: next, attention } = r;
      await realizeStep(r);
      const lp = await rowsOf(logProbs);
      const attn = attention ? await rowsOf(attention) : null;
      const V = logProbs.shape[1]!;
      const S = attention ? attention.shape[attention.ndim - 1]! : 0;
      const pick = new Int32Array(batch * K);
      const nextLast = new Int32Array(batch * K).fill(opts.eos);
      beams.forEach((beam, b) => {
        const first = b * rowsPerSentence;
        const rows = beam.advance(lp, first, V, (parent, row, _token, base) => ({
          ...base, score: 0, attention: attn ? [...(parent.attention ?? []), Array.from(attn.subarray((first + row) * S, (first + row + 1) * S))] : undefined,
        }));
        // A closed sentence's rows, and the slots its kept beams leave, repeat its row 0 (EOS as the token).
        for (let j = 0; j < K; j++) pick[b * K + j] = first + (rows[j] ?? 0);
        rows.forEach((_, j) => { nextLast[b * K + j] = beam.live[j]!.tokens[beam.live[j]!.tokens.length - 1]!; });
      });
      if (beams.every((beam) => beam.closed)) break;
      state = stepper.select(next, Tensor.fromBuffer(pick, [batch * K]));
      rowsPerSentence = K;
      last = nextLast;
    }
    return beams.map((beam) => beam.best());
  });
}
