/** Creation functions (PyTorch names). They return realized leaves, so `requiresGrad` makes trainable parameters. */
import { type DType, arrayFor, assertDType, isFloat } from './dtype.js';
import { ArgumentError } from './errors.js';
import { type Generator, defaultGenerator } from './random.js';
import { checkShape, numel, varargs } from './shape.js';
import { Tensor } from './tensor.js';
import { type OptionKeys, checkOptions } from './options.js';

export interface CreationOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreationOptions {
  generator?: Generator;
}

type SizeAndOptions<O> = (number | readonly number[] | O)[];

/** Splits `f(2, 3, {dtype})` / `f([2, 3], {dtype})` into a shape and options. */
function parse<O extends object>(op: string, args: SizeAndOptions<O>, accepted: OptionKeys<O>): [number[], O] {
  const last = args[args.length - 1];
  const hasOptions = last !== undefined && typeof last === 'object' && !Array.isArray(last);
  const sizes = (hasOptions ? args.slice(0, -1) : args) as (number | readonly number[])[];
  return [checkShape(op, varargs(sizes)), checkOptions(op, (hasOptions ? last : {}) as O, accepted)];
}

const CREATION: OptionKeys<CreationOptions> = { dtype: 1, requiresGrad: 1 };
const RANDOM: OptionKeys<RandomOptions> = { ...CREATION, generator: 1 };

function leaf(op: string, values: Float32Array | Float64Array | Int32Array | Uint8Array, shape: number[], options: CreationOptions): Tensor {
  if (options.requiresGrad && !isFloat(options.dtype ?? 'float32')) throw new ArgumentError(`${op}: only floating-point tensors can require gradients`);
  return Tensor.fromBuffer(values, shape, options.requiresGrad ?? false);
}

export function full(shape: readonly number[], value: number, options: CreationOptions = {}): Tensor {
  options = checkOptions('full', options, { dtype: 1, requiresGrad: 1 });
  const s = checkShape('full', shape);
  const dtype = assertDType(options.dtype ?? 'float32', 'full');
  return leaf('full', arrayFor(dtype, numel(s)).fill(dtype === 'bool' ? (value ? 1 : 0) : value), s, options);
}

export function zeros(...args: SizeAndOptions<CreationOptions>): Tensor {
  const [shape, o] = parse('zeros', args, CREATION);
  return full(shape, 0, o);
}
export function ones(...args: SizeAndOptions<CreationOptions>): Tensor {
  const [shape, o] = parse('ones', args, CREATION);
  return full(shape, 1, o);
}
export function zerosLike(t: Tensor, options: CreationOptions = {}): Tensor {
  options = checkOptions('zerosLike', options, { dtype: 1, requiresGrad: 1 });
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}
export function onesLike(t: Tensor, options: CreationOptions = {}): Tensor {
  options = checkOptions('onesLike', options, { dtype: 1, requiresGrad: 1 });
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}
export function fullLike(t: Tensor, value: number, options: CreationOptions = {}): Tensor {
  options = checkOptions('fullLike', options, { dtype: 1, requiresGrad: 1 });
  return full(t.shape, value, { dtype: t.dtype, ...options });
}

/** arange(end), arange(start, end), arange(start, end, step). Integer arguments give int32 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, options: CreationOptions = {}): Tensor {
  options = checkOptions('arange', options, { dtype: 1, requiresGrad: 1 });
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new ArgumentError('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((e - s) / step));
  const allInt = [s, e, step].every(Number.isInteger);
  const dtype = options.dtype ?? (allInt ? 'int32' : 'float32');
  const values = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) values[i] = s + i * step;
  return leaf('arange', values, [n], { ...options, dtype });
}

export function eye(n: number, m = n, options: CreationOptions = {}): Tensor {
  options = checkOptions('eye', options, { dtype: 1, requiresGrad: 1 });
  const dtype = options.dtype ?? 'float32';
  const values = arrayFor(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return leaf('eye', values, checkShape('eye', [n, m]), { ...options, dtype });
}

/** Uniform [0, 1) from the seeded generator. */
export function rand(...args: SizeAndOptions<RandomOptions>): Tensor {
  const [shape, o] = parse('rand', args, RANDOM);
  const g = o.generator ?? defaultGenerator;
  const dtype = o.dtype ?? 'float32';
  const values = arrayFor(dtype, numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = g.random();
  return leaf('rand', values, shape, { ...o, dtype });
}

/** Standard normal from the seeded generator. */
export function randn(...args: SizeAndOptions<RandomOptions>): Tensor {
  const [shape, o] = parse('randn', args, RANDOM);
  const g = o.generator ?? defaultGenerator;
  const dtype = o.dtype ?? 'float32';
  const values = arrayFor(dtype, numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = g.normal();
  return leaf('randn', values, shape, { ...o, dtype });
}

/** Integers uniform in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  options = checkOptions('randint', options, { generator: 1, dtype: 1, requiresGrad: 1 });
  if (!(high > low)) throw new ArgumentError(`randint: high (${high}) must be greater than low (${low})`);
  const g = options.generator ?? defaultGenerator;
  const dtype = options.dtype ?? 'int32';
  const s = checkShape('randint', shape);
  const values = arrayFor(dtype, numel(s));
  for (let i = 0; i < values.length; i++) values[i] = g.randint(low, high);
  return leaf('randint', values, s, { ...options, dtype });
}

/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  options = checkOptions('randperm', options, { generator: 1, dtype: 1, requiresGrad: 1 });
  return Tensor.fromBuffer((options.generator ?? defaultGenerator).permutation(n), [n]);
}
