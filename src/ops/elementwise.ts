/**
 * Elementwise ops: constants, casts, unary math, binary arithmetic with broadcasting, comparisons,
 * logic and `where`. Binary ops expect inputs of one dtype (functional.ts promotes first).
 */
import { type DType, type TypedArray, arrayFor, castArray, castScalar, isFloat } from '../tensor/dtype.js';
import { DTypeError, fmtShape } from '../tensor/errors.js';
import { broadcastShapes, broadcastStrides, numel, sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import { INV_SQRT_2PI, SQRT1_2, SQRT_2_OVER_PI, erf, geluExact, geluTanh } from './math.js';
import { type Attrs, type Meta, type OnnxBuilder, type OnnxLowering, type VjpContext, defineOp, onnxDTypeCode } from './registry.js';
import { stridedOffsets } from './strided.js';

// ---- constants and casts ----------------------------------------------------------------------

export interface FullAttrs extends Attrs { shape: number[]; value: number; dtype: DType }

/** A tensor filled with one value; no inputs. Lazy zeros/ones inside graphs (gradients, masks) are these. */
defineOp<FullAttrs>({
  name: 'full',
  infer: (_, a) => ({ shape: a.shape, dtype: a.dtype }),
  kernel: (_, __, a) => arrayFor(a.dtype, numel(a.shape)).fill(castScalar(a.value, a.dtype)),
  vjp: 'nondiff',
  onnx: (b, n) => {
    const scalar = b.constant([castScalar(n.attrs.value, n.attrs.dtype)], n.attrs.dtype, []);
    if (n.attrs.shape.length === 0) return scalar;
    return b.node('Expand', [scalar, b.sizes(n.attrs.shape)])[0]!;
  },
});

export interface CastAttrs extends Attrs { dtype: DType }

defineOp<CastAttrs>({
  name: 'cast',
  infer: ([x], a) => ({ shape: x!.shape, dtype: a.dtype }),
  kernel: ([x], _, a) => castArray(x!, a.dtype),
  // Gradients pass float -> float casts; casts to or from int/bool carry none.
  vjp: ({ inputs: [x] }, g) => [isFloat(x!.dtype) ? F.cast(g, x!.dtype) : null],
  onnx: (b, n) => b.node('Cast', n.inputs, { to: onnxDTypeCode(n.attrs.dtype) })[0]!,
});

// ---- unary ------------------------------------------------------------------------------------

type Unary = (x: number) => number;

function defineUnary(
  name: string,
  f: Unary,
  accepts: 'float' | 'number' | 'bool',
  vjp: ((ctx: VjpContext<Attrs>, g: Tensor) => (Tensor | null)[]) | 'nondiff',
  onnx: OnnxLowering<Attrs>,
): void {
  defineOp({
    name,
    infer: ([x]) => {
      const ok = accepts === 'float' ? isFloat(x!.dtype) : accepts === 'bool' ? x!.dtype === 'bool' : x!.dtype !== 'bool';
      if (!ok) throw new DTypeError(`${name}: expects a ${accepts === 'number' ? 'numeric' : accepts} tensor, got ${x!.dtype}${fmtShape(x!.shape)}`);
      return x!;
    },
    kernel: ([x], [m]) => {
      const out = arrayFor(m!.dtype, x!.length);
      for (let i = 0; i < x!.length; i++) out[i] = f(x![i]!);
      return out;
    },
    vjp,
    onnx,
  });
}

const simple = (opType: string): OnnxLowering<Attrs> => (b, n) => b.node(opType, n.inputs)[0]!;

defineUnary('neg', (x) => -x, 'number', (_, g) => [F.neg(g)], simple('Neg'));
defineUnary('exp', Math.exp, 'float', ({ out }, g) => [F.mul(g, out)], simple('Exp'));
defineUnary('log', Math.log, 'float', ({ inputs: [x] }, g) => [F.div(g, x!)], simple('Log'));
defineUnary('sqrt', Math.sqrt, 'float', ({ out }, g) => [F.div(g, F.mul(out, 2))], simple('Sqrt'));
defineUnary('reciprocal', (x) => 1 / x, 'float', ({ out }, g) => [F.neg(F.mul(g, F.mul(out, out)))], simple('Reciprocal'));
defineUnary('tanh', Math.tanh, 'float', ({ out }, g) => [F.mul(g, F.rsub(F.mul(out, out), 1))], simple('Tanh'));
// float32 runs ONNX Runtime's Sigmoid (one vectorised pass: a GRU+attention training step has ~8M
// gate elements, and 1 / (1 + exp(-x)) as three ops cost ~90 ms more per step); its approximation
// loses the far negative tail (sigmoid(-15) 17% high, sigmoid(-20) = 0, where PyTorch gives 2e-9),
// which tests/fuzz/known/sigmoid-tail.json records. float64 computes 1 / (1 + exp(-x)) exactly.
defineUnary('sigmoid', (x) => 1 / (1 + Math.exp(-x)), 'float', ({ out }, g) => [F.mul(g, F.mul(out, F.rsub(out, 1)))],
  (b, n) => (n.out.dtype === 'float32' ? b.node('Sigmoid', n.inputs)[0]! : b.node('Reciprocal', [b.node('Add', [b.constant([1], n.out.dtype, []), b.node('Exp', [b.node('Neg', n.inputs)[0]!])[0]!])[0]!])[0]!));
// NaN stays NaN, as in PyTorch (`x > 0 ? x : 0` would turn it into 0).
defineUnary('relu', (x) => (x <= 0 ? 0 : x), 'number', ({ inputs: [x] }, g) => [F.where(F.gt(x!, 0), g, 0)], simple('Relu'));
defineUnary('erf', erf, 'float', ({ inputs: [x] }, g) => [F.mul(g, F.mul(F.exp(F.neg(F.mul(x!, x!))), 2 / Math.sqrt(Math.PI)))], (b, n) => onnxErf(b, n.inputs[0]!, n.out.dtype));

/** ONNX Runtime's CPU Erf has only a float32 kernel: float64 goes through float32 (about 1e-7 relative error). */
function onnxErf(b: OnnxBuilder, x: string, dtype: DType): string {
  if (dtype !== 'float64') return b.node('Erf', [x])[0]!;
  const e = b.node('Erf', [b.node('Cast', [x], { to: onnxDTypeCode('float32') })[0]!])[0]!;
  return b.node('Cast', [e], { to: onnxDTypeCode('float64') })[0]!;
}
defineUnary('abs', Math.abs, 'number', ({ inputs: [x] }, g) => [F.mul(g, F.sign(x!))], simple('Abs'));
// PyTorch's (0 < x) - (x < 0): sign(-0) is +0 (Math.sign keeps -0, ONNX Runtime's Sign gives +0). NaN stays NaN on both backends.
defineUnary('sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN), 'number', 'nondiff', simple('Sign'));
defineUnary('sin', Math.sin, 'float', ({ inputs: [x] }, g) => [F.mul(g, F.cos(x!))], simple('Sin'));
defineUnary('cos', Math.cos, 'float', ({ inputs: [x] }, g) => [F.neg(F.mul(g, F.sin(x!)))], simple('Cos'));
defineUnary('logicalNot', (x) => (x ? 0 : 1), 'bool', 'nondiff', simple('Not'));

export interface GeluAttrs extends Attrs { approximate: 'none' | 'tanh' }

defineOp<GeluAttrs>({
  name: 'gelu',
  infer: ([x]) => {
    if (!isFloat(x!.dtype)) throw new DTypeError(`gelu: expects a float tensor, got ${x!.dtype}`);
    return x!;
  },
  kernel: ([x], [m], a) => {
    const f = a.approximate === 'tanh' ? geluTanh : geluExact;
    const out = arrayFor(m!.dtype, x!.length);
    for (let i = 0; i < x!.length; i++) out[i] = f(x![i]!);
    return out;
  },
  vjp: ({ inputs: [x], attrs }, g) => {
    if (attrs.approximate === 'tanh') {
      // d/dx x s(2u) = s + 2x s(1-s) u',  u = c(x + 0.044715x^3), s = sigmoid(2u) = 0.5(1 + tanh u):
      // the sigmoid form keeps its relative accuracy where 1 + tanh u cancels (u << 0).
      const x3 = F.mul(F.mul(x!, x!), x!);
      const s = F.reciprocal(F.add(F.exp(F.mul(F.add(x!, F.mul(x3, 0.044715)), -2 * SQRT_2_OVER_PI)), 1)); // sigmoid(2u), exact in the tail
      const du = F.mul(F.add(F.mul(F.mul(x!, x!), 3 * 0.044715), 1), SQRT_2_OVER_PI);
      const d = F.add(s, F.mul(F.mul(F.mul(x!, 2), F.mul(s, F.rsub(s, 1))), du));
      return [F.mul(g, d)];
    }
    // d/dx x*Phi(x) = Phi(x) + x*phi(x)
    const cdf = F.mul(F.add(F.erf(F.mul(x!, SQRT1_2)), 1), 0.5);
    const pdf = F.mul(F.exp(F.mul(F.mul(x!, x!), -0.5)), INV_SQRT_2PI);
    return [F.mul(g, F.add(cdf, F.mul(x!, pdf)))];
  },
  onnx: (b, n) => {
    const [x] = n.inputs as [string];
    const dt = n.out.dtype;
    const c = (v: number): string => b.constant([v], dt, []);
    if (n.attrs.approximate === 'tanh') {
      // 0.5 x (1 + tanh u) = x / (1 + exp(-2u)): the same function without the cancellation of
      // 1 + tanh u near -1 (in float32, gelu(-5) came out 30% off, and 0 below x = -5.3).
      const x3 = b.node('Mul', [b.node('Mul', [x, x])[0]!, x])[0]!;
      const inner = b.node('Mul', [b.node('Add', [x, b.node('Mul', [x3, c(0.044715)])[0]!])[0]!, c(-2 * SQRT_2_OVER_PI)])[0]!;
      return b.node('Div', [x, b.node('Add', [c(1), b.node('Exp', [inner])[0]!])[0]!])[0]!;
    }
    // ONNX Runtime's fused Gelu kernel (com.microsoft, float32; it folds a preceding bias Add into
    // BiasGelu): one pass instead of five elementwise ones. float64 keeps x * 0.5 * (1 + erf(x / sqrt 2)).
    if (dt === 'float32') return b.node('Gelu', [x], {}, 1, 'com.microsoft')[0]!;
    const e = onnxErf(b, b.node('Mul', [x, c(SQRT1_2)])[0]!, dt);
    return b.node('Mul', [b.node('Mul', [x, c(0.5)])[0]!, b.node('Add', [e, c(1)])[0]!])[0]!;
  },
});

// ---- binary with broadcasting -------------------------------------------------------------------

type Binary = (a: number, b: number) => number;

/** out[i] = f(a[i'], b[i'']) over the broadcast shape. Fast paths for equal shapes and scalars. */
export function broadcastBinary(a: TypedArray, am: Meta, b: TypedArray, bm: Meta, out: TypedArray, outShape: readonly number[], f: Binary): TypedArray {
  const n = out.length;
  if (sameShape(am.shape, outShape) && sameShape(bm.shape, outShape)) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
  } else if (b.length === 1 && sameShape(am.shape, outShape)) {
    const b0 = b[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b0);
  } else if (a.length === 1 && sameShape(bm.shape, outShape)) {
    const a0 = a[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a0, b[i]!);
  } else {
    const ao = stridedOffsets(outShape, broadcastStrides(am.shape, outShape));
    const bo = stridedOffsets(outShape, broadcastStrides(bm.shape, outShape));
    for (let i = 0; i < n; i++) out[i] = f(a[ao[i]!]!, b[bo[i]!]!);
  }
  return out;
}

function defineBinary(
  name: string,
  f: Binary,
  kind: 'arith' | 'compare' | 'logic',
  vjp: ((ctx: VjpContext<Attrs>, g: Tensor) => (Tensor | null)[]) | 'nondiff',
  onnx: OnnxLowering<Attrs>,
  fInt: Binary = f,
): void {
  defineOp({
    name,
    infer: ([a, b]) => {
      if (a!.dtype !== b!.dtype) throw new DTypeError(`${name}: dtypes differ: ${a!.dtype}${fmtShape(a!.shape)} and ${b!.dtype}${fmtShape(b!.shape)}`);
      if (kind === 'logic' && a!.dtype !== 'bool') throw new DTypeError(`${name}: expects bool tensors, got ${a!.dtype}`);
      if (kind === 'arith' && a!.dtype === 'bool') throw new DTypeError(`${name}: expects numeric tensors, got bool (cast first)`);
      return { shape: broadcastShapes(name, a!.shape, b!.shape), dtype: kind === 'arith' ? a!.dtype : 'bool' };
    },
    kernel: ([a, b], [am, bm], _, out) => broadcastBinary(a!, am!, b!, bm!, arrayFor(out.dtype, numel(out.shape)), out.shape, out.dtype === 'int32' ? fInt : f),
    vjp,
    onnx,
  });
}

defineBinary('add', (a, b) => a + b, 'arith', ({ inputs: [a, b] }, g) => [F.sumTo(g, a!.shape), F.sumTo(g, b!.shape)], simple('Add'));
defineBinary('sub', (a, b) => a - b, 'arith', ({ inputs: [a, b] }, g) => [F.sumTo(g, a!.shape), F.sumTo(F.neg(g), b!.shape)], simple('Sub'));
defineBinary('mul', (a, b) => a * b, 'arith', ({ inputs: [a, b] }, g) => [F.sumTo(F.mul(g, b!), a!.shape), F.sumTo(F.mul(g, a!), b!.shape)], simple('Mul'));
defineBinary('div', (a, b) => a / b, 'arith',
  ({ inputs: [a, b], out }, g) => [F.sumTo(F.div(g, b!), a!.shape), F.sumTo(F.neg(F.div(F.mul(g, out), b!)), b!.shape)],
  simple('Div'));
/** C's pow (PyTorch, ONNX Runtime): 1 ** y and (-1) ** +-inf are 1 even for y = NaN; JavaScript's Math.pow gives NaN. */
function powFloat(a: number, b: number): number {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}

defineBinary('pow', powFloat, 'arith',
  ({ inputs: [a, b], out }, g) => [
    // d/da a^b = b a^(b-1); PyTorch gives 0 where b == 0 (else 0 * 0^-1 = NaN at a == 0).
    F.sumTo(F.where(F.eq(b!, 0), 0, F.mul(g, F.mul(b!, F.pow(a!, F.sub(b!, 1))))), a!.shape),
    // d/db a^b = a^b log a; PyTorch gives 0 where a == 0 and b >= 0 instead of 0 * -inf.
    F.sumTo(F.where(F.logicalAnd(F.eq(a!, 0), F.ge(b!, 0)), 0, F.mul(g, F.mul(out, F.log(a!)))), b!.shape),
  ],
  (b, n) => (n.out.dtype === 'int32' ? onnxPowInt(b, n.inputs[0]!, n.inputs[1]!) : b.node('Pow', n.inputs)[0]!),
  powInt);

/**
 * PyTorch's integer power: exact, wrapping like int32 multiplication; a negative exponent gives 1
 * for base 1, +-1 for base -1 and 0 otherwise (Math.pow(0, -1) = Infinity would store as 0 but
 * 33 ** 33 as 0 too, where PyTorch wraps).
 */
function powInt(a: number, e: number): number {
  if (e < 0) return a === 1 ? 1 : a === -1 ? (e % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let base = a;
  for (let k = e; k > 0; k >>>= 1) {
    if (k & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
}

/**
 * ONNX Runtime's int32 Pow casts a double power to int32, so a negative exponent gives INT_MIN for
 * base 0 and fractions truncated otherwise: select PyTorch's values for negative exponents. (Powers
 * beyond int32 remain undefined there; PyTorch wraps.)
 */
function onnxPowInt(b: OnnxBuilder, base: string, exponent: string): string {
  const i32 = (v: number): string => b.constant([v], 'int32', []);
  const power = b.node('Pow', [base, b.node('Max', [exponent, i32(0)])[0]!])[0]!;
  const odd = b.node('Mod', [b.node('Abs', [exponent])[0]!, i32(2)])[0]!;
  const minusOne = b.node('Sub', [i32(1), b.node('Mul', [odd, i32(2)])[0]!])[0]!; // (-1)^e
  const negative = b.node('Where', [b.node('Equal', [base, i32(1)])[0]!, i32(1),
    b.node('Where', [b.node('Equal', [base, i32(-1)])[0]!, minusOne, i32(0)])[0]!])[0]!;
  return b.node('Where', [b.node('Less', [exponent, i32(0)])[0]!, negative, power])[0]!;
}

// At ties PyTorch splits the gradient evenly between both inputs.
defineBinary('maximum', Math.max, 'arith',
  ({ inputs: [a, b] }, g) => tieSplit(a!, b!, g, F.gt(a!, b!)),
  simple('Max'));
defineBinary('minimum', Math.min, 'arith',
  ({ inputs: [a, b] }, g) => tieSplit(a!, b!, g, F.lt(a!, b!)),
  simple('Min'));

function tieSplit(a: Tensor, b: Tensor, g: Tensor, aWins: Tensor): Tensor[] {
  const tie = F.eq(a, b);
  const half = F.mul(g, 0.5);
  const ga = F.where(aWins, g, F.where(tie, half, 0));
  const gb = F.where(aWins, 0, F.where(tie, half, g));
  return [F.sumTo(ga, a.shape), F.sumTo(gb, b.shape)];
}

/** ONNX orders numbers only: bool operands of Less/Greater compare as int32 (false < true). */
function ordered(opType: string): OnnxLowering<Attrs> {
  return (b, n) => {
    const ins = n.inMetas[0]!.dtype === 'bool' ? n.inputs.map((x) => b.node('Cast', [x], { to: onnxDTypeCode('int32') })[0]!) : n.inputs;
    return b.node(opType, ins)[0]!;
  };
}

defineBinary('eq', (a, b) => (a === b ? 1 : 0), 'compare', 'nondiff', simple('Equal'));
defineBinary('ne', (a, b) => (a !== b ? 1 : 0), 'compare', 'nondiff', (b, n) => b.node('Not', [b.node('Equal', n.inputs)[0]!])[0]!);
defineBinary('lt', (a, b) => (a < b ? 1 : 0), 'compare', 'nondiff', ordered('Less'));
defineBinary('le', (a, b) => (a <= b ? 1 : 0), 'compare', 'nondiff', ordered('LessOrEqual'));
defineBinary('gt', (a, b) => (a > b ? 1 : 0), 'compare', 'nondiff', ordered('Greater'));
defineBinary('ge', (a, b) => (a >= b ? 1 : 0), 'compare', 'nondiff', ordered('GreaterOrEqual'));
defineBinary('logicalAnd', (a, b) => (a && b ? 1 : 0), 'logic', 'nondiff', simple('And'));
defineBinary('logicalOr', (a, b) => (a || b ? 1 : 0), 'logic', 'nondiff', simple('Or'));

// ---- where --------------------------------------------------------------------------------------

defineOp({
  name: 'where',
  infer: ([c, a, b]) => {
    if (c!.dtype !== 'bool') throw new DTypeError(`where: condition must be bool, got ${c!.dtype}${fmtShape(c!.shape)}`);
    if (a!.dtype !== b!.dtype) throw new DTypeError(`where: dtypes differ: ${a!.dtype} and ${b!.dtype}`);
    return { shape: broadcastShapes('where', c!.shape, a!.shape, b!.shape), dtype: a!.dtype };
  },
  kernel: ([c, a, b], [cm, am, bm], _, out) => {
    const shape = out.shape;
    const res = arrayFor(out.dtype, numel(shape));
    const co = stridedOffsets(shape, broadcastStrides(cm!.shape, shape));
    const ao = stridedOffsets(shape, broadcastStrides(am!.shape, shape));
    const bo = stridedOffsets(shape, broadcastStrides(bm!.shape, shape));
    for (let i = 0; i < res.length; i++) res[i] = c![co[i]!] ? a![ao[i]!]! : b![bo[i]!]!;
    return res;
  },
  vjp: ({ inputs: [c, a, b] }, g) => [null, F.sumTo(F.where(c!, g, 0), a!.shape), F.sumTo(F.where(c!, 0, g), b!.shape)],
  onnx: (b, n) => {
    if (n.out.dtype !== 'bool') return b.node('Where', n.inputs)[0]!;
    // ONNX Runtime has no bool Where kernel: select in uint8 and cast back.
    const u8 = (x: string): string => b.node('Cast', [x], { to: onnxDTypeCode('uint8') })[0]!;
    return b.node('Cast', [b.node('Where', [n.inputs[0]!, u8(n.inputs[1]!), u8(n.inputs[2]!)])[0]!], { to: onnxDTypeCode('bool') })[0]!;
  },
});
