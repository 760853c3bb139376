/**
 * Reverse-mode autodiff over the lazy graph. Gradients are built from ops (each op's vjp in the
 * registry), so a gradient is an ordinary lazy tensor: it compiles and runs like anything else, and
 * a training step (forward, backward, update) can be realized in one backend run.
 */
import { getOp } from '../ops/registry.js';
import { ArgumentError, ShapeError, ZhuyiError, fmtShape } from '../tensor/errors.js';
import { isGradEnabled, noGrad, setGradEnabled } from '../tensor/grad-mode.js';
import { sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from '../ops/functional.js';

export interface GradOptions {
  /** d(outputs)/d(outputs) seeds; default ones for a scalar output. */
  gradOutputs?: Tensor | readonly Tensor[];
  /** Record the gradient computation itself for higher-order gradients (default false). */
  createGraph?: boolean;
  /** Return zeros for inputs the outputs do not depend on (default true; PyTorch's allow_unused returns None). */
  allowUnused?: boolean;
}

/** Tensors that lead to `roots` through nodes requiring grad, in reverse topological order (outputs first). */
function reverseTopo(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  for (const root of roots) {
    if (visited.has(root)) continue;
    const stack: [Tensor, number][] = [[root, 0]];
    visited.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, next] = top;
      if (next < t.inputs.length && t.op !== null) {
        top[1] = next + 1;
        const child = t.inputs[next]!;
        if (child.requiresGrad && !visited.has(child)) {
          visited.add(child);
          stack.push([child, 0]);
        }
        continue;
      }
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

/** Gradients of `outputs` with respect to `inputs`, as lazy tensors. */
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], options: GradOptions = {}): Tensor[] {
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const seeds = options.gradOutputs === undefined ? [] : Array.isArray(options.gradOutputs) ? (options.gradOutputs as readonly Tensor[]) : [options.gradOutputs as Tensor];
  for (const o of outs) {
    if (!o.requiresGrad) throw new ZhuyiError(`grad: output ${o} does not require grad (no input with requiresGrad, or built under noGrad)`);
  }
  const prev = isGradEnabled();
  setGradEnabled(options.createGraph ?? false);
  try {
    const grads = new Map<Tensor, Tensor>();
    const accumulate = (t: Tensor, g: Tensor): void => {
      if (!sameShape(g.shape, t.shape)) throw new ShapeError(`grad: gradient ${fmtShape(g.shape)} for ${t.op ?? 'leaf'} does not match its shape ${fmtShape(t.shape)}`);
      const cur = grads.get(t);
      grads.set(t, cur ? F.add(cur, g) : g);
    };
    outs.forEach((o, i) => {
      const seed = seeds[i];
      if (seed === undefined && o.size !== 1) throw new ArgumentError(`grad: output of shape ${fmtShape(o.shape)} is not a scalar; pass gradOutputs`);
      accumulate(o, seed === undefined ? F.constant(1, [...o.shape], o.dtype) : F.cast(seed, o.dtype));
    });
    for (const t of reverseTopo(outs)) {
      const g = grads.get(t);
      if (g === undefined || t.op === null) continue;
      const def = getOp(t.op);
      if (def.vjp === 'nondiff') continue;
      const inGrads = def.vjp({ inputs: t.inputs, out: t, attrs: t.attrs }, g);
      t.inputs.forEach((x, i) => {
        const gi = inGrads[i];
        if (gi && x.requiresGrad) accumulate(x, gi);
      });
      // Intermediate gradients are not kept (PyTorch keeps them only with retain_grad).
      if (!inputs.includes(t)) grads.delete(t);
    }
    return inputs.map((x) => {
      const g = grads.get(x);
      if (g) return g;
      if (options.allowUnused === false) throw new ZhuyiError(`grad: input ${x} is not used to compute the outputs`);
      return F.constant(0, [...x.shape], x.dtype);
    });
  } finally {
    setGradEnabled(prev);
  }
}

/** Accumulates gradients of `output` into `.grad` of every leaf that requires grad. */
export function backward(output: Tensor, gradient?: Tensor): void {
  const leaves = reverseTopo([output]).filter((t) => t.op === null && t.requiresGrad);
  const grads = grad(output, leaves, gradient ? { gradOutputs: gradient } : {});
  noGrad(() => {
    leaves.forEach((leaf, i) => {
      leaf.grad = leaf.grad ? F.add(leaf.grad, grads[i]!) : grads[i]!;
    });
  });
}
