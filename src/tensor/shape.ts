import { ArgumentError, ShapeError, fmtShape } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Numpy/PyTorch broadcasting: align right, each pair equal or one of them 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw new ShapeError(`${op}: shapes cannot be broadcast together: ${shapes.map(fmtShape).join(', ')}`);
    }
  }
  return out;
}

/** Strides to read an array of `shape` as if it had `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const st = stridesOf(shape);
  const r = outShape.length;
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = r - shape.length + i;
    out[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : st[i]!;
  }
  return out;
}

/** Normalises a possibly negative axis into [0, rank). */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -Math.max(rank, 1) || axis >= Math.max(rank, 1)) {
    throw new ArgumentError(`${op}: dim ${axis} out of range for a tensor of rank ${rank} (expected in [${-Math.max(rank, 1)}, ${Math.max(rank, 1) - 1}])`);
  }
  return axis < 0 ? axis + Math.max(rank, 1) : axis;
}

/** Normalises a list of axes (undefined = all), sorted and unique. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new ArgumentError(`${op}: repeated dim in ${JSON.stringify(list)}`);
  return out;
}

/** Accepts both forms PyTorch takes for sizes and dims: `f(2, 3)` and `f([2, 3])`. */
export function varargs(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args.map((a) => {
    if (typeof a !== 'number') throw new ArgumentError(`expected numbers or one array of numbers, got ${JSON.stringify(args)}`);
    return a;
  });
}

export function checkShape(op: string, shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ArgumentError(`${op}: invalid shape ${fmtShape(shape)}: sizes must be non-negative integers`);
  }
  return [...shape];
}
