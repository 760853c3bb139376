/** Gradient clipping as torch.nn.utils.clip_grad_norm_ / clip_grad_value_, lazily: no extra run. */
import * as F from '../ops/functional.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales every gradient by min(1, maxNorm / (totalNorm + 1e-6)), where totalNorm is the `normType`
 * norm of all gradients together. Returns totalNorm (lazy: pass it to `optimizer.step(loss, norm)`
 * to read it with no extra run). Parameters without a gradient are skipped, as in PyTorch.
 */
export function clipGradNorm(parameters: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0)) throw new ArgumentError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new ArgumentError(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  const ps = [...parameters].filter((p) => p.grad);
  return noGrad(() => {
    if (ps.length === 0) return F.constant(0);
    let total: Tensor;
    if (normType === Infinity) {
      total = F.amax(F.stack(ps.map((p) => F.amax(F.abs(p.grad!)))));
    } else if (normType === 2) {
      total = F.sqrt(F.stack(ps.map((p) => F.sum(F.mul(p.grad!, p.grad!)))).sum());
    } else {
      total = F.pow(F.stack(ps.map((p) => F.sum(F.pow(F.abs(p.grad!), normType)))).sum(), 1 / normType);
    }
    const coef = F.clamp(F.div(maxNorm, F.add(total, 1e-6)), undefined, 1);
    for (const p of ps) p.grad = F.mul(p.grad!, coef);
    return total;
  });
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(parameters: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new ArgumentError(`clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  noGrad(() => {
    for (const p of parameters) if (p.grad) p.grad = F.clamp(p.grad, -clipValue, clipValue);
  });
}
