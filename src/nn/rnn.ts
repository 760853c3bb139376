/**
 * Recurrent layers with PyTorch's semantics, weight layouts and state-dict keys: GRUCell, LSTMCell,
 * GRU, LSTM. Shape letters: T time, B batch, I input size, H hidden size, L layers, D directions.
 *
 * The time loop builds the lazy graph step by step (one small subgraph per step, all realized in
 * one backend run). The input projection W_ih x_t + b_ih of every step is one matmul up front.
 * Padded batches: `lengths` plays the role of pack_padded_sequence. Outputs past a sequence's
 * length are 0 and the final state of each sequence is the state at its own last valid step; the
 * reverse direction starts at each sequence's last valid step. Deviation: the output keeps all T
 * steps (pad_packed_sequence(..., total_length=T)) rather than trimming to max(lengths).
 *
 * `lengths` given as a tensor, without gradients (no-grad mode, or nothing that requires one): each
 * layer is one `gru` / `lstm` op (ops/rnn.ts; ONNX's GRU / LSTM on ort) that reads the lengths
 * inside the graph, so an exported encoder keeps its source length symbolic (export traces with
 * src_lengths as a tensor). Otherwise the cell loop below, which is also the faster of the two on
 * ONNX Runtime for batched work (measured: B 32, S 30, H 256, bidirectional: loop ~60 ms, ONNX GRU
 * ~80 ms; a decoder step of 128 rows, H 512: ~11 vs ~15 ms; one sentence of 20: ~18 vs ~6 ms).
 */
import * as F from '../ops/functional.js';
import { rnnLayer } from '../ops/rnn.js';
import { promote } from '../tensor/dtype.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { isGradEnabled } from '../tensor/grad-mode.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import * as init from './init.js';
import { Module, Parameter } from './module.js';
import { checkOptions } from '../tensor/options.js';

type Mode = 'GRU' | 'LSTM';
const GATES: Record<Mode, number> = { GRU: 3, LSTM: 4 };

/** The weights of one layer and direction, already transposed for `x @ W^T`. */
interface Weights { wihT: Tensor; whhT: Tensor; bih: Tensor | null; bhh: Tensor | null }
interface State { h: Tensor; c: Tensor | null }

/**
 * One GRU step (gate order r, z, n as PyTorch):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 - z) ⊙ n + z ⊙ h
 * `gi` is the input projection W_ih x + b_ih, (B, 3H).
 */
function gruStep(gi: Tensor, h: Tensor, w: Weights): Tensor {
  let gh = F.matmul(h, w.whhT); // (B, H) @ (H, 3H) -> (B, 3H)
  if (w.bhh) gh = F.add(gh, w.bhh);
  const [ir, iz, inn] = F.chunk(gi, 3, 1) as [Tensor, Tensor, Tensor];
  const [hr, hz, hn] = F.chunk(gh, 3, 1) as [Tensor, Tensor, Tensor];
  const r = F.sigmoid(F.add(ir, hr));
  const z = F.sigmoid(F.add(iz, hz));
  const n = F.tanh(F.add(inn, F.mul(r, hn)));
  return F.add(F.mul(F.sub(1, z), n), F.mul(z, h));
}

/**
 * One LSTM step (gate order i, f, g, o as PyTorch):
 *   i = σ(.), f = σ(.), g = tanh(.), o = σ(.) of W_i* x + b_i* + W_h* h + b_h*
 *   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 */
function lstmStep(gi: Tensor, h: Tensor, c: Tensor, w: Weights): [Tensor, Tensor] {
  let gates = F.add(gi, F.matmul(h, w.whhT)); // (B, 4H)
  if (w.bhh) gates = F.add(gates, w.bhh);
  const [i, f, g, o] = F.chunk(gates, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
  const c2 = F.add(F.mul(F.sigmoid(f), c), F.mul(F.sigmoid(i), F.tanh(g)));
  return [F.mul(F.sigmoid(o), F.tanh(c2)), c2];
}

function inputProjection(x: Tensor, w: Weights): Tensor {
  const gi = F.matmul(x, w.wihT); // (..., I) @ (I, G*H) -> (..., G*H)
  return w.bih ? F.add(gi, w.bih) : gi;
}

/** PyTorch's default RNN init: every weight and bias U(-1/sqrt(H), 1/sqrt(H)). */
function rnnParam(shape: number[], hiddenSize: number, g: Generator): Parameter {
  const k = 1 / Math.sqrt(hiddenSize);
  return new Parameter(init.uniform(shape, -k, k, g));
}

// ---- cells --------------------------------------------------------------------------------------

abstract class RNNCellBase extends Module {
  weight_ih: Parameter;
  weight_hh: Parameter;
  bias_ih: Parameter | null;
  bias_hh: Parameter | null;
  constructor(readonly mode: Mode, readonly inputSize: number, readonly hiddenSize: number, bias: boolean, g: Generator) {
    super();
    const G = GATES[mode] * hiddenSize;
    this.weight_ih = rnnParam([G, inputSize], hiddenSize, g);
    this.weight_hh = rnnParam([G, hiddenSize], hiddenSize, g);
    this.bias_ih = bias ? rnnParam([G], hiddenSize, g) : null;
    this.bias_hh = bias ? rnnParam([G], hiddenSize, g) : null;
  }
  protected weights(): Weights {
    return { wihT: F.transpose(this.weight_ih, 0, 1), whhT: F.transpose(this.weight_hh, 0, 1), bih: this.bias_ih, bhh: this.bias_hh }; // (G*H, I) -> (I, G*H), (G*H, H) -> (H, G*H)
  }
  /** Accepts (B, I) or unbatched (I); returns the batched input and whether to squeeze the result. */
  protected batched(x: Tensor): [Tensor, boolean] {
    const name = `${this.mode}Cell`;
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${name}: input ${fmtShape(x.shape)} must be (B, ${this.inputSize}) or (${this.inputSize})`);
    }
    return x.ndim === 1 ? [F.unsqueeze(x, 0), true] : [x, false]; // (I) -> (1, I)
  }
  protected state(s: Tensor | null | undefined, B: number, squeeze: boolean, what: string): Tensor {
    if (s == null) return F.constant(0, [B, this.hiddenSize]);
    const st = squeeze ? F.unsqueeze(s, 0) : s; // (H) -> (1, H)
    if (st.ndim !== 2 || st.shape[0] !== B || st.shape[1] !== this.hiddenSize) {
      throw new ShapeError(`${this.mode}Cell: ${what} ${fmtShape(s.shape)} must be (${squeeze ? '' : `${B}, `}${this.hiddenSize})`);
    }
    return st;
  }
}

export interface CellOptions { bias?: boolean; generator?: Generator }

/** torch.nn.GRUCell: h' = GRU(x, h). Keys weight_ih (3H, I), weight_hh (3H, H), bias_ih, bias_hh. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    const { bias = true, generator = defaultGenerator } = checkOptions('GRUCell', options, { bias: 1, generator: 1 });
    super('GRU', inputSize, hiddenSize, bias, generator);
  }
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const [x, squeeze] = this.batched(input);
    const h = this.state(hx, x.shape[0]!, squeeze, 'hx');
    const w = this.weights();
    const out = gruStep(inputProjection(x, w), h, w);
    return squeeze ? F.squeeze(out, 0) : out; // (1, H) -> (H)
  }
}

/** torch.nn.LSTMCell: [h', c'] = LSTM(x, [h, c]). Keys weight_ih (4H, I), weight_hh (4H, H), bias_ih, bias_hh. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    const { bias = true, generator = defaultGenerator } = checkOptions('LSTMCell', options, { bias: 1, generator: 1 });
    super('LSTM', inputSize, hiddenSize, bias, generator);
  }
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    const [x, squeeze] = this.batched(input);
    const B = x.shape[0]!;
    const h = this.state(hx?.[0], B, squeeze, 'h');
    const c = this.state(hx?.[1], B, squeeze, 'c');
    const w = this.weights();
    const [h2, c2] = lstmStep(inputProjection(x, w), h, c, w);
    return squeeze ? [F.squeeze(h2, 0), F.squeeze(c2, 0)] : [h2, c2]; // (1, H) -> (H)
  }
}

// ---- multi-layer, bidirectional, padded ----------------------------------------------------------

export interface RNNOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are (B, T, *) instead of (T, B, *) (default false, as PyTorch). States stay (L*D, B, H). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  bidirectional?: boolean;
  generator?: Generator;
}

export interface RNNForwardOptions {
  /**
   * Valid length of every sequence in the batch (1 <= length <= T), as for pack_padded_sequence.
   * A tensor (int32 (B)) may be lazy when no gradient is needed: the layers then read it inside the graph.
   */
  lengths?: readonly number[] | Tensor;
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  private readonly generator: Generator;

  constructor(readonly mode: Mode, readonly inputSize: number, readonly hiddenSize: number, o: RNNOptions) {
    super();
    this.numLayers = o.numLayers ?? 1;
    this.bias = o.bias ?? true;
    this.batchFirst = o.batchFirst ?? false;
    this.dropout = o.dropout ?? 0;
    this.bidirectional = o.bidirectional ?? false;
    this.generator = o.generator ?? defaultGenerator;
    if (!(Number.isInteger(this.numLayers) && this.numLayers >= 1)) throw new ArgumentError(`${mode}: numLayers must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new ArgumentError(`${mode}: dropout must be in [0, 1], got ${this.dropout}`);
    const G = GATES[mode] * hiddenSize;
    const D = this.bidirectional ? 2 : 1;
    // Registration order is PyTorch's: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh.
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? inputSize : hiddenSize * D;
        this.registerParameter(`weight_ih${sfx}`, rnnParam([G, inSize], hiddenSize, this.generator));
        this.registerParameter(`weight_hh${sfx}`, rnnParam([G, hiddenSize], hiddenSize, this.generator));
        if (this.bias) {
          this.registerParameter(`bias_ih${sfx}`, rnnParam([G], hiddenSize, this.generator));
          this.registerParameter(`bias_hh${sfx}`, rnnParam([G], hiddenSize, this.generator));
        }
      }
    }
  }

  /** The parameter `name` of a layer and direction (weight_ih_l0_reverse, ...), or null (a bias of a bias-free RNN). */
  private weight(name: string, layer: number, reverse = false): Parameter | null {
    return this.getParameter(`${name}_l${layer}${reverse ? '_reverse' : ''}`);
  }

  private weightsOf(layer: number, reverse: boolean): Weights {
    const get = (name: string): Parameter | null => this.weight(name, layer, reverse);
    return { wihT: F.transpose(get('weight_ih')!, 0, 1), whhT: F.transpose(get('weight_hh')!, 0, 1), bih: get('bias_ih'), bhh: get('bias_hh') }; // (G*H, In) -> (In, G*H)
  }

  /** Per-step validity masks (B, 1) from `lengths`, or null when every sequence is full. */
  private stepMasks(lengths: readonly number[] | Tensor | undefined, T: number, B: number): Tensor[] | null {
    if (lengths === undefined) return null;
    const lens = this.lengthValues(lengths, T, B);
    if (lens.every((n) => n === T)) return null;
    return Array.from({ length: T }, (_, t) => Tensor.fromBuffer(Uint8Array.from(lens, (n) => (t < n ? 1 : 0)), [B, 1]));
  }

  /** Reads `lengths` (numbers or a realized tensor) and checks them: B integers in [1, T]. */
  private lengthValues(lengths: readonly number[] | Tensor, T: number, B: number): number[] {
    let lens: number[];
    if (lengths instanceof Tensor) {
      if (lengths.buffer === null) throw new ArgumentError(`${this.mode}: realize lengths first (with gradients the cell loop builds its masks from their values), or run without gradients (noGrad)`);
      lens = Array.from(lengths.buffer, Number);
    } else lens = [...lengths];
    if (lens.length !== B) throw new ShapeError(`${this.mode}: ${lens.length} lengths for a batch of ${B}`);
    for (const n of lens) {
      if (!(Number.isInteger(n) && n >= 1 && n <= T)) throw new ArgumentError(`${this.mode}: lengths must be integers in [1, T=${T}], got ${JSON.stringify(lens)}`);
    }
    return lens;
  }

  /** `lengths` for the fused op: checked now if realized (a lazy tensor is checked when the op runs). */
  private lengthsTensor(lengths: Tensor, T: number, B: number): Tensor {
    if (lengths.shape.length !== 1 || lengths.shape[0] !== B) throw new ShapeError(`${this.mode}: lengths ${fmtShape(lengths.shape)} for a batch of ${B}`);
    if (lengths.buffer !== null) this.lengthValues(lengths, T, B);
    return F.cast(lengths, 'int32');
  }

  /** Layer `layer` in every direction as one `gru` / `lstm` op over x (T, B, In) from states (D, B, H). */
  private fusedLayer(layer: number, x: Tensor, h0: Tensor, c0: Tensor | null, lengths: Tensor | null): { y: Tensor; h: Tensor; c: Tensor | null } {
    const D = this.bidirectional ? 2 : 1;
    const stacked = (name: string): Tensor => F.stack(Array.from({ length: D }, (_, d) => this.weight(name, layer, d === 1)!), 0); // D x (G*H, *) -> (D, G*H, *)
    const G = GATES[this.mode] * this.hiddenSize;
    const bias = (name: string): Tensor => (this.bias ? stacked(name) : F.constant(0, [D, G], x.dtype));
    const dt = promote(x.dtype, this.weight('weight_ih', layer)!.dtype); // one dtype, as the loop's matmul promotes
    const w = { weightIh: F.cast(stacked('weight_ih'), dt), weightHh: F.cast(stacked('weight_hh'), dt), biasIh: F.cast(bias('bias_ih'), dt), biasHh: F.cast(bias('bias_hh'), dt) };
    return rnnLayer(this.mode === 'GRU' ? 'gru' : 'lstm', F.cast(x, dt), w, F.cast(h0, dt), c0 && F.cast(c0, dt), lengths);
  }

  /** Runs one layer in one direction over (T, B, In); returns outputs (T, B, H) and the final state. */
  private runDirection(gi: Tensor, s0: State, w: Weights, reverse: boolean, masks: Tensor[] | null): [Tensor, State] {
    const T = gi.shape[0]!;
    const outs: Tensor[] = new Array<Tensor>(T);
    let { h, c } = s0;
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const git = F.squeeze(F.slice(gi, 0, t, t + 1), 0); // (1, B, G*H) -> (B, G*H)
      let h2: Tensor;
      let c2: Tensor | null = null;
      if (this.mode === 'GRU') h2 = gruStep(git, h, w);
      else [h2, c2] = lstmStep(git, h, c!, w);
      const m = masks?.[t];
      if (m) {
        // Past a sequence's end the state is carried unchanged and the output is 0. Going backwards
        // the state stays at s0 until the sequence's last valid step, where the reverse pass starts.
        outs[t] = F.where(m, h2, 0);
        h = F.where(m, h2, h);
        if (c2) c = F.where(m, c2, c!);
      } else {
        outs[t] = h2;
        h = h2;
        c = c2;
      }
    }
    return [F.stack(outs, 0), { h, c }];
  }

  /** Shared forward: input (T, B, I) (or batchFirst / unbatched), states (L*D, B, H). */
  protected run(input: Tensor, h0: Tensor | null | undefined, c0: Tensor | null | undefined, opts: RNNForwardOptions): [Tensor, Tensor, Tensor | null] {
    const name = this.mode;
    const unbatched = input.ndim === 2;
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${name}: input ${fmtShape(input.shape)} must be (${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}) or unbatched (T, ${this.inputSize})`);
    }
    let x = unbatched ? F.unsqueeze(input, 1) : this.batchFirst ? F.transpose(input, 0, 1) : input; // -> (T, B, I)
    const [T, B] = [x.shape[0]!, x.shape[1]!];
    const D = this.bidirectional ? 2 : 1;
    const LD = this.numLayers * D;
    const initial = (s: Tensor | null | undefined, what: string): Tensor => {
      if (s == null) return F.constant(0, [LD, B, this.hiddenSize]);
      const st = unbatched ? F.unsqueeze(s, 1) : s; // (L*D, H) -> (L*D, 1, H)
      if (st.ndim !== 3 || st.shape[0] !== LD || st.shape[1] !== B || st.shape[2] !== this.hiddenSize) {
        throw new ShapeError(`${name}: ${what} ${fmtShape(s.shape)} must be (${LD}, ${unbatched ? '' : `${B}, `}${this.hiddenSize}) (numLayers * directions, batch, hidden)`);
      }
      return st;
    };
    const hInit = initial(h0, 'h0');
    const cInit = this.mode === 'LSTM' ? initial(c0, 'c0') : null;
    if (unbatched && opts.lengths !== undefined) throw new ArgumentError(`${name}: lengths need a batched input`);
    const fused = opts.lengths instanceof Tensor && (!isGradEnabled() || ![x, hInit, cInit, ...this.parameters()].some((t) => t?.requiresGrad));
    const lengths = fused ? this.lengthsTensor(opts.lengths as Tensor, T, B) : null;
    const masks = fused ? null : this.stepMasks(opts.lengths, T, B);
    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      if (fused) {
        const r = this.fusedLayer(l, x, F.slice(hInit, 0, l * D, (l + 1) * D), cInit && F.slice(cInit, 0, l * D, (l + 1) * D), lengths);
        x = F.reshape(F.permute(r.y, [0, 2, 1, 3]), [T, B, D * this.hiddenSize]); // (T, D, B, H) -> (T, B, D, H) -> (T, B, D*H)
        hN.push(...F.chunk(r.h, D, 0).map((h) => F.squeeze(h, 0))); // (D, B, H) -> D x (B, H)
        if (r.c) cN.push(...F.chunk(r.c, D, 0).map((c) => F.squeeze(c, 0)));
        if (l < this.numLayers - 1) x = F.dropout(x, this.dropout, this.training, this.generator);
        continue;
      }
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const w = this.weightsOf(l, d === 1);
        const i = l * D + d;
        const s0: State = { h: F.squeeze(F.slice(hInit, 0, i, i + 1), 0), c: cInit ? F.squeeze(F.slice(cInit, 0, i, i + 1), 0) : null }; // (L*D, B, H) -> (B, H)
        const [out, s] = this.runDirection(inputProjection(x, w), s0, w, d === 1, masks);
        outs.push(out);
        hN.push(s.h);
        if (s.c) cN.push(s.c);
      }
      x = D === 2 ? F.cat(outs, 2) : outs[0]!; // (T, B, H) x D -> (T, B, D*H)
      if (l < this.numLayers - 1) x = F.dropout(x, this.dropout, this.training, this.generator);
    }
    const output = unbatched ? F.squeeze(x, 1) : this.batchFirst ? F.transpose(x, 0, 1) : x; // (T, B, D*H) -> input's layout
    let h = F.stack(hN, 0); // (L*D, B, H)
    let c = cN.length ? F.stack(cN, 0) : null;
    if (unbatched) {
      h = F.squeeze(h, 1);
      c = c && F.squeeze(c, 1); // (L*D, 1, H) -> (L*D, H)
    }
    return [output, h, c];
  }
}

/** torch.nn.GRU. forward(input, h0?, {lengths}) -> [output (T, B, D*H), hN (L*D, B, H)]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    options = checkOptions('GRU', options, { numLayers: 1, bias: 1, batchFirst: 1, dropout: 1, bidirectional: 1, generator: 1 });
    super('GRU', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, h0?: Tensor | null, options: RNNForwardOptions = {}): [Tensor, Tensor] {
    options = checkOptions('GRU.forward', options, { lengths: 1 });
    const [output, h] = this.run(input, h0, null, options);
    return [output, h];
  }
}

/** torch.nn.LSTM. forward(input, [h0, c0]?, {lengths}) -> [output (T, B, D*H), [hN, cN] (L*D, B, H)]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    options = checkOptions('LSTM', options, { numLayers: 1, bias: 1, batchFirst: 1, dropout: 1, bidirectional: 1, generator: 1 });
    super('LSTM', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null, options: RNNForwardOptions = {}): [Tensor, [Tensor, Tensor]] {
    options = checkOptions('LSTM.forward', options, { lengths: 1 });
    const [output, h, c] = this.run(input, hx?.[0], hx?.[1], options);
    return [output, [h, c!]];
  }
}
