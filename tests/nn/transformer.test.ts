/** Transformer layers, stacks and the full model against torch.nn 1.13, with every layer's per-head attention weights; positional encodings. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { checkModuleCase, loadModuleGoldens, describeModuleGoldens } from './module-golden.js';

const { cases, tensors } = loadModuleGoldens('transformer.safetensors');
const small = { dimFeedforward: 16, dropout: 0 };

type Forward = Parameters<typeof checkModuleCase>[2];
const named = (prefix: string, ts: z.Tensor[]): Record<string, z.Tensor> => Object.fromEntries(ts.map((t, i) => [`${prefix}${i}`, t]));
const BUILD: Record<string, () => [z.Module, Forward]> = {
  enc_post_relu: () => {
    const m = new z.TransformerEncoder(() => new z.TransformerEncoderLayer(8, 2, small), 2);
    return [m, (i) => {
      const r = m.forwardWithAttention(i.x!, { mask: z.Transformer.generateSquareSubsequentMask(4), keyPaddingMask: i.kpm! });
      return { output: r.output, ...named('attn', r.attentions) };
    }];
  },
  enc_pre_gelu_bf: () => {
    const opts = { ...small, activation: 'gelu', batchFirst: true, normFirst: true } as const;
    const m = new z.TransformerEncoder(() => new z.TransformerEncoderLayer(8, 2, opts), 2, new z.LayerNorm(8));
    return [m, (i) => {
      const r = m.forwardWithAttention(i.x!, { keyPaddingMask: i.kpm! });
      return { output: r.output, ...named('attn', r.attentions) };
    }];
  },
  dec_layer_post: () => {
    const m = new z.TransformerDecoderLayer(8, 2, small);
    return [m, (i) => {
      const r = m.forwardWithAttention(i.tgt!, i.memory!, { tgtMask: z.Transformer.generateSquareSubsequentMask(3), memoryKeyPaddingMask: i.kpm! });
      return { output: r.output, self_attn: r.selfAttention, cross_attn: r.crossAttention };
    }];
  },
  transformer_pre_gelu: () => {
    const m = new z.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, ...small, activation: 'gelu', batchFirst: true, normFirst: true });
    return [m, (i) => {
      // PyTorch got tgt_mask = generate_square_subsequent_mask(3); tgtIsCausal must be the same thing.
      const r = m.forwardWithAttention(i.src!, i.tgt!, { tgtIsCausal: true, srcKeyPaddingMask: i.kpm!, memoryKeyPaddingMask: i.kpm! });
      return { output: r.output, enc_attn: r.encoderAttentions[0]!, dec_self_attn: r.decoderSelfAttentions[0]!, dec_cross_attn: r.decoderCrossAttentions[0]! };
    }];
  },
};

describeModuleGoldens('transformer', cases, BUILD);

describe('transformer behaviour', () => {
  test('generateSquareSubsequentMask is PyTorch\'s additive mask', async () => {
    const m = z.Transformer.generateSquareSubsequentMask(3);
    assert.deepEqual([...(await m.data())], [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
  });
  test('forward equals forwardWithAttention output; keys of the full model', async () => {
    const m = new z.Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 8, dropout: 0 });
    const keys = Object.keys(m.stateDict());
    assert.ok(keys.includes('encoder.layers.1.self_attn.in_proj_weight') && keys.includes('decoder.layers.0.multihead_attn.out_proj.bias') && keys.includes('encoder.norm.weight') && keys.includes('decoder.norm.bias'));
    assert.equal(keys.length, 2 * 12 + 2 + 1 * 18 + 2);
    const [src, tgt] = [z.randn(3, 2, 4), z.randn(2, 2, 4)];
    const a = await m.forward(src, tgt).data();
    const b = await m.forwardWithAttention(src, tgt).output.data();
    assertClose(a, b, { atol: 0, rtol: 0 });
  });
  test('bad activation is an ArgumentError', () => {
    assert.throws(() => new z.TransformerEncoderLayer(4, 2, { activation: 'tanh' as 'relu' }), z.ArgumentError);
  });
});

describe('positional encodings', () => {
  test('sinusoids equal Vaswani\'s formula (odd width), non-persistent buffer', async () => {
    const pe = new z.SinusoidalPositionalEncoding(7, { maxLen: 6 });
    assertClose(await pe.pe.data(), await tensors.get('pe/out/pe')!.data(), { atol: 1e-7, rtol: 1e-6, what: 'pe' });
    assert.deepEqual(Object.keys(pe.stateDict()), []);
    assert.deepEqual(pe.namedBuffers().map(([k]) => k), ['pe']);
  });
  test('adds positions along T for (T, B, E), batchFirst and offsets', async () => {
    const pe = new z.SinusoidalPositionalEncoding(4, { maxLen: 10 });
    const y = await pe.forward(z.zeros(3, 2, 4), 2).data();
    const table = await pe.pe.data();
    for (let t = 0; t < 3; t++) for (let b = 0; b < 2; b++) for (let e = 0; e < 4; e++) assert.equal(y[(t * 2 + b) * 4 + e], table[(t + 2) * 4 + e]);
    const bf = new z.SinusoidalPositionalEncoding(4, { maxLen: 10, batchFirst: true });
    const yb = await bf.forward(z.zeros(2, 3, 4)).data();
    for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) for (let e = 0; e < 4; e++) assert.equal(yb[(b * 3 + t) * 4 + e], table[t * 4 + e]);
    assert.throws(() => pe.forward(z.zeros(9, 1, 4), 2), z.ArgumentError);
  });
  test('positions given as a tensor pick those rows (any order), checked against maxLen and T', async () => {
    const table = await new z.SinusoidalPositionalEncoding(4, { maxLen: 10 }).pe.data();
    const bf = new z.SinusoidalPositionalEncoding(4, { maxLen: 10, batchFirst: true });
    const at = z.Tensor.fromBuffer(Int32Array.of(7, 2), [2]);
    const y = await bf.forward(z.zeros(3, 2, 4), at).data();
    for (let b = 0; b < 3; b++) for (const [t, p] of [7, 2].entries()) for (let e = 0; e < 4; e++) assert.equal(y[(b * 2 + t) * 4 + e], table[p * 4 + e]);
    assert.throws(() => bf.forward(z.zeros(1, 2, 4), z.Tensor.fromBuffer(Int32Array.of(3, 10), [2])), /position 10 exceeds maxLen 10/);
    assert.throws(() => bf.forward(z.zeros(1, 2, 4), z.Tensor.fromBuffer(Int32Array.of(3), [1])), /positions \[1\] must be \(2\)/);
    const lp = new z.LearnedPositionalEmbedding(5, 3, { batchFirst: true });
    assert.deepEqual([...(await lp.forward(z.zeros(1, 1, 3), z.Tensor.fromBuffer(Int32Array.of(4), [1])).data())], [...(await lp.weight.data())].slice(12, 15));
  });
  test('learned table: key, gradient flows to the used rows only', async () => {
    const lp = new z.LearnedPositionalEmbedding(5, 3, { batchFirst: true });
    assert.deepEqual(Object.keys(lp.stateDict()), ['weight']);
    const [g] = z.grad(z.sum(lp.forward(z.zeros(2, 2, 3), 1)), [lp.weight]);
    assert.deepEqual([...(await g!.data())], [0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0]);
  });
});

describe('incremental decoding with a key/value cache', () => {
  for (const normFirst of [false, true]) {
    test(`TransformerDecoder.step over t positions equals the causal forward (normFirst ${normFirst})`, async () => {
      z.manualSeed(4);
      const dec = new z.TransformerDecoder((_) => new z.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true, normFirst }), 2, new z.LayerNorm(8));
      dec.eval();
      const tgt = z.randn(2, 5, 8);
      const memory = z.randn(2, 3, 8);
      const kpm = z.tensor([[false, false, true], [false, false, false]]);
      const full = await dec.forward(tgt, memory, { tgtIsCausal: true, memoryKeyPaddingMask: kpm }).data();
      let caches = dec.initCache(memory);
      for (let t = 0; t < 5; t++) {
        const r = dec.step(tgt.narrow(1, t, 1), caches, kpm);
        caches = r.caches;
        assert.deepEqual(caches[0]!.selfK!.shape, [2, 2, t + 1, 4]);
        const got = await r.output.data();
        for (let b = 0; b < 2; b++) {
          for (let d = 0; d < 8; d++) {
            const want = full[(b * 5 + t) * 8 + d]!;
            assert.ok(Math.abs(got[b * 8 + d]! - want) < 1e-5, `b${b} t${t} d${d}: ${got[b * 8 + d]} vs ${want}`);
          }
        }
      }
    });

    test(`TransformerDecoder.step into a fixed-capacity cache (writeAt) equals the causal forward; unwritten slots are masked (normFirst ${normFirst})`, async () => {
      z.manualSeed(5);
      const dec = new z.TransformerDecoder((_) => new z.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true, normFirst }), 2, new z.LayerNorm(8));
      dec.eval();
      const [T, C] = [5, 7];
      const tgt = z.randn(2, T, 8);
      const memory = z.randn(2, 3, 8);
      const kpm = z.tensor([[false, true, false], [false, false, false]]);
      const full = await dec.forward(tgt, memory, { tgtIsCausal: true, memoryKeyPaddingMask: kpm }).data();
      // Preallocated slots hold garbage: only the mask may keep them out.
      let caches: z.DecoderLayerCache[] = dec.initCache(memory).map((c) => ({ ...c, selfK: z.randn(2, 2, C, 4).mul(100), selfV: z.randn(2, 2, C, 4).mul(100) }));
      for (let t = 0; t < T; t++) {
        const slot = z.Tensor.fromBuffer(Uint8Array.from({ length: C }, (_, i) => Number(i === t)), [C]);
        const unwritten = z.Tensor.fromBuffer(Uint8Array.from({ length: 2 * C }, (_, i) => Number(i % C > t)), [2, C]);
        const r = dec.step(tgt.narrow(1, t, 1), caches, kpm, unwritten, slot);
        caches = r.caches;
        assert.deepEqual(caches[0]!.selfK!.shape, [2, 2, C, 4]);
        const got = await r.output.data();
        for (let b = 0; b < 2; b++) for (let d = 0; d < 8; d++) assertClose([got[b * 8 + d]!], [full[(b * T + t) * 8 + d]!], { atol: 1e-5, what: `b${b} t${t} d${d}` });
      }
      const slot = z.Tensor.fromBuffer(new Uint8Array(C + 1), [C + 1]);
      assert.throws(() => dec.step(tgt.narrow(1, 0, 1), caches, kpm, null, slot), /writeAt \[8\] needs a preallocated cache whose selfK is \(B, H, 8, D\), got \[2,2,7,4\]/);
    });
  }
});
