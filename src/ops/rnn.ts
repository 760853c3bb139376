/**
 * Whole-sequence recurrent layers: `gru` and `lstm`, one layer in one or two directions over a
 * padded batch, as ONE op. Their ONNX lowering is ONNX's GRU / LSTM operator, whose sequence_lens
 * keeps the source length a symbol of an exported graph (a trace of the cell loop in nn/rnn.ts would
 * fix it: one graph node per time step). The cell loop stays the differentiable path; nn/rnn.ts
 * takes this op where no gradient is asked for (export tracing, inference), and tests/ops/rnn.test.ts
 * holds the two to each other.
 *
 * Inputs, PyTorch's layouts (T time, B batch, I input, H hidden, D directions, G gates: 3 GRU, 4 LSTM):
 *   x (T, B, I); weight_ih (D, G*H, I); weight_hh (D, G*H, H); bias_ih, bias_hh (D, G*H);
 *   h0 (D, B, H); for the LSTM c0 (D, B, H); with `lengths`, lengths (B) int32 in [1, T].
 * Output, one tensor (ops have one): (k + T, D, B, H) = [h_N; (c_N;) y], k = 1 (GRU) or 2 (LSTM):
 *   h_N (and c_N) each row's state after its own last step, y the states at every step (0 past a
 *   row's length). The reverse direction starts at each row's last valid step, as
 *   pack_padded_sequence gives it.
 * Gates as PyTorch: GRU r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (ONNX's
 * linear_before_reset = 1, gate order z, r, h); LSTM i, f, g, o (ONNX's order i, o, f, c).
 *
 * ONNX Runtime runs float64 through float32 (its GRU / LSTM kernels are float32 only).
 * No vjp ('nondiff'): the cell loop, written in ops, is differentiated instead.
 */
import { arrayFor, isFloat } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { apply, type Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import { type Attrs, type Meta, defineOp, onnxDTypeCode } from './registry.js';

export type RnnMode = 'gru' | 'lstm';

export interface RnnAttrs extends Attrs {
  /** Whether the last input is the per-row lengths. */
  lengths: boolean;
}

const GATES: Record<RnnMode, number> = { gru: 3, lstm: 4 };
/** For each ONNX gate block, the PyTorch block it comes from (ONNX GRU z, r, h; LSTM i, o, f, c). */
const ONNX_GATE_ORDER: Record<RnnMode, readonly number[]> = { gru: [1, 0, 2], lstm: [0, 3, 1, 2] };
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function inferRnn(mode: RnnMode, ins: readonly Meta[], a: RnnAttrs): Meta {
  const k = mode === 'lstm' ? 2 : 1;
  const want = 6 + (k - 1) + (a.lengths ? 1 : 0);
  if (ins.length !== want) throw new ArgumentError(`${mode}: expects ${want} inputs (x, weight_ih, weight_hh, bias_ih, bias_hh, h0${k === 2 ? ', c0' : ''}${a.lengths ? ', lengths' : ''}), got ${ins.length}`);
  const [x, wih, whh, bih, bhh, h0] = ins as [Meta, Meta, Meta, Meta, Meta, Meta];
  if (!isFloat(x.dtype)) throw new DTypeError(`${mode}: expects a float input, got ${x.dtype}${fmtShape(x.shape)}`);
  if (x.shape.length !== 3 || h0.shape.length !== 3) throw new ShapeError(`${mode}: x ${fmtShape(x.shape)} must be (T, B, I) and h0 ${fmtShape(h0.shape)} (D, B, H)`);
  const [T, B, I] = x.shape as [number, number, number];
  const [D, , H] = h0.shape as [number, number, number];
  const G = GATES[mode] * H;
  const expect = (m: Meta, shape: number[], what: string): void => {
    if (m.dtype !== x.dtype || m.shape.length !== shape.length || m.shape.some((n, i) => n !== shape[i])) {
      throw new ShapeError(`${mode}: ${what} is ${m.dtype}${fmtShape(m.shape)}, expected ${x.dtype}${fmtShape(shape)}`);
    }
  };
  if (D !== 1 && D !== 2) throw new ShapeError(`${mode}: h0 ${fmtShape(h0.shape)} must have 1 or 2 directions`);
  expect(h0, [D, B, H], 'h0');
  expect(wih, [D, G, I], 'weight_ih');
  expect(whh, [D, G, H], 'weight_hh');
  expect(bih, [D, G], 'bias_ih');
  expect(bhh, [D, G], 'bias_hh');
  if (k === 2) expect(ins[6]!, [D, B, H], 'c0');
  if (a.lengths) {
    const l = ins[ins.length - 1]!;
    if (l.dtype !== 'int32' || l.shape.length !== 1 || l.shape[0] !== B) throw new ShapeError(`${mode}: lengths must be int32 (${B}), got ${l.dtype}${fmtShape(l.shape)}`);
  }
  return { shape: [k + T, D, B, H], dtype: x.dtype };
}

function defineRnn(mode: RnnMode): void {
  const k = mode === 'lstm' ? 2 : 1;
  defineOp<RnnAttrs>({
    name: mode,
    infer: (ins, a) => inferRnn(mode, ins, a),
    kernel: (ins, metas, a, out) => {
      const [x, wih, whh, bih, bhh, h0] = ins as readonly ArrayLike<number>[] as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
      const c0 = k === 2 ? ins[6]! : null;
      const lens = a.lengths ? ins[ins.length - 1]! : null;
      const [T, B, I] = metas[0]!.shape as [number, number, number];
      const [D, , H] = metas[5]!.shape as [number, number, number];
      const G = GATES[mode] * H;
      const res = arrayFor(out.dtype, (k + T) * D * B * H);
      const at = (row: number, d: number, b: number): number => ((row * D + d) * B + b) * H; // (k + T, D, B, H)
      const gi = new Float64Array(G);
      const gh = new Float64Array(G);
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) {
          const n = lens ? lens[b]! : T;
          if (!(Number.isInteger(n) && n >= 1 && n <= T)) throw new ArgumentError(`${mode}: lengths must be integers in [1, T=${T}], got ${n} for row ${b}`);
          const h = Float64Array.from({ length: H }, (_, j) => h0[(d * B + b) * H + j]!);
          const c = c0 ? Float64Array.from({ length: H }, (_, j) => c0[(d * B + b) * H + j]!) : null;
          for (let s = 0; s < n; s++) {
            const t = d === 1 ? n - 1 - s : s;
            // gi = W_ih x_t + b_ih, gh = W_hh h + b_hh (sums first, as the cell loop's matmul then add)
            for (let g = 0; g < G; g++) {
              let si = 0;
              for (let i = 0; i < I; i++) si += x[(t * B + b) * I + i]! * wih[(d * G + g) * I + i]!;
              let sh = 0;
              for (let j = 0; j < H; j++) sh += h[j]! * whh[(d * G + g) * H + j]!;
              gi[g] = si + bih[d * G + g]!;
              gh[g] = sh + bhh[d * G + g]!;
            }
            for (let j = 0; j < H; j++) {
              if (c) {
                const ig = sigmoid(gi[j]! + gh[j]!), fg = sigmoid(gi[H + j]! + gh[H + j]!);
                const gg = Math.tanh(gi[2 * H + j]! + gh[2 * H + j]!), og = sigmoid(gi[3 * H + j]! + gh[3 * H + j]!);
                c[j] = fg * c[j]! + ig * gg;
                h[j] = og * Math.tanh(c[j]!);
              } else {
                const r = sigmoid(gi[j]! + gh[j]!), z = sigmoid(gi[H + j]! + gh[H + j]!);
                const nn = Math.tanh(gi[2 * H + j]! + r * gh[2 * H + j]!);
                h[j] = (1 - z) * nn + z * h[j]!;
              }
            }
            res.set(h, at(k + t, d, b));
          }
          res.set(h, at(0, d, b));
          if (c) res.set(c, at(1, d, b));
        }
      }
      return res;
    },
    vjp: 'nondiff',
    onnx: (b, n) => {
      // ONNX Runtime's CPU GRU / LSTM have float32 kernels only: float64 runs through float32.
      const f64 = n.out.dtype === 'float64';
      const float = (v: string): string => (f64 ? b.node('Cast', [v], { to: onnxDTypeCode('float32') })[0]! : v);
      const [x, wih, whh, bih, bhh, h0] = (n.inputs.slice(0, 6) as [string, string, string, string, string, string]).map(float) as [string, string, string, string, string, string];
      const D = n.inMetas[5]!.shape[0]!;
      const H = n.inMetas[5]!.shape[2]!;
      const axis1 = b.constant([1], 'int64', [1]);
      // PyTorch's gate blocks -> ONNX's order, along the G*H axis (constant-folded by ONNX Runtime).
      const reorder = (w: string): string => b.node('Concat', ONNX_GATE_ORDER[mode].map((g) => b.node('Slice', [w, b.constant([g * H], 'int64', [1]), b.constant([(g + 1) * H], 'int64', [1]), axis1])[0]!), { axis: 1 })[0]!;
      const bias = b.node('Concat', [reorder(bih), reorder(bhh)], { axis: 1 })[0]!; // (D, 2*G*H) = [Wb; Rb]
      const inputs = [x, reorder(wih), reorder(whh), bias, n.attrs.lengths ? n.inputs[n.inputs.length - 1]! : '', h0, ...(k === 2 ? [float(n.inputs[6]!)] : [])];
      const attrs = { hidden_size: H, direction: D === 2 ? 'bidirectional' : 'forward', ...(mode === 'gru' ? { linear_before_reset: 1 } : {}) };
      const [y, ...finals] = b.node(mode === 'gru' ? 'GRU' : 'LSTM', inputs, attrs, k + 1); // y (T, D, B, H); Y_h [, Y_c] (D, B, H)
      const axis0 = b.constant([0], 'int64', [1]);
      const packed = b.node('Concat', [...finals.map((f) => b.node('Unsqueeze', [f, axis0])[0]!), y!], { axis: 0 })[0]!;
      return f64 ? b.node('Cast', [packed], { to: onnxDTypeCode('float64') })[0]! : packed;
    },
  });
}

defineRnn('gru');
defineRnn('lstm');

/** One layer's weights in PyTorch's layout, stacked over directions: (D, G*H, I), (D, G*H, H), (D, G*H) x 2. */
export interface RnnWeights { weightIh: Tensor; weightHh: Tensor; biasIh: Tensor; biasHh: Tensor }

/**
 * One GRU or LSTM layer over x (T, B, I) from h0 (and c0) (D, B, H): returns the outputs (T, D, B, H),
 * the final h (D, B, H) and, for the LSTM, the final c. `lengths` (B) int32 may be a lazy tensor.
 */
export function rnnLayer(mode: RnnMode, x: Tensor, w: RnnWeights, h0: Tensor, c0: Tensor | null, lengths: Tensor | null): { y: Tensor; h: Tensor; c: Tensor | null } {
  if ((mode === 'lstm') !== (c0 !== null)) throw new ArgumentError(`${mode}: ${mode === 'lstm' ? 'needs' : 'takes no'} c0`);
  const packed = apply(mode, [x, w.weightIh, w.weightHh, w.biasIh, w.biasHh, h0, ...(c0 ? [c0] : []), ...(lengths ? [lengths] : [])], { lengths: lengths !== null });
  const k = c0 ? 2 : 1;
  const final = (i: number): Tensor => F.squeeze(F.slice(packed, 0, i, i + 1), 0); // (1, D, B, H) -> (D, B, H)
  return { y: F.slice(packed, 0, k), h: final(0), c: c0 ? final(1) : null }; // y: rows k.. to the end, (T, D, B, H)
}
