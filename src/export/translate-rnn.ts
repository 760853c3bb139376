/**
 * The two RNN translation models (src/models/translate/seq2seq.ts and attention-seq2seq.ts) as an
 * encoder graph and a one-step decoder graph, with ONNX's GRU / LSTM operators.
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
 * Graphs (B batch, S source positions; every size but the widths is symbolic):
 *   seq2seq    encoder(src (B, S), src_lengths (B)) -> state_h (L, B, H) [, state_c] [, state_context (B, H)]
 *              decoder(tokens (B), state_h [, state_c] [, state_context]) -> log_probs (B, V), next_state_h [, next_state_c] [, next_state_context]
 *              (state_context: Cho et al.'s summary c with feedContext; it passes through unchanged)
 *   attention  encoder(src, src_lengths) -> memory (B, S, 2He) (annotations) [, projected_keys (B, S, A)], state_s (B, Hd) (s_0)
 *              decoder(tokens (B), state_s, memory [, projected_keys], src_lengths) -> log_probs (B, V), next_state_s, attention (B, S)
 *              (projected_keys: U_a h_j for additive attention, W_a h_j for 'general', computed once per sentence)
 */
import type { AttentionSeq2Seq } from '../models/translate/attention-seq2seq.js';
import type { Seq2Seq } from '../models/translate/seq2seq.js';
import type { TensorInfo } from './manifest.js';
import { type GraphBuilder, ONNX_FLOAT, ONNX_INT32, ONNX_INT64 } from './onnx-builder.js';
import type { Weights } from './weights.js';

export interface TranslationGraphs {
  encoder: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  decoder: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  state: { input: string; output: string }[];
  tokens: 'last' | 'prefix';
  attention: { output: string; axes: (string | number)[] } | null;
}

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
  const src = b.input('src', ONNX_INT64, ['batch', 'src_len']);
  const lengths = b.input('src_lengths', ONNX_INT64, ['batch']);
  const lengths32 = b.op('Cast', [lengths], { to: ONNX_INT32 }, 'sequence_lens');
  const x = b.op('Transpose', [b.op('Gather', [w.init(b, embedding), src])], { perm: [1, 0, 2] }, 'embedded'); // (B, S, E) -> (S, B, E)
  return { src, lengths, lengths32, x };
}

/** Logits (B, V) from the features (B, D): fc_out, after the maxout deep output when the model has `decoder.readout`. */
function deepOutput(dec: GraphBuilder, w: Weights, features: string, maxout: number): string {
  let top = features;
  if (maxout > 0) {
    // (B, 2l) -> (B, l, 2) -> the larger of each pair (B, l).
    const t = dec.op('Reshape', [dec.linear(features, w.init(dec, 'decoder.readout.weight'), w.init(dec, 'decoder.readout.bias'), 'readout'), dec.constant([0, maxout, 2])]);
    const unit = (k: number): string => dec.op('Gather', [t, dec.constant([k], [])], { axis: 2 });
    top = dec.op('Max', [unit(0), unit(1)], {}, 'maxout');
  }
  return dec.linear(top, w.init(dec, 'decoder.fc_out.weight'), w.init(dec, 'decoder.fc_out.bias'), 'fc_out');
}

const SOURCE_INPUTS: TensorInfo[] = [ids('src', ['batch', 'src_len'], 'source token ids, padded'), ids('src_lengths', ['batch'], 'real source tokens per row (>= 1)')];

/** Sutskever / Cho: the encoder's final states are the decoder's initial states. */
export function emitSeq2Seq(enc: GraphBuilder, dec: GraphBuilder, w: Weights, model: Seq2Seq): TranslationGraphs {
  const { cell, hidden: H, numLayers: L } = model.config;
  const mode: Mode = cell === 'lstm' ? 'LSTM' : 'GRU';
  const lstm = mode === 'LSTM';
  const layer = (side: 'encoder' | 'decoder', b: GraphBuilder, l: number) => rnnWeights(b, w, `${side}.rnn.`, [`_l${l}`], `${side}.rnn.l${l}`, mode, H);

  // Encoder: L stacked layers over the padded source; each layer's last state.
  const s = sourceInputs(enc, w, 'encoder.embedding.weight');
  // reverseSource (Sutskever): each row's own tokens backwards, padding left in place.
  let x = model.config.reverseSource ? enc.op('ReverseSequence', [s.x, s.lengths], { batch_axis: 1, time_axis: 0 }, 'reversed') : s.x;
  const hs: string[] = [];
  const cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const [y, h, c] = rnn(enc, mode, x, layer('encoder', enc, l), H, { lengths: s.lengths32 });
    x = enc.op('Squeeze', [y!, enc.constant([1])]); // (S, 1, B, H) -> (S, B, H)
    hs.push(h!);
    if (c) cs.push(c);
  }
  const feed = model.config.feedContext;
  const states = [...(lstm ? ['state_h', 'state_c'] : ['state_h']), ...(feed ? ['state_context'] : [])];
  enc.output('state_h', enc.op('Concat', hs, { axis: 0 }), ONNX_FLOAT, [L, 'batch', H]);
  if (lstm) enc.output('state_c', enc.op('Concat', cs, { axis: 0 }), ONNX_FLOAT, [L, 'batch', H]);
  if (feed) enc.output('state_context', enc.op('Squeeze', [hs[L - 1]!, enc.constant([0])]), ONNX_FLOAT, ['batch', H]); // top layer (1, B, H) -> (B, H)

  // Decoder: one step of every layer from the previous token.
  const tokens = dec.input('tokens', ONNX_INT64, ['batch']);
  const h0 = dec.input('state_h', ONNX_FLOAT, [L, 'batch', H]);
  const c0 = lstm ? dec.input('state_c', ONNX_FLOAT, [L, 'batch', H]) : null;
  const context = feed ? dec.input('state_context', ONNX_FLOAT, ['batch', H]) : null;
  const yEmb = dec.op('Gather', [w.init(dec, 'decoder.embedding.weight'), tokens]); // (B) -> (B, E)
  let y = dec.op('Unsqueeze', [context ? dec.op('Concat', [yEmb, context], { axis: 1 }) : yEmb, dec.constant([0])]); // (1, B, E [+ H])
  const nh: string[] = [];
  const nc: string[] = [];
  const slice = (t: string, l: number): string => dec.op('Slice', [t, dec.constant([l]), dec.constant([l + 1]), dec.constant([0])]); // (L, B, H) -> (1, B, H)
  for (let l = 0; l < L; l++) {
    const [out, h, c] = rnn(dec, mode, y, layer('decoder', dec, l), H, { h0: slice(h0, l), ...(c0 ? { c0: slice(c0, l) } : {}) });
    y = dec.op('Squeeze', [out!, dec.constant([1])]); // (1, 1, B, H) -> (1, B, H)
    nh.push(h!);
    if (c) nc.push(c);
  }
  const top = dec.op('Squeeze', [y, dec.constant([0])]); // (1, B, H) -> (B, H)
  const V = model.config.tgtVocabSize;
  const features = context ? dec.op('Concat', [top, context, yEmb], { axis: 1 }) : top; // [h_t; c; E y_{t-1}] (B, 2H + E)
  dec.output('log_probs', dec.op('LogSoftmax', [deepOutput(dec, w, features, model.config.maxout)], { axis: -1 }), ONNX_FLOAT, ['batch', V]);
  dec.output('next_state_h', dec.op('Concat', nh, { axis: 0 }), ONNX_FLOAT, [L, 'batch', H]);
  if (lstm) dec.output('next_state_c', dec.op('Concat', nc, { axis: 0 }), ONNX_FLOAT, [L, 'batch', H]);
  if (context) dec.output('next_state_context', dec.op('Identity', [context]), ONNX_FLOAT, ['batch', H]);

  const stateInfo = (n: string): TensorInfo => n === 'state_context'
    ? floats(n, ['batch', H], "Cho et al.'s summary c (the encoder's top-layer final state), unchanged by each step")
    : floats(n, [L, 'batch', H], n.endsWith('c') ? 'LSTM cell state per layer' : 'hidden state per layer');
  return {
    encoder: { inputs: SOURCE_INPUTS, outputs: states.map(stateInfo) },
    decoder: {
      inputs: [ids('tokens', ['batch'], 'the previous token (BOS at the first step)'), ...states.map(stateInfo)],
      outputs: [floats('log_probs', ['batch', V], 'log p(next token)'), ...states.map((n) => ({ ...stateInfo(n), name: `next_${n}` }))],
    },
    state: states.map((n) => ({ input: n, output: `next_${n}` })),
    tokens: 'last',
    attention: null,
  };
}

/** Bahdanau et al.: a bidirectional encoder and, per step, alignment over the annotations. */
export function emitAttentionSeq2Seq(enc: GraphBuilder, dec: GraphBuilder, w: Weights, model: AttentionSeq2Seq): TranslationGraphs {
  const { encoderHidden: He, decoderHidden: Hd, attention: score } = model.config;
  const V = model.config.tgtVocabSize;

  // 1-2. Annotations h_j = [h→_j; h←_j] and s_0 = tanh(W_s h←_1).
  const s = sourceInputs(enc, w, 'encoder.embedding.weight');
  const [y, hN] = rnn(enc, 'GRU', s.x, rnnWeights(enc, w, 'encoder.rnn.', ['_l0', '_l0_reverse'], 'encoder.rnn.l0', 'GRU', He), He, { lengths: s.lengths32, bidirectional: true });
  const annotations = enc.op('Reshape', [enc.op('Transpose', [y!], { perm: [2, 0, 1, 3] }), enc.constant([0, 0, -1])], {}, 'annotations'); // (S, 2, B, He) -> (B, S, 2, He) -> (B, S, 2He)
  const backwardFirst = enc.op('Gather', [hN!, enc.constant([1], [])], { axis: 0 }); // (2, B, He) -> (B, He)
  enc.output('memory', annotations, ONNX_FLOAT, ['batch', 'src_len', 2 * He]);
  // The keys' projection (U_a h_j, or W_a h_j for 'general') depends on the source only: once per sentence (Bahdanau A.1.2).
  const a = 'decoder.attention.';
  const keyDim = score === 'additive' ? model.config.attentionDim : Hd;
  if (score === 'additive') enc.output('projected_keys', enc.linear(annotations, w.init(enc, `${a}U.weight`), w.maybe(enc, `${a}U.bias`), 'U_h'), ONNX_FLOAT, ['batch', 'src_len', keyDim]);
  if (score === 'general') enc.output('projected_keys', enc.linear(annotations, w.init(enc, `${a}W.weight`), null, 'W_h'), ONNX_FLOAT, ['batch', 'src_len', keyDim]);
  enc.output('state_s', enc.op('Tanh', [enc.linear(backwardFirst, w.init(enc, 'encoder.fc.weight'), w.maybe(enc, 'encoder.fc.bias'), 'fc')]), ONNX_FLOAT, ['batch', Hd]);

  // 3-5. One decoder step.
  const tokens = dec.input('tokens', ONNX_INT64, ['batch']);
  const sPrev = dec.input('state_s', ONNX_FLOAT, ['batch', Hd]);
  const memory = dec.input('memory', ONNX_FLOAT, ['batch', 'src_len', 2 * He]);
  const lengths = dec.input('src_lengths', ONNX_INT64, ['batch']);
  const projected = score === 'dot' ? null : dec.input('projected_keys', ONNX_FLOAT, ['batch', 'src_len', keyDim]);
  const yEmb = dec.op('Gather', [w.init(dec, 'decoder.embedding.weight'), tokens]); // (B, E)
  let scores: string; // (B, S)
  const query = dec.op('Unsqueeze', [sPrev, dec.constant([2])]); // (B, Hd) -> (B, Hd, 1)
  if (score === 'additive') {
    const wq = dec.op('Unsqueeze', [dec.linear(sPrev, w.init(dec, `${a}W.weight`), null, 'W_s'), dec.constant([1])]); // (B, A) -> (B, 1, A)
    scores = dec.op('Squeeze', [dec.linear(dec.op('Tanh', [dec.op('Add', [wq, projected!])]), w.init(dec, `${a}v.weight`), null, 'v'), dec.constant([2])]); // (B, S, 1) -> (B, S)
  } else {
    const keys = projected ?? memory; // (B, S, Hd)
    scores = dec.op('Squeeze', [dec.op('MatMul', [keys, query]), dec.constant([2])]); // (B, S, Hd) @ (B, Hd, 1) -> (B, S)
  }
  const weights = dec.op('Softmax', [dec.maskFill(scores, dec.paddingMask(lengths, dec.dimScalar(memory, 1)))], { axis: -1 }, 'alignment'); // α (B, S)
  const context = dec.op('Squeeze', [dec.op('MatMul', [dec.op('Unsqueeze', [weights, dec.constant([1])]), memory]), dec.constant([1])]); // (B, 1, S) @ (B, S, 2He) -> (B, 2He)
  const x = dec.op('Unsqueeze', [dec.op('Concat', [yEmb, context], { axis: 1 }), dec.constant([0])]); // (1, B, E + 2He)
  const [, sNew] = rnn(dec, 'GRU', x, rnnWeights(dec, w, 'decoder.rnn.', [''], 'decoder.rnn', 'GRU', Hd), Hd, { h0: dec.op('Unsqueeze', [sPrev, dec.constant([0])]) });
  const s1 = dec.op('Squeeze', [sNew!, dec.constant([0])]); // (1, B, Hd) -> (B, Hd)
  const features = dec.op('Concat', [s1, context, yEmb], { axis: 1 }); // (B, Hd + 2He + E)
  dec.output('log_probs', dec.op('LogSoftmax', [deepOutput(dec, w, features, model.config.maxout)], { axis: -1 }), ONNX_FLOAT, ['batch', V]);
  dec.output('next_state_s', s1, ONNX_FLOAT, ['batch', Hd]);
  dec.output('attention', weights, ONNX_FLOAT, ['batch', 'src_len']);

  const memoryInfo = floats('memory', ['batch', 'src_len', 2 * He], 'annotations [h→; h←] (zero at padding)');
  const keysInfo = projected ? [floats('projected_keys', ['batch', 'src_len', keyDim], score === 'additive' ? 'U_a h_j + b, the keys\' share of the scores' : 'W_a h_j')] : [];
  return {
    encoder: { inputs: SOURCE_INPUTS, outputs: [memoryInfo, ...keysInfo, floats('state_s', ['batch', Hd], 's_0 = tanh(W_s h←_1)')] },
    decoder: {
      inputs: [ids('tokens', ['batch'], 'the previous token (BOS at the first step)'), floats('state_s', ['batch', Hd], 's_{i-1}'), memoryInfo, ...keysInfo, SOURCE_INPUTS[1]!],
      outputs: [floats('log_probs', ['batch', V], 'log p(next token)'), floats('next_state_s', ['batch', Hd], 's_i'), floats('attention', ['batch', 'src_len'], 'α_i over the source (0 at padding)')],
    },
    state: [{ input: 'state_s', output: 'next_state_s' }],
    tokens: 'last',
    attention: { output: 'attention', axes: ['batch', 'src_len'] },
  };
}
