/** Scaled dot-product, Bahdanau, Luong and multi-head attention against PyTorch 1.13 (MultiheadAttention) and reference modules written in PyTorch. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { checkModuleCase, loadModuleGoldens, describeModuleGoldens } from './module-golden.js';

const { cases } = loadModuleGoldens('attention.safetensors');

type Forward = Parameters<typeof checkModuleCase>[2];
const seqOut = (r: z.AttentionResult): Record<string, z.Tensor> => ({ context: r.context, weights: r.weights });
const BUILD: Record<string, () => [z.Module | null, Forward]> = {
  mha_self: () => {
    const m = new z.MultiheadAttention(8, 2);
    return [m, (i) => { const [output, weights] = m.forward(i.x!, i.x!, i.x!, { keyPaddingMask: i.kpm!, attnMask: i.mask! }); return { output, weights }; }];
  },
  mha_cross_heads: () => {
    const m = new z.MultiheadAttention(8, 2, { batchFirst: true });
    return [m, (i) => {
      const [output, weights] = m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: i.kpm!, attnMask: i.mask!, averageAttnWeights: false });
      return { output, weights };
    }];
  },
  mha_kvdim: () => {
    const m = new z.MultiheadAttention(8, 2, { kdim: 5, vdim: 6, bias: false });
    return [m, (i) => {
      const [output, weights] = m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: i.kpm!, attnMask: i.mask!, averageAttnWeights: false });
      return { output, weights };
    }];
  },
  sdpa_causal: () => [null, (i) => ({ output: z.scaledDotProductAttention(i.q!, i.k!, i.v!, { isCausal: true, scale: 0.7 }) })],
  additive_seq: () => {
    const m = new z.AdditiveAttention(4, 5, 6, { bias: true });
    return [m, (i) => seqOut(m.forward(i.q!, i.k!, i.v!, { keyPaddingMask: i.kpm! }))];
  },
  additive_step: () => {
    const m = new z.AdditiveAttention(4, 5, 6);
    return [m, (i) => seqOut(m.forward(i.q!, i.k!))];
  },
  luong_dot: () => {
    const m = new z.LuongAttention('dot', 4);
    return [m, (i) => seqOut(m.forward(i.q!, i.k!, undefined, { keyPaddingMask: i.kpm!, attnMask: i.mask! }))];
  },
  luong_general: () => {
    const m = new z.LuongAttention('general', 4, 5);
    return [m, (i) => seqOut(m.forward(i.q!, i.k!, undefined, { keyPaddingMask: i.kpm!, attnMask: i.mask! }))];
  },
  luong_concat: () => {
    const m = new z.LuongAttention('concat', 4, 5, { hiddenDim: 6 });
    return [m, (i) => seqOut(m.forward(i.q!, i.k!, undefined, { keyPaddingMask: i.kpm!, attnMask: i.mask! }))];
  },
};

describeModuleGoldens('attention', cases, BUILD);

describe('attention behaviour', () => {
  test('projectKeys once, many queries: the same context and weights as projecting per call', async () => {
    z.manualSeed(3);
    const keys = z.randn(2, 5, 6);
    const mask = z.tensor([[false, false, false, true, true], [false, false, false, false, false]]);
    for (const m of [new z.AdditiveAttention(4, 6, 7), new z.LuongAttention('general', 4, 6), new z.LuongAttention('concat', 4, 6, { hiddenDim: 3 }), new z.LuongAttention('dot', 6)]) {
      const q = z.randn(2, m instanceof z.LuongAttention && m.score === 'dot' ? 6 : 4);
      const plain = m.forward(q, keys, keys, { keyPaddingMask: mask });
      const pre = m.forward(q, keys, keys, { keyPaddingMask: mask, projectedKeys: m.projectKeys(keys) });
      assert.deepEqual(await pre.context.data(), await plain.context.data());
      assert.deepEqual(await pre.weights.data(), await plain.weights.data());
    }
    assert.throws(() => new z.AdditiveAttention(4, 6, 7).forward(z.randn(2, 4), keys, keys, { projectedKeys: z.randn(2, 5, 6) }), /AdditiveAttention: projectedKeys must be projectKeys\(keys\) of shape \[2,5,7\], got \[2,5,6\]/);
  });

  test('MultiheadAttention: weights layouts, needWeights, isCausal equals the causal mask', async () => {
    const m = new z.MultiheadAttention(4, 2, { batchFirst: true });
    const x = z.randn(2, 3, 4);
    const [, avg] = m.forward(x, x, x);
    const [, heads] = m.forward(x, x, x, { averageAttnWeights: false });
    const [, none] = m.forward(x, x, x, { needWeights: false });
    assert.deepEqual([avg!.shape, heads!.shape, none], [[2, 3, 3], [2, 2, 3, 3], null]);
    const [a] = m.forward(x, x, x, { isCausal: true });
    const [b] = m.forward(x, x, x, { attnMask: z.Transformer.generateSquareSubsequentMask(3) });
    const [av, bv] = [await a.data(), await b.data()];
    for (let i = 0; i < av.length; i++) assert.ok(Math.abs(av[i]! - bv[i]!) < 1e-6);
    const [, w] = m.forward(x, x, x, { isCausal: true, averageAttnWeights: false });
    const wv = await w!.data();
    assert.equal(wv[1], 0, 'query 0 must not see key 1');
  });
  test('unbatched MultiheadAttention and mask shape errors', () => {
    const m = new z.MultiheadAttention(4, 2);
    const x = z.randn(3, 4);
    const [out, w] = m.forward(x, x, x);
    assert.deepEqual([out.shape, w!.shape], [[3, 4], [3, 3]]);
    assert.throws(() => m.forward(z.randn(3, 2, 4), z.randn(3, 2, 4), z.randn(3, 2, 4), { attnMask: z.zeros(2, 3) }), /attnMask \[2,3\] must be \(3, 3\) or \(4, 3, 3\)/);
    assert.throws(() => new z.MultiheadAttention(5, 2), z.ArgumentError);
  });
  test('headWeights shapes any weights as (B, H, T, S)', () => {
    assert.deepEqual(z.headWeights(z.zeros(2, 5)).shape, [2, 1, 1, 5]);
    assert.deepEqual(z.headWeights(z.zeros(2, 3, 5)).shape, [2, 1, 3, 5]);
  });
  test('state-dict keys as PyTorch', () => {
    assert.deepEqual(Object.keys(new z.MultiheadAttention(4, 2).stateDict()), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    assert.deepEqual(Object.keys(new z.MultiheadAttention(4, 2, { kdim: 3 }).stateDict()), ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
  });
});
