/**
 * The three losses BERT's heads use, with PyTorch's default reduction (mean).
 * TEMPORARY: src/nn/losses.ts (a colleague's) did not exist when these heads were written; switch
 * to it once it lands. Composed from public ops, so gradients come for free.
 */
import * as F from '../../ops/functional.js';
import { ShapeError, fmtShape } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * nn.CrossEntropyLoss: logits (N, K), integer targets (N); targets equal to ignoreIndex do not
 * count (mean over the rest; NaN when every target is ignored, as in PyTorch).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = -100): Tensor {
  if (logits.ndim !== 2 || targets.ndim !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`crossEntropy: logits (N, K) and targets (N) expected, got ${fmtShape(logits.shape)} and ${fmtShape(targets.shape)}`);
  }
  const labels = F.cast(targets, 'int32');
  const keep = F.ne(labels, ignoreIndex); // (N)
  const safe = F.where(keep, labels, 0); // ignored rows gather class 0, then count for nothing
  const picked = F.squeeze(F.gather(F.logSoftmax(logits, -1), 1, F.unsqueeze(safe, 1)), 1); // (N, 1) -> (N)
  const nll = F.where(keep, F.neg(picked), 0);
  return F.div(F.sum(nll), F.sum(F.cast(keep, 'float32')));
}

/** nn.MSELoss. */
export function mseLoss(input: Tensor, target: Tensor): Tensor {
  const d = F.sub(input, F.cast(target, input.dtype));
  return F.mean(F.mul(d, d));
}

/** nn.BCEWithLogitsLoss, in the stable form max(x, 0) - x y + log(1 + exp(-|x|)). */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  const y = F.cast(target, logits.dtype);
  const softplus = F.log(F.add(F.exp(F.neg(F.abs(logits))), 1));
  return F.mean(F.add(F.sub(F.relu(logits), F.mul(logits, y)), softplus));
}
