/**
 * Losses with PyTorch's semantics (torch.nn.functional): class dimension 1, `reduction` 'mean' |
 * 'sum' | 'none', `ignoreIndex` and `labelSmoothing` as in nn.CrossEntropyLoss. Each is composed from
 * differentiable ops, so gradients come from autograd and the whole loss lowers into the training
 * step's single graph. Module forms (`CrossEntropyLoss` ...) wrap the functions.
 */
import * as F from '../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { checkOptions } from '../tensor/options.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface NllLossOptions {
  /** Per-class rescaling weight (C). */
  weight?: Tensor;
  /** Targets equal to this do not count (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 - ε) one-hot + ε / C (default 0). */
  labelSmoothing?: number;
}

export interface ReductionOptions {
  reduction?: Reduction;
}

export interface BceWithLogitsOptions extends ReductionOptions {
  /** Rescales each element's loss (broadcast to the input). */
  weight?: Tensor;
  /** Weight of positive examples per class (broadcast along the last dim), as in PyTorch. */
  posWeight?: Tensor;
}

function checkReduction(op: string, r: Reduction): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(r)}'`);
  return r;
}

function reduce(x: Tensor, r: Reduction): Tensor {
  return r === 'none' ? x : r === 'sum' ? F.sum(x) : F.mean(x);
}

/** Moves the class dim (1) last, so (N, C, d1..) -> (N, d1.., C); (C) and (N, C) are unchanged. */
function classLast(x: Tensor): Tensor {
  if (x.ndim <= 2) return x;
  const order = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return F.permute(x, order);
}

/** Checks index targets against input (C)/(N, C)/(N, C, d1..): target () / (N) / (N, d1..). */
function checkIndexTarget(op: string, input: Tensor, target: Tensor): void {
  const want = input.ndim === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (input.ndim === 0 || target.shape.length !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${op}: input ${fmtShape(input.shape)} (class dim 1) needs an index target of shape ${fmtShape(want)}, got ${fmtShape(target.shape)}`);
  }
  if (target.dtype !== 'int32') throw new ShapeError(`${op}: index targets must be int32, got ${target.dtype} (probability targets must match the input's shape)`);
}

/**
 * F.nll_loss: `input` holds log-probabilities with the class in dim 1. With reduction 'mean' the
 * sum is divided by the total weight of the counted targets (the count, without `weight`); NaN when
 * every target is ignored, as in PyTorch.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  options = checkOptions('nllLoss', options, { weight: 1, ignoreIndex: 1, reduction: 1 });
  const { weight, ignoreIndex = -100 } = options;
  const reduction = checkReduction('nllLoss', options.reduction ?? 'mean');
  checkIndexTarget('nllLoss', input, target);
  const C = input.ndim === 1 ? input.shape[0]! : input.shape[1]!;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) throw new ShapeError(`nllLoss: weight must have shape [${C}], got ${fmtShape(weight.shape)}`);
  const logp = classLast(input); // (..., C)
  const keep = F.ne(target, ignoreIndex);
  const safe = F.where(keep, target, 0); // ignored targets pick class 0, then count for nothing
  const picked = F.squeeze(F.gather(logp, -1, F.unsqueeze(safe, -1)), -1);
  const w = weight ? F.where(keep, F.indexSelect(weight, 0, F.flatten(safe)).reshape(safe.shape), 0) : F.cast(keep, input.dtype);
  const losses = F.mul(F.neg(picked), w);
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return F.sum(losses);
  return F.div(F.sum(losses), F.sum(w));
}

/**
 * F.cross_entropy: `input` holds unnormalised logits with the class in dim 1. `target` is either class
 * indices (int32, the input's shape without dim 1) or class probabilities (the input's shape).
 * Label smoothing follows PyTorch exactly, including its normalisation under `weight` and ignoreIndex.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  options = checkOptions('crossEntropy', options, { labelSmoothing: 1, weight: 1, ignoreIndex: 1, reduction: 1 });
  const { weight, ignoreIndex = -100, labelSmoothing = 0 } = options;
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ArgumentError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  if (input.ndim === 0) throw new ShapeError('crossEntropy: input must have a class dimension, got a scalar');
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim]!;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) throw new ShapeError(`crossEntropy: weight must have shape [${C}], got ${fmtShape(weight.shape)}`);
  const logp = F.logSoftmax(input, classDim);
  const wView = weight ? (classDim === 1 ? F.reshape(weight, [C, ...new Array(input.ndim - 2).fill(1)]) : weight) : undefined;

  // Probability targets: -sum_c w_c q_c log p_c with q smoothed towards uniform; mean over elements.
  if (target.dtype !== 'int32' && target.ndim === input.ndim && target.shape.every((d, i) => d === input.shape[i])) {
    let q = F.cast(target, input.dtype);
    if (labelSmoothing > 0) q = F.add(F.mul(q, 1 - labelSmoothing), labelSmoothing / C);
    const terms = F.mul(logp, wView ? F.mul(q, wView) : q);
    const losses = F.neg(F.sum(terms, classDim));
    if (reduction !== 'mean') return reduce(losses, reduction);
    return F.div(F.sum(losses), input.ndim === 1 ? 1 : input.size / C);
  }
  checkIndexTarget('crossEntropy', input, target);
  if (!weight && input.ndim === 2) {
    // The common case (a batch of rows, e.g. every target token of a translation batch): one fused op.
    const keep = F.ne(target, ignoreIndex);
    const counted = F.cast(keep, input.dtype);
    const losses = F.mul(F.softmaxCrossEntropy(input, F.where(keep, target, 0), labelSmoothing), counted);
    if (reduction === 'none') return losses;
    if (reduction === 'sum') return F.sum(losses);
    return F.div(F.sum(losses), F.sum(counted));
  }
  const nll = nllLoss(logp, target, { weight, ignoreIndex, reduction });
  if (labelSmoothing === 0) return nll;
  // PyTorch: smooth = -sum_c w_c log p_c per element (0 where ignored), reduced like the nll.
  const keep = F.ne(target, ignoreIndex);
  const smooth = F.where(keep, F.neg(F.sum(wView ? F.mul(logp, wView) : logp, classDim)), 0);
  let smoothReduced: Tensor;
  if (reduction === 'none') smoothReduced = smooth;
  else if (reduction === 'sum') smoothReduced = F.sum(smooth);
  else {
    const safe = F.where(keep, target, 0);
    const denom = weight ? F.sum(F.where(keep, F.indexSelect(weight, 0, F.flatten(safe)).reshape(safe.shape), 0)) : F.sum(F.cast(keep, input.dtype));
    smoothReduced = F.div(F.sum(smooth), denom);
  }
  return F.add(F.mul(nll, 1 - labelSmoothing), F.mul(smoothReduced, labelSmoothing / C));
}

function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError(`${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
}

/** F.mse_loss: (input - target)^2. */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  options = checkOptions('mseLoss', options, { reduction: 1 });
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  checkSameShape('mseLoss', input, target);
  const d = F.sub(input, F.cast(target, input.dtype));
  return reduce(F.mul(d, d), reduction);
}

/** F.l1_loss: |input - target|. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  options = checkOptions('l1Loss', options, { reduction: 1 });
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  checkSameShape('l1Loss', input, target);
  return reduce(F.abs(F.sub(input, F.cast(target, input.dtype))), reduction);
}

/**
 * F.binary_cross_entropy_with_logits, in PyTorch's stable form:
 * (1 - y) x + (1 + (pw - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)).
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  options = checkOptions('binaryCrossEntropyWithLogits', options, { weight: 1, posWeight: 1, reduction: 1 });
  const reduction = checkReduction('binaryCrossEntropyWithLogits', options.reduction ?? 'mean');
  checkSameShape('binaryCrossEntropyWithLogits', input, target);
  const y = F.cast(target, input.dtype);
  const softplusNeg = F.add(F.log(F.add(F.exp(F.neg(F.abs(input))), 1)), F.relu(F.neg(input))); // log(1 + exp(-x))
  const scale = options.posWeight ? F.add(F.mul(F.sub(options.posWeight, 1), y), 1) : undefined;
  let loss = F.add(F.mul(F.rsub(y, 1), input), scale ? F.mul(scale, softplusNeg) : softplusNeg);
  if (options.weight) loss = F.mul(loss, options.weight);
  return reduce(loss, reduction);
}

/** nn.CrossEntropyLoss. */
export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) {
    options = checkOptions('CrossEntropyLoss', options, { labelSmoothing: 1, weight: 1, ignoreIndex: 1, reduction: 1 });
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor { return crossEntropy(input, target, this.options); }
}

/** nn.NLLLoss. */
export class NLLLoss extends Module {
  constructor(readonly options: NllLossOptions = {}) {
    options = checkOptions('NLLLoss', options, { weight: 1, ignoreIndex: 1, reduction: 1 });
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor { return nllLoss(input, target, this.options); }
}

/** nn.MSELoss. */
export class MSELoss extends Module {
  constructor(readonly options: ReductionOptions = {}) {
    options = checkOptions('MSELoss', options, { reduction: 1 });
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor { return mseLoss(input, target, this.options); }
}

/** nn.BCEWithLogitsLoss. */
export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: BceWithLogitsOptions = {}) {
    options = checkOptions('BCEWithLogitsLoss', options, { weight: 1, posWeight: 1, reduction: 1 });
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropyWithLogits(input, target, this.options); }
}
