/**
 * The losses BERT's heads use, as Hugging Face calls them: labels may come in any integer or float
 * dtype (casts here), the reduction is PyTorch's default mean. The losses themselves are nn/losses.
 */
import * as F from '../../ops/functional.js';
import * as L from '../../nn/losses.js';
import type { Tensor } from '../../tensor/tensor.js';

/** nn.CrossEntropyLoss(ignore_index) on logits (N, K) and integer targets (N). */
export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = -100): Tensor {
  return L.crossEntropy(logits, F.cast(targets, 'int32'), { ignoreIndex });
}

/** nn.MSELoss. */
export function mseLoss(input: Tensor, target: Tensor): Tensor {
  return L.mseLoss(input, target);
}

/** nn.BCEWithLogitsLoss. */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  return L.binaryCrossEntropyWithLogits(logits, target);
}
