/**
 * Greedy and beam search over any autoregressive decoder. A model exposes a `DecoderStepper`:
 * given the previous tokens of every live hypothesis and its state (hidden states, attention
 * caches), it returns log-probabilities of the next token and the new state; `select` reorders the
 * state rows when beams are pruned. The encoder runs once; its output lives in the state. The
 * loops themselves are beam.ts's, over the stepper's values (one backend run per step).
 */
import { ArgumentError } from '../tensor/errors.js';
import { type OptionKeys, checkOptions } from '../tensor/options.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { type Decoded, type RowDecoder, beamDecode, greedyDecode, lengthCap } from './beam.js';
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

/** The stepper as beam.ts's loops see it: each step realized in one backend run, its values read out. */
function rowDecoder<S>(stepper: DecoderStepper<S>, initial: S): RowDecoder {
  let state = initial;
  return {
    async step(last, _prefixes, t) {
      const r = stepper.step(Tensor.fromBuffer(Int32Array.from(last), [last.length]), state, t);
      await realizeStep(r);
      state = r.state;
      return { logProbs: await rowsOf(r.logProbs), V: r.logProbs.shape[1]!, attention: r.attention ? await rowsOf(r.attention) : null };
    },
    select(rows) {
      state = stepper.select(state, Tensor.fromBuffer(Int32Array.from(rows), [rows.length]));
    },
  };
}

const hypothesis = (h: Decoded): Hypothesis => ({ tokens: h.tokens, logProb: h.logProb, score: h.score, ...(h.attention ? { attention: h.attention } : {}) });

/** Greedy decoding of a batch: one argmax per step for every unfinished sentence (beam.ts greedyDecode). */
export async function greedySearch<S>(stepper: DecoderStepper<S>, initial: S, batch: number, opts: SearchOptions): Promise<Hypothesis[]> {
  opts = checkOptions('greedySearch', opts, SEARCH_OPTIONS);
  return noGrad(async () => (await greedyDecode(rowDecoder(stepper, initial), lengthCaps(opts, batch), opts.bos, opts.eos)).map(hypothesis));
}

/**
 * Batched beam search (beam.ts beamDecode): every sentence keeps `beamSize` live rows; a hypothesis
 * that emits EOS moves to that sentence's finished list, and a sentence stops when its best
 * finished score beats what any live beam could still reach, or at its length cap.
 */
export async function beamSearch<S>(stepper: DecoderStepper<S>, initial: S, batch: number, opts: BeamOptions): Promise<Hypothesis[][]> {
  opts = checkOptions('beamSearch', opts, BEAM_OPTIONS);
  const K = opts.beamSize;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`beamSearch: beamSize must be a positive integer, got ${K}`);
  const settings = { beamSize: K, eos: opts.eos, lengthPenalty: opts.lengthPenalty ?? 0, nBest: Math.min(opts.nBest ?? 1, K) };
  return noGrad(async () => (await beamDecode(rowDecoder(stepper, initial), lengthCaps(opts, batch), settings, opts.bos)).map((list) => list.map(hypothesis)));
}
