/**
 * The translation Transformer (src/models/translate/transformer.ts over src/nn/transformer.ts,
 * torch.nn.Transformer's layers) as an encoder graph and a decoder-step graph that reruns the
 * decoder over the whole target prefix (no cache: each step is the teacher-forced computation, and
 * every layer's cross-attention over the prefix comes out whole).
 *
 *   encoder(src (B, S), src_lengths (B)) -> memory (B, S, D)
 *   decoder(tokens (B, T) = BOS y_1 .. y_{T-1}, memory, src_lengths)
 *     -> log_probs (B, V) of the token after the prefix,
 *        cross_attention (B, L, H, T, S): every decoder layer's and head's weights for every position
 *
 * Masks as zhuyi's (PyTorch 1.13's): source padding and target padding (tokens == padId) are bool
 * key-padding masks, the decoder's self-attention is causal; masked scores are -inf before softmax.
 */
import type { SinusoidalPositionalEncoding } from '../nn/positional.js';
import type { TransformerSeq2Seq } from '../models/translate/transformer.js';
import { type GraphBuilder, ONNX_FLOAT, ONNX_INT64 } from './onnx-builder.js';
import type { TranslationGraphs } from './translate-rnn.js';
import type { Weights } from './weights.js';

const LN_EPS = 1e-5; // torch.nn.Transformer's layer_norm_eps, which TransformerSeq2Seq keeps

interface Ctx { b: GraphBuilder; w: Weights; D: number; H: number; act: 'relu' | 'gelu'; normFirst: boolean }

/** torch.nn.MultiheadAttention over q (B, T, D) and kv (B, S, D); `mask` bool, broadcastable to (B, H, T, S), true = masked. */
function mha(c: Ctx, key: string, q: string, kv: string, mask: string): [string, string] {
  const { b, w, D, H } = c;
  const Dh = D / H;
  const inW = w.init(b, `${key}.in_proj_weight`);
  const inB = w.init(b, `${key}.in_proj_bias`);
  const rows = (t: string, i: number, axis = 0): string => b.op('Slice', [t, b.constant([i * D]), b.constant([(i + 1) * D]), b.constant([axis])]);
  const project = (x: string, i: number): string => b.linear(x, rows(inW, i), rows(inB, i), ['q', 'k', 'v'][i]!);
  const heads = (x: string, perm: number[]): string => b.op('Transpose', [b.op('Reshape', [x, b.constant([0, 0, H, Dh])])], { perm }); // (B, n, D) -> (B, n, H, Dh) -> perm
  // PyTorch 1.13 scales q before the product.
  const qh = heads(b.op('Mul', [project(q, 0), b.scalar(1 / Math.sqrt(Dh))]), [0, 2, 1, 3]); // (B, H, T, Dh)
  const kT = heads(project(kv, 1), [0, 2, 3, 1]); // (B, H, Dh, S)
  const vh = heads(project(kv, 2), [0, 2, 1, 3]); // (B, H, S, Dh)
  const weights = b.op('Softmax', [b.maskFill(b.op('MatMul', [qh, kT]), mask)], { axis: -1 }, 'attention'); // (B, H, T, S)
  const context = b.op('Reshape', [b.op('Transpose', [b.op('MatMul', [weights, vh])], { perm: [0, 2, 1, 3] }), b.constant([0, 0, D])]); // (B, H, T, Dh) -> (B, T, H, Dh) -> (B, T, D)
  return [b.linear(context, w.init(b, `${key}.out_proj.weight`), w.init(b, `${key}.out_proj.bias`), 'out_proj'), weights];
}

function ln(c: Ctx, key: string, x: string): string {
  return c.b.layerNorm(x, c.w.init(c.b, `${key}.weight`), c.w.init(c.b, `${key}.bias`), LN_EPS);
}

/** FFN(x) = linear2(act(linear1(x))). */
function ff(c: Ctx, key: string, x: string): string {
  const { b, w } = c;
  const h = b.linear(x, w.init(b, `${key}.linear1.weight`), w.init(b, `${key}.linear1.bias`), 'linear1');
  const a = c.act === 'relu' ? b.op('Relu', [h]) : b.op('Mul', [b.op('Mul', [h, b.scalar(0.5)]), b.op('Add', [b.op('Erf', [b.op('Mul', [h, b.scalar(Math.SQRT1_2)])]), b.scalar(1)])], {}, 'gelu');
  return b.linear(a, w.init(b, `${key}.linear2.weight`), w.init(b, `${key}.linear2.bias`), 'linear2');
}

const add = (c: Ctx, x: string, y: string): string => c.b.op('Add', [x, y], {}, 'residual');

function encoderLayer(c: Ctx, key: string, x: string, mask: string): string {
  if (c.normFirst) {
    const n = ln(c, `${key}.norm1`, x);
    const h = add(c, x, mha(c, `${key}.self_attn`, n, n, mask)[0]);
    return add(c, h, ff(c, key, ln(c, `${key}.norm2`, h)));
  }
  const h = ln(c, `${key}.norm1`, add(c, x, mha(c, `${key}.self_attn`, x, x, mask)[0]));
  return ln(c, `${key}.norm2`, add(c, h, ff(c, key, h)));
}

/** Returns the layer's output and its cross-attention weights (B, H, T, S). */
function decoderLayer(c: Ctx, key: string, x: string, memory: string, selfMask: string, memoryMask: string): [string, string] {
  if (c.normFirst) {
    const n1 = ln(c, `${key}.norm1`, x);
    let h = add(c, x, mha(c, `${key}.self_attn`, n1, n1, selfMask)[0]);
    const [a, wc] = mha(c, `${key}.multihead_attn`, ln(c, `${key}.norm2`, h), memory, memoryMask);
    h = add(c, h, a);
    return [add(c, h, ff(c, key, ln(c, `${key}.norm3`, h))), wc];
  }
  let h = ln(c, `${key}.norm1`, add(c, x, mha(c, `${key}.self_attn`, x, x, selfMask)[0]));
  const [a, wc] = mha(c, `${key}.multihead_attn`, h, memory, memoryMask);
  h = ln(c, `${key}.norm2`, add(c, h, a));
  return [ln(c, `${key}.norm3`, add(c, h, ff(c, key, h))), wc];
}

/** E[ids] * sqrt(D) + positions[0 .. n): ids (B, n) -> (B, n, D). */
function embed(b: GraphBuilder, table: string, positions: string, ids: string, D: number): string {
  const n = b.dimScalar(ids, 1);
  const tokens = b.op('Mul', [b.op('Gather', [table, ids]), b.scalar(Math.sqrt(D))]);
  return b.op('Add', [tokens, b.op('Gather', [positions, b.range(n)])], {}, 'embedded'); // + (n, D)
}

/** The positions table of each side: the sinusoids (not a parameter; stored once) or the learned weight. */
function positionTables(b: GraphBuilder, w: Weights, model: TransformerSeq2Seq): [string, string] {
  if (model.config.positions === 'learned') return [w.init(b, 'src_positions.weight'), w.init(b, 'tgt_positions.weight')];
  const pe = (model.src_positions as SinusoidalPositionalEncoding).pe;
  const table = b.weight('positional_encoding', pe.buffer as Float32Array, [...pe.shape]);
  return [table, table];
}

export function emitTransformer(enc: GraphBuilder, dec: GraphBuilder, w: Weights, model: TransformerSeq2Seq): TranslationGraphs {
  const cfg = model.config;
  const [D, H, N, M, V] = [cfg.dModel, cfg.nHead, cfg.numEncoderLayers, cfg.numDecoderLayers, cfg.tgtVocabSize];
  const ctx = (b: GraphBuilder): Ctx => ({ b, w, D, H, act: cfg.activation, normFirst: cfg.normFirst });
  const keyPadding = (b: GraphBuilder, mask: string): string => b.op('Unsqueeze', [mask, b.constant([1, 2])]); // (B, S) -> (B, 1, 1, S)

  // Encoder: 1. embed, 2. encode, blind to source padding.
  const e = ctx(enc);
  const src = enc.input('src', ONNX_INT64, ['batch', 'src_len']);
  const srcLengths = enc.input('src_lengths', ONNX_INT64, ['batch']);
  const [srcPositions] = positionTables(enc, w, model);
  let x = embed(enc, w.init(enc, 'src_tok_emb.weight'), srcPositions, src, D);
  const encMask = keyPadding(enc, enc.paddingMask(srcLengths, enc.dimScalar(src, 1)));
  for (let l = 0; l < N; l++) x = encoderLayer(e, `transformer.encoder.layers.${l}`, x, encMask);
  enc.output('memory', ln(e, 'transformer.encoder.norm', x), ONNX_FLOAT, ['batch', 'src_len', D]);

  // Decoder step: 3. decode the prefix over memory, 4. project its last position.
  const d = ctx(dec);
  const tokens = dec.input('tokens', ONNX_INT64, ['batch', 'tgt_len']);
  const memory = dec.input('memory', ONNX_FLOAT, ['batch', 'src_len', D]);
  const lengths = dec.input('src_lengths', ONNX_INT64, ['batch']);
  const [, tgtPositions] = positionTables(dec, w, model);
  let y = embed(dec, w.init(dec, 'tgt_tok_emb.weight'), tgtPositions, tokens, D);
  const positions = dec.range(dec.dimScalar(tokens, 1));
  const causal = dec.op('Greater', [dec.op('Unsqueeze', [positions, dec.constant([0])]), dec.op('Unsqueeze', [positions, dec.constant([1])])], {}, 'causal'); // (T, T): key t' > query t
  const tgtPadding = keyPadding(dec, dec.op('Equal', [tokens, dec.constant([cfg.padId], [])], {}, 'target_padding')); // (B, 1, 1, T)
  const selfMask = dec.op('Or', [causal, tgtPadding], {}, 'self_mask'); // (B, 1, T, T)
  const memoryMask = keyPadding(dec, dec.paddingMask(lengths, dec.dimScalar(memory, 1)));
  const cross: string[] = [];
  for (let l = 0; l < M; l++) {
    const [out, wc] = decoderLayer(d, `transformer.decoder.layers.${l}`, y, memory, selfMask, memoryMask);
    y = out;
    cross.push(dec.op('Unsqueeze', [wc, dec.constant([1])])); // (B, 1, H, T, S)
  }
  y = ln(d, 'transformer.decoder.norm', y);
  const last = dec.op('Squeeze', [dec.op('Slice', [y, dec.constant([-1]), dec.constant([Number.MAX_SAFE_INTEGER]), dec.constant([1])]), dec.constant([1])]); // (B, T, D) -> (B, D)
  const logits = dec.linear(last, w.init(dec, 'generator.weight'), w.init(dec, 'generator.bias'), 'generator');
  dec.output('log_probs', dec.op('LogSoftmax', [logits], { axis: -1 }), ONNX_FLOAT, ['batch', V]);
  dec.output('cross_attention', cross.length === 1 ? cross[0]! : dec.op('Concat', cross, { axis: 1 }), ONNX_FLOAT, ['batch', M, H, 'tgt_len', 'src_len']);

  const ids = (name: string, axes: string[], doc: string) => ({ name, dtype: 'int64' as const, axes, doc });
  const memoryInfo = { name: 'memory', dtype: 'float32' as const, axes: ['batch', 'src_len', D], doc: 'the encoder\'s output' };
  const sourceInputs = [ids('src', ['batch', 'src_len'], 'source token ids, padded'), ids('src_lengths', ['batch'], 'real source tokens per row (>= 1)')];
  return {
    encoder: { inputs: sourceInputs, outputs: [memoryInfo] },
    decoder: {
      inputs: [ids('tokens', ['batch', 'tgt_len'], 'the target prefix, BOS first'), memoryInfo, sourceInputs[1]!],
      outputs: [
        { name: 'log_probs', dtype: 'float32', axes: ['batch', V], doc: 'log p(token after the prefix)' },
        { name: 'cross_attention', dtype: 'float32', axes: ['batch', M, H, 'tgt_len', 'src_len'], doc: 'cross-attention of every decoder layer and head at every prefix position' },
      ],
    },
    state: [],
    tokens: 'prefix',
    attention: { output: 'cross_attention', axes: ['batch', M, H, 'tgt_len', 'src_len'] },
  };
}
