/**
 * What the three translation models share: the vocabulary part of their configs, input checks,
 * source padding masks, and decoding through src/decode/search.ts.
 *
 * Every model has the same surface:
 *   forward(src (B, S) int32, srcLengths, tgtIn (B, T) int32) -> logits (B, T, V)   (teacher forcing)
 *   stepper(src, srcLengths) -> { stepper, initial }  for greedySearch / beamSearch
 *   translate(src, srcLengths, { beamSize, maxLength }) -> token ids per sentence
 * `tgtIn` is the target shifted right: [BOS, y_1, ..., y_{T-1}]; logits at t predict y_{t+1}
 * ([y_1, ..., y_T] with EOS last, padded with padId).
 *
 * Shape letters: B batch, S source positions, T target positions, V target vocabulary, L layers,
 * H hidden size, E embedding width.
 */
import { type BeamOptions, type DecoderStepper, type Hypothesis, beamSearch, greedySearch } from '../../decode/search.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { arange } from '../../tensor/creation.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../nn/module.js';
import type { Linear } from '../../nn/layers.js';
import * as F from '../../ops/functional.js';

/** The vocabulary facts every translation model needs. */
export interface TranslationConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  /** Padding id, in both vocabularies (its embedding row is zero and gets no gradient). */
  padId: number;
  /** Target begin/end of sentence ids: decoding starts from BOS and stops at EOS. */
  bosId: number;
  eosId: number;
}

export interface TranslateOptions {
  /** 1 (default) = greedy search; more = beam search. */
  beamSize?: number;
  /** Hard cap on output tokens (EOS not counted). */
  maxLength: number;
  /** Per-sentence cap: ceil(srcLength * maxLengthRatio + maxLengthOffset) (see search.ts). */
  maxLengthRatio?: number;
  maxLengthOffset?: number;
  /** GNMT length penalty alpha for beam search (default 0). */
  lengthPenalty?: number;
}

/** A model that decodes through search.ts; `S` is its decoder state. */
export interface TranslationModel<S> extends Module {
  readonly config: TranslationConfig;
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor): Tensor;
  stepper(src: Tensor, srcLengths: readonly number[]): { stepper: DecoderStepper<S>; initial: S };
}

export function checkTranslationConfig(name: string, c: TranslationConfig): void {
  for (const k of ['srcVocabSize', 'tgtVocabSize'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new ArgumentError(`${name}: ${k} must be a positive integer, got ${c[k]}`);
  }
  const smaller = Math.min(c.srcVocabSize, c.tgtVocabSize);
  if (!(Number.isInteger(c.padId) && c.padId >= 0 && c.padId < smaller)) throw new ArgumentError(`${name}: padId ${c.padId} must be an id in both vocabularies (< ${smaller})`);
  for (const k of ['bosId', 'eosId'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 0 && c[k] < c.tgtVocabSize)) throw new ArgumentError(`${name}: ${k} ${c[k]} must be a target id (< ${c.tgtVocabSize})`);
  }
  // BOS is every target's first key; were it padding, position 0 would attend to nothing.
  if (c.bosId === c.padId) throw new ArgumentError(`${name}: bosId and padId must differ, both are ${c.padId}`);
}

/** Checks src (B, S) int32 and its lengths (each in [1, S]); returns [B, S]. */
export function checkSource(name: string, src: Tensor, srcLengths: readonly number[]): [number, number] {
  if (src.ndim !== 2) throw new ShapeError(`${name}: src ${fmtShape(src.shape)} must be (B, S) token ids`);
  if (src.dtype !== 'int32') throw new DTypeError(`${name}: src must be int32 token ids, got ${src.dtype}`);
  const [B, S] = [src.shape[0]!, src.shape[1]!];
  if (srcLengths.length !== B) throw new ShapeError(`${name}: ${srcLengths.length} srcLengths for a batch of ${B}`);
  for (const n of srcLengths) {
    if (!(Number.isInteger(n) && n >= 1 && n <= S)) throw new ArgumentError(`${name}: srcLengths must be integers in [1, S=${S}], got ${JSON.stringify(srcLengths)}`);
  }
  return [B, S];
}

/** Checks tgtIn (B, T) int32 against the batch size. */
export function checkTarget(name: string, tgtIn: Tensor, B: number): number {
  if (tgtIn.ndim !== 2 || tgtIn.shape[0] !== B) throw new ShapeError(`${name}: tgtIn ${fmtShape(tgtIn.shape)} must be (B=${B}, T) token ids`);
  if (tgtIn.dtype !== 'int32') throw new DTypeError(`${name}: tgtIn must be int32 token ids, got ${tgtIn.dtype}`);
  return tgtIn.shape[1]!;
}

/**
 * The longest source that lengths given as a tensor can describe: their masks and indices compare
 * against positions 0..S-1 cut from a constant this long, so a traced (exported) graph keeps S a
 * symbol instead of baking one source length in.
 */
export const MAX_SOURCE = 4096;

/** Positions 0..S-1 (S) int32, for lengths given as a tensor (see MAX_SOURCE). */
export function sourcePositions(S: number): Tensor {
  if (S > MAX_SOURCE) throw new ShapeError(`source of ${S} tokens: lengths given as a tensor cover at most ${MAX_SOURCE}`);
  return F.slice(arange(MAX_SOURCE), 0, 0, S);
}

/**
 * Bool (B, S), true at padded source positions (s >= length): the keyPaddingMask of the attentions.
 * Lengths as numbers give a constant; as an int32 tensor (an exported graph's src_lengths), ops.
 */
export function sourcePaddingMask(srcLengths: readonly number[] | Tensor, S: number): Tensor {
  if (srcLengths instanceof Tensor) return F.ge(F.unsqueeze(sourcePositions(S), 0), F.unsqueeze(srcLengths, 1)); // (1, S) >= (B, 1)
  const m = new Uint8Array(srcLengths.length * S);
  srcLengths.forEach((n, b) => m.fill(1, b * S + n, (b + 1) * S));
  return Tensor.fromBuffer(m, [srcLengths.length, S]);
}

/**
 * The output layer of the RNN models: features (..., D) -> logits (..., V). With a `readout`
 * (2l, D) it is the maxout deep output of Cho et al. 2014 and Bahdanau et al. 2015 (appendix
 * A.2.2): t̃ = readout(features), t_j = max(t̃_{2j-1}, t̃_{2j}), logits = fc_out(t) (V, l).
 */
export function deepOutput(readout: Linear | null, fcOut: Linear, features: Tensor): Tensor {
  if (!readout) return fcOut.forward(features);
  const t = readout.forward(features); // (..., 2l)
  const l = t.shape[t.ndim - 1]! / 2;
  return fcOut.forward(F.amax(F.reshape(t, [...t.shape.slice(0, -1), l, 2]), -1)); // (..., l, 2): pairs side by side -> (..., l) -> (..., V)
}

/** Checks the `maxout` option of the RNN models. */
export function checkMaxout(name: string, maxout: number): void {
  if (!(Number.isInteger(maxout) && maxout >= 0)) throw new ArgumentError(`${name}: maxout must be a non-negative integer, got ${maxout}`);
}

/**
 * Greedy (beamSize 1) or beam search with the model's stepper, in eval mode (dropout off; the
 * model's mode is restored afterwards). Returns the best hypothesis of every sentence.
 */
export async function translateWith<S>(model: TranslationModel<S>, src: Tensor, srcLengths: readonly number[], o: TranslateOptions): Promise<Hypothesis[]> {
  const wasTraining = model.training;
  model.eval();
  try {
    const { stepper, initial } = model.stepper(src, srcLengths);
    const B = src.shape[0]!;
    const search: BeamOptions = {
      bos: model.config.bosId, eos: model.config.eosId, maxLength: o.maxLength, beamSize: o.beamSize ?? 1, sourceLengths: srcLengths,
      ...(o.maxLengthRatio !== undefined && { maxLengthRatio: o.maxLengthRatio }),
      ...(o.maxLengthOffset !== undefined && { maxLengthOffset: o.maxLengthOffset }),
      ...(o.lengthPenalty !== undefined && { lengthPenalty: o.lengthPenalty }),
    };
    if (search.beamSize === 1) {
      const { beamSize: _beamSize, lengthPenalty: _lengthPenalty, ...greedy } = search;
      return await greedySearch(stepper, initial, B, greedy);
    }
    return (await beamSearch(stepper, initial, B, search)).map((nBest) => nBest[0]!);
  } finally {
    model.train(wasTraining);
  }
}
