/**
 * The RNN translation encoders (src/models/translate/seq2seq.ts and attention-seq2seq.ts) with
 * ONNX's GRU / LSTM operators, so the source length stays symbolic (zhuyi's RNN runs its time loop
 * in JavaScript; a trace of it would fix the length). The decoders' steps are traced (translation.ts).
 *
 * Gate layouts differ from PyTorch's, so the recurrent weights are rewritten once at export and
 * stored under ONNX-layout names (`encoder.rnn.W_l0` ...) instead of the state-dict keys:
 *   GRU   PyTorch rows r, z, n  -> ONNX z, r, h; linear_before_reset = 1 is PyTorch's
 *         n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *   LSTM  PyTorch rows i, f, g, o -> ONNX i, o, f, c
 *   W (dirs, G*H, In), R (dirs, G*H, H), B (dirs, 2*G*H) = [b_ih; b_hh], zeros without biases.
 * `sequence_lens` gives ONNX's RNNs what zhuyi's `lengths` does: padded steps are skipped, Y_h is
 * each sentence's state at its own last word, the reverse direction starts there.
 *
 *   seq2seq    encoder(src (B, S), src_lengths (B)) -> state_h (L, B, H) [, state_c] [, state_context (B, H)]
 *   attention  encoder(src, src_lengths) -> memory (B, S, 2He) (annotations) [, projected_keys (B, S, A)], state_s (B, Hd) (s_0)
 *              (projected_keys: U_a h_j for additive attention, W_a h_j for 'general', computed once per sentence)
 */
import type { AttentionSeq2Seq } from '../models/translate/attention-seq2seq.js';
import type { Seq2Seq } from '../models/translate/seq2seq.js';
import type { TensorInfo } from './manifest.js';
import { type GraphBuilder } from './onnx-builder.js';
import { ONNX_DTYPE } from '../ops/registry.js';
import type { Weights } from './weights.js';

export interface EncoderGraph { inputs: TensorInfo[]; outputs: TensorInfo[] }

type Mode = 'GRU' | 'LSTM';
// For each ONNX gate block, the PyTorch block it comes from.
const GATE_ORDER: Record<Mode, number[]> = { GRU: [1, 0, 2], LSTM: [0, 3, 1, 2] };

function reorderRows(data: Float32Array, H: number, cols: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  order.forEach((from, to) => out.set(data.subarray(from * H * cols, (from + 1) * H * cols), to * H * cols));
  return out;
}

/**
 * W, R, B initializers of one RNN layer in ONNX layout, from PyTorch keys `${prefix}weight_ih${sfx}`
 * ... for each direction suffix (['_l0'], or ['_l0', '_l0_reverse']).
 */
function rnnWeights(b: GraphBuilder, w: Weights, prefix: string, suffixes: readonly string[], name: string, mode: Mode, H: number): [string, string, string] {
  const G = mode === 'GRU' ? 3 : 4;
  const order = GATE_ORDER[mode];
  const In = w.get(`${prefix}weight_ih${suffixes[0]}`).shape[1]!;
  const Wd = new Float32Array(suffixes.length * G * H * In);
  const Rd = new Float32Array(suffixes.length * G * H * H);
  const Bd = new Float32Array(suffixes.length * 2 * G * H);
  suffixes.forEach((sfx, d) => {
    Wd.set(reorderRows(w.get(`${prefix}weight_ih${sfx}`).data, H, In, order), d * G * H * In);
    Rd.set(reorderRows(w.get(`${prefix}weight_hh${sfx}`).data, H, H, order), d * G * H * H);
    if (w.has(`${prefix}bias_ih${sfx}`)) {
      Bd.set(reorderRows(w.get(`${prefix}bias_ih${sfx}`).data, H, 1, order), d * 2 * G * H);
      Bd.set(reorderRows(w.get(`${prefix}bias_hh${sfx}`).data, H, 1, order), d * 2 * G * H + G * H);
    }
  });
  const D = suffixes.length;
  return [b.weight(`${name}.W`, Wd, [D, G * H, In]), b.weight(`${name}.R`, Rd, [D, G * H, H]), b.weight(`${name}.B`, Bd, [D, 2 * G * H])];
}

/** One ONNX GRU/LSTM over x (steps, B, In); returns Y (steps, dirs, B, H), Y_h and, for the LSTM, Y_c (dirs, B, H). */
function rnn(b: GraphBuilder, mode: Mode, x: string, weights: [string, string, string], H: number, o: { lengths?: string; h0?: string; c0?: string; bidirectional?: boolean } = {}): string[] {
  const inputs = [x, ...weights, o.lengths ?? '', o.h0 ?? ''];
  if (mode === 'LSTM') inputs.push(o.c0 ?? '');
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const attrs = { hidden_size: H, direction: o.bidirectional ? 'bidirectional' : 'forward', ...(mode === 'GRU' ? { linear_before_reset: 1 } : {}) };
  return b.node(mode, inputs, attrs, mode === 'GRU' ? 2 : 3, mode.toLowerCase());
}

const ids = (name: string, axes: string[], doc: string): TensorInfo => ({ name, dtype: 'int64', axes, doc });
const floats = (name: string, axes: (string | number)[], doc: string): TensorInfo => ({ name, dtype: 'float32', axes, doc });

/** src (B, S) and src_lengths (B) as graph inputs; returns them, the lengths as int32 (sequence_lens) and the embedded source (S, B, E). */
function sourceInputs(b: GraphBuilder, w: Weights, embedding: string): { src: string; lengths: string; lengths32: string; x: string } {
  const src = b.input('src', ONNX_DTYPE.int64, ['batch_size', 'src_len']);
  const lengths = b.input('src_lengths', ONNX_DTYPE.int64, ['batch_size']);
  const lengths32 = b.op('Cast', [lengths], { to: ONNX_DTYPE.int32 }, 'sequence_lens');
  const x = b.op('Transpose', [b.op('Gather', [w.init(b, embedding), src])], { perm: [1, 0, 2] }, 'embedded'); // (B, S, E) -> (S, B, E)
  return { src, lengths, lengths32, x };
}

const SOURCE_INPUTS: TensorInfo[] = [ids('src', ['batch_size', 'src_len'], 'source token ids, padded'), ids('src_lengths', ['batch_size'], 'real source tokens per row (>= 1)')];

/** Sutskever / Cho: the encoder's final states are the decoder's initial states. */
export function emitSeq2SeqEncoder(enc: GraphBuilder, w: Weights, model: Seq2Seq): EncoderGraph {
  const { cell, hidden: H, numLayers: L } = model.config;
  const mode: Mode = cell === 'lstm' ? 'LSTM' : 'GRU';
  const lstm = mode === 'LSTM';
  const layer = (l: number) => rnnWeights(enc, w, 'encoder.rnn.', [`_l${l}`], `encoder.rnn.l${l}`, mode, H);

  // Encoder: L stacked layers over the padded source; each layer's last state.
  const s = sourceInputs(enc, w, 'encoder.embedding.weight');
  // reverseSource (Sutskever): each row's own tokens backwards, padding left in place.
  let x = model.config.reverseSource ? enc.op('ReverseSequence', [s.x, s.lengths], { batch_axis: 1, time_axis: 0 }, 'reversed') : s.x;
  const hs: string[] = [];
  const cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const [y, h, c] = rnn(enc, mode, x, layer(l), H, { lengths: s.lengths32 });
    x = enc.op('Squeeze', [y!, enc.constant([1])]); // (S, 1, B, H) -> (S, B, H)
    hs.push(h!);
    if (c) cs.push(c);
  }
  const feed = model.config.feedContext;
  const states = [...(lstm ? ['state_h', 'state_c'] : ['state_h']), ...(feed ? ['state_context'] : [])];
  enc.output('state_h', enc.op('Concat', hs, { axis: 0 }), ONNX_DTYPE.float32, [L, 'batch_size', H]);
  if (lstm) enc.output('state_c', enc.op('Concat', cs, { axis: 0 }), ONNX_DTYPE.float32, [L, 'batch_size', H]);
  if (feed) enc.output('state_context', enc.op('Squeeze', [hs[L - 1]!, enc.constant([0])]), ONNX_DTYPE.float32, ['batch_size', H]); // top layer (1, B, H) -> (B, H)

  const stateInfo = (n: string): TensorInfo => n === 'state_context'
    ? floats(n, ['batch_size', H], "Cho et al.'s summary c (the encoder's top-layer final state), fed to every step")
    : floats(n, [L, 'batch_size', H], n.endsWith('c') ? 'LSTM cell state per layer' : 'hidden state per layer');
  return { inputs: SOURCE_INPUTS, outputs: states.map(stateInfo) };
}

/** Bahdanau et al.: a bidirectional encoder and, per step, alignment over the annotations. */
export function emitAttentionEncoder(enc: GraphBuilder, w: Weights, model: AttentionSeq2Seq): EncoderGraph {
  const { encoderHidden: He, decoderHidden: Hd, attention: score } = model.config;

  // 1-2. Annotations h_j = [h→_j; h←_j] and s_0 = tanh(W_s h←_1).
  const s = sourceInputs(enc, w, 'encoder.embedding.weight');
  const [y, hN] = rnn(enc, 'GRU', s.x, rnnWeights(enc, w, 'encoder.rnn.', ['_l0', '_l0_reverse'], 'encoder.rnn.l0', 'GRU', He), He, { lengths: s.lengths32, bidirectional: true });
  const annotations = enc.op('Reshape', [enc.op('Transpose', [y!], { perm: [2, 0, 1, 3] }), enc.constant([0, 0, -1])], {}, 'annotations'); // (S, 2, B, He) -> (B, S, 2, He) -> (B, S, 2He)
  const backwardFirst = enc.op('Gather', [hN!, enc.constant([1], [])], { axis: 0 }); // (2, B, He) -> (B, He)
  enc.output('memory', annotations, ONNX_DTYPE.float32, ['batch_size', 'src_len', 2 * He]);
  // The keys' projection (U_a h_j, or W_a h_j for 'general') depends on the source only: once per sentence (Bahdanau A.1.2).
  const a = 'decoder.attention.';
  const keyDim = score === 'additive' ? model.config.attentionDim : Hd;
  if (score === 'additive') enc.output('projected_keys', enc.linear(annotations, w.init(enc, `${a}U.weight`), w.maybe(enc, `${a}U.bias`), 'U_h'), ONNX_DTYPE.float32, ['batch_size', 'src_len', keyDim]);
  if (score === 'general') enc.output('projected_keys', enc.linear(annotations, w.init(enc, `${a}W.weight`), null, 'W_h'), ONNX_DTYPE.float32, ['batch_size', 'src_len', keyDim]);
  enc.output('state_s', enc.op('Tanh', [enc.linear(backwardFirst, w.init(enc, 'encoder.fc.weight'), w.maybe(enc, 'encoder.fc.bias'), 'fc')]), ONNX_DTYPE.float32, ['batch_size', Hd]);

  const memoryInfo = floats('memory', ['batch_size', 'src_len', 2 * He], 'annotations [h→; h←] (zero at padding)');
  const keysInfo = score === 'dot' ? [] : [floats('projected_keys', ['batch_size', 'src_len', keyDim], score === 'additive' ? 'U_a h_j + b, the keys\' share of the scores' : 'W_a h_j')];
  return { inputs: SOURCE_INPUTS, outputs: [memoryInfo, ...keysInfo, floats('state_s', ['batch_size', Hd], 's_0 = tanh(W_s h←_1)')] };
}
