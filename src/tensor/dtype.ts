import { DTypeError } from './errors.js';

/** The element types zhuyi knows. `bool` is stored one byte per element. Indices are int32 (cast to int64 inside ONNX graphs where an op needs it). */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function arrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Converts any array-like of numbers/booleans into the typed array of `dtype` (values are cast as `t.to(dtype)` casts). */
export function castArray(src: ArrayLike<number | boolean>, dtype: DType): TypedArray {
  const out = arrayFor(dtype, src.length);
  if (dtype === 'bool') {
    // Nonzero is true, NaN included (PyTorch, C++ and ONNX Cast); JavaScript truthiness makes NaN false.
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]) !== 0 ? 1 : 0;
  } else if (dtype === 'int32') {
    // PyTorch truncates toward zero when casting float to int.
    for (let i = 0; i < src.length; i++) out[i] = Math.trunc(Number(src[i]));
  } else {
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  }
  return out;
}

/** One number as `dtype` stores it (a fill value: true for any nonzero or NaN, truncated for int32). */
export function castScalar(value: number, dtype: DType): number {
  return castArray([value], dtype)[0]!;
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Result dtype of a binary arithmetic op on two tensors (PyTorch's promotion lattice, restricted to our dtypes). */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Result dtype when a tensor meets a JavaScript number: the tensor's dtype wins unless the number needs a float. */
export function promoteScalar(t: DType, value: number | boolean): DType {
  if (typeof value === 'boolean') return t;
  if (t === 'bool') return Number.isInteger(value) ? 'int32' : 'float32';
  if (t === 'int32' && !Number.isInteger(value)) return 'float32';
  return t;
}

export function assertDType(value: string, where: string): DType {
  if ((DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new DTypeError(`${where}: unknown dtype '${value}', expected one of ${DTYPES.join(', ')}`);
}
