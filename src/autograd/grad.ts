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
import { checkOptions } from '../tensor/options.js';

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
      if (next < t.inputs.length && !t.isLeaf) {
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

/** The gradient g of one slice of x: `slice` is the slice op's output, whose attrs give [starts, ends). */
interface SlicePiece {
  g: Tensor;
  slice: Tensor;
}

const startsOf = (p: SlicePiece): readonly number[] => p.slice.attrs.starts as number[];
const endsOf = (p: SlicePiece): readonly number[] => p.slice.attrs.ends as number[];

/**
 * The full-size gradients of x from its slices' gradients. Slices along one axis that do not
 * overlap become one concat (zeros fill the gaps); any other slice pads to x's shape (the slice
 * op's own vjp). The results are summed by the caller.
 */
function mergeSlices(x: Tensor, pieces: readonly SlicePiece[]): Tensor[] {
  const shape = x.shape;
  const sliceOp = getOp('slice');
  if (sliceOp.vjp === 'nondiff') throw new ZhuyiError('grad: the slice op has no vjp');
  const vjp = sliceOp.vjp;
  const pad = (p: SlicePiece): Tensor => vjp({ inputs: [x], out: p.slice, attrs: p.slice.attrs }, p.g)[0]!; // zeros around g
  const byAxis = new Map<number, SlicePiece[]>();
  const out: Tensor[] = [];
  for (const p of pieces) {
    const [starts, ends] = [startsOf(p), endsOf(p)];
    const cut = shape.flatMap((d, i) => (starts[i] !== 0 || ends[i] !== d ? [i] : []));
    if (cut.length !== 1) { out.push(pad(p)); continue; }
    const list = byAxis.get(cut[0]!) ?? [];
    list.push(p);
    byAxis.set(cut[0]!, list);
  }
  for (const [axis, list] of byAxis) {
    if (list.length === 1) { out.push(pad(list[0]!)); continue; }
    const sorted = [...list].sort((a, b) => startsOf(a)[axis]! - startsOf(b)[axis]!);
    // Overlapping pieces cannot share one concat: the first of each overlap goes to the concat, the rest pad.
    const parts: Tensor[] = [];
    let at = 0;
    for (const p of sorted) {
      const [s, e] = [startsOf(p)[axis]!, endsOf(p)[axis]!];
      if (s < at) { out.push(pad(p)); continue; }
      if (s > at) parts.push(F.constant(0, shape.map((d, i) => (i === axis ? s - at : d)), x.dtype));
      parts.push(p.g);
      at = e;
    }
    if (at < shape[axis]!) parts.push(F.constant(0, shape.map((d, i) => (i === axis ? shape[axis]! - at : d)), x.dtype));
    out.push(parts.length === 1 ? parts[0]! : F.cat(parts, axis));
  }
  return out;
}

/** Gradients of `outputs` with respect to `inputs`, as lazy tensors. */
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], options: GradOptions = {}): Tensor[] {
  options = checkOptions('grad', options, { gradOutputs: 1, createGraph: 1, allowUnused: 1 });
  const outs = Array.isArray(outputs) ? (outputs as readonly Tensor[]) : [outputs as Tensor];
  const seeds = options.gradOutputs === undefined ? [] : Array.isArray(options.gradOutputs) ? (options.gradOutputs as readonly Tensor[]) : [options.gradOutputs as Tensor];
  for (const o of outs) {
    if (!o.requiresGrad) throw new ZhuyiError(`grad: output ${o} does not require grad (no input with requiresGrad, or built under noGrad)`);
  }
  const prev = isGradEnabled();
  setGradEnabled(options.createGraph ?? false);
  try {
    const grads = new Map<Tensor, Tensor>();
    // Gradients arriving through slices of a tensor wait here until the tensor's own turn, so the
    // pieces of a split (an RNN's per-step inputs, a decoder's per-step embeddings) become one concat
    // instead of T full-size pads summed: O(T) work and memory instead of O(T^2).
    const pieces = new Map<Tensor, SlicePiece[]>();
    const accumulate = (t: Tensor, g: Tensor): void => {
      if (!sameShape(g.shape, t.shape)) throw new ShapeError(`grad: gradient ${fmtShape(g.shape)} for ${t.op ?? 'leaf'} does not match its shape ${fmtShape(t.shape)}`);
      const cur = grads.get(t);
      grads.set(t, cur ? F.add(cur, g) : g);
    };
    const gradOf = (t: Tensor): Tensor | undefined => {
      const p = pieces.get(t);
      if (p) {
        pieces.delete(t);
        for (const g of mergeSlices(t, p)) accumulate(t, g);
      }
      return grads.get(t);
    };
    outs.forEach((o, i) => {
      const seed = seeds[i];
      if (seed === undefined && o.size !== 1) throw new ArgumentError(`grad: output of shape ${fmtShape(o.shape)} is not a scalar; pass gradOutputs`);
      accumulate(o, seed === undefined ? F.constant(1, [...o.shape], o.dtype) : F.cast(seed, o.dtype));
    });
    for (const t of reverseTopo(outs)) {
      const g = gradOf(t);
      if (g === undefined || t.isLeaf) continue;
      if (t.op === 'slice') {
        const x = t.inputs[0]!;
        if (x.requiresGrad) {
          if (!sameShape(g.shape, t.shape)) throw new ShapeError(`grad: gradient ${fmtShape(g.shape)} for slice does not match its shape ${fmtShape(t.shape)}`);
          const list = pieces.get(x) ?? [];
          list.push({ g, slice: t });
          pieces.set(x, list);
        }
        if (!inputs.includes(t)) grads.delete(t);
        continue;
      }
      const def = getOp(t.op!);
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
      const g = gradOf(x);
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
  const leaves = reverseTopo([output]).filter((t) => t.isLeaf && t.requiresGrad);
  const grads = grad(output, leaves, gradient ? { gradOutputs: gradient } : {});
  noGrad(() => {
    leaves.forEach((leaf, i) => {
      leaf.grad = leaf.grad ? F.add(leaf.grad, grads[i]!) : grads[i]!;
    });
  });
}
