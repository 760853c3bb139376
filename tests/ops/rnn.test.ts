/**
 * The whole-sequence `gru` / `lstm` ops (src/ops/rnn.ts) against the cell loop of src/nn/rnn.ts,
 * the path gradients take: GRU and LSTM modules run once with lengths as numbers (the loop) and
 * once in no-grad mode with lengths as a tensor (the op, as export traces them), padded rows, both
 * directions, stacked layers, given states. float64 on js
 * to 1e-6 (the two compute the same sums in the same order), float32 on ort (ONNX's GRU / LSTM
 * operators) to 1e-5. The op's PyTorch golden is `gru_packed_bidirectional` in tests/golden/ops.json.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import type { Module, Tensor } from '../../src/index.js';
import { rnnLayer } from '../../src/ops/rnn.js';
import { assertClose } from '../helpers.js';
import { backendsUnderTest, onBackend } from './backends.js';

/** The module's parameters as float64 (the loop and the op then both compute in double). */
function toFloat64(m: Module): void {
  const named = (m as unknown as { namedDirectParameters(): [string, Tensor][] }).namedDirectParameters();
  for (const [k, p] of named) m.registerParameter(k, new z.Parameter(z.tensor(Float64Array.from(p.buffer!), { shape: [...p.shape] })));
}

/** Every tensor of a forward's result, flattened: output, h (and c). */
function flat(r: [Tensor, Tensor | [Tensor, Tensor]]): Tensor[] {
  return [r[0], ...(Array.isArray(r[1]) ? r[1] : [r[1]])];
}

function opsOf(ts: Tensor[]): string[] {
  return z.buildGraph(ts).values.flatMap((v) => (v.kind === 'op' ? [v.op] : []));
}

interface Case { name: string; make: () => z.GRU | z.LSTM; x: number[]; lengths?: number[]; states?: boolean }
const CASES: Case[] = [
  { name: 'GRU, 2 layers, bidirectional, padded rows', make: () => new z.GRU(3, 4, { numLayers: 2, bidirectional: true }), x: [5, 3, 3], lengths: [5, 2, 1] },
  { name: 'LSTM, 2 layers, bidirectional, batchFirst, padded rows, given h0 and c0', make: () => new z.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true }), x: [3, 6, 3], lengths: [2, 6, 4], states: true },
  { name: 'GRU without biases, full rows, given h0', make: () => new z.GRU(2, 5, { bias: false }), x: [4, 2, 2], states: true },
  { name: 'LSTM, one step (a decoder step)', make: () => new z.LSTM(3, 4, { numLayers: 2 }), x: [1, 3, 3], states: true },
];

for (const backend of backendsUnderTest()) {
  const dt = backend === 'js' ? 'float64' : 'float32';
  const tol = backend === 'js' ? { atol: 1e-6, rtol: 0 } : { atol: 1e-5, rtol: 1e-5 };
  describe(`gru / lstm ops on ${backend} (${dt}) equal the cell loop`, () => {
    for (const c of CASES) {
      test(c.name, () => onBackend(backend, async () => {
        z.manualSeed(3);
        const m = c.make();
        if (dt === 'float64') toFloat64(m);
        const D = m.bidirectional ? 2 : 1;
        const B = m.batchFirst ? c.x[0]! : c.x[1]!;
        const x = z.randn(c.x).to(dt);
        const h0 = c.states ? z.randn([m.numLayers * D, B, m.hiddenSize]).to(dt) : null;
        const c0 = c.states ? z.randn([m.numLayers * D, B, m.hiddenSize]).to(dt) : null;
        const run = (o: z.RNNForwardOptions): [Tensor, Tensor | [Tensor, Tensor]] => (m instanceof z.LSTM ? m.forward(x, h0 && c0 ? [h0, c0] : null, o) : m.forward(x, h0, o));
        const T = m.batchFirst ? c.x[1]! : c.x[0]!;
        // The loop: lengths as numbers (or none); the op: lengths as a tensor, without gradients.
        const loop = flat(run(c.lengths ? { lengths: c.lengths } : {}));
        const fused = flat(z.noGrad(() => run({ lengths: z.tensor(c.lengths ?? Array<number>(B).fill(T), { dtype: 'int32' }) })));
        assert.ok(!opsOf(flat(z.noGrad(() => run(c.lengths ? { lengths: c.lengths } : {})))).includes(m instanceof z.LSTM ? 'lstm' : 'gru'), 'lengths as numbers: the loop, gradients or not');
        const mode = m instanceof z.LSTM ? 'lstm' : 'gru';
        assert.ok(!opsOf(loop).includes(mode), 'with gradients the module runs the cell loop');
        const fusedOps = opsOf(fused);
        assert.equal(fusedOps.filter((op) => op === mode).length, m.numLayers, `one ${mode} op per layer without gradients`);
        assert.ok(!fusedOps.includes('sigmoid'), 'no per-step gates in the fused graph');
        await z.realize(...loop, ...fused);
        for (let i = 0; i < loop.length; i++) {
          assert.deepEqual(fused[i]!.shape, loop[i]!.shape);
          assert.equal(fused[i]!.dtype, dt);
          assertClose(await fused[i]!.data(), await loop[i]!.data(), { ...tol, what: `${c.name}: result ${i}` });
        }
      }));
    }

    test('lengths may be a lazy tensor (an exported encoder\'s input)', () => onBackend(backend, async () => {
      z.manualSeed(4);
      const m = new z.GRU(2, 3, { bidirectional: true });
      if (dt === 'float64') toFloat64(m);
      const x = z.randn([4, 3, 2]).to(dt);
      const lazy = z.add(z.tensor([3, 1, 2], { dtype: 'int32' }), 1); // [4, 2, 3], not realized
      const [outLazy, hLazy] = z.noGrad(() => m.forward(x, null, { lengths: lazy }));
      const [out, h] = m.forward(x, null, { lengths: [4, 2, 3] });
      assertClose(await outLazy.data(), await out.data(), { ...tol, what: 'output' });
      assertClose(await hLazy.data(), await h.data(), { ...tol, what: 'h' });
    }));
  });
}

describe('gru / lstm op checks', () => {
  const w = (D: number, G: number, I: number): { weightIh: Tensor; weightHh: Tensor; biasIh: Tensor; biasHh: Tensor } => ({
    weightIh: z.zeros([D, G, I]), weightHh: z.zeros([D, G, G / 3]), biasIh: z.zeros([D, G]), biasHh: z.zeros([D, G]),
  });
  test('shapes and dtypes are checked, naming the op and the input', () => {
    assert.throws(() => rnnLayer('gru', z.zeros([4, 2, 3]), w(1, 6, 5), z.zeros([1, 2, 2]), null, null), /gru: weight_ih is float32\[1,6,5\], expected float32\[1,6,3\]/);
    assert.throws(() => rnnLayer('gru', z.zeros([4, 2, 3]), w(1, 6, 3), z.zeros([1, 3, 2]), null, null), /gru: h0 is float32\[1,3,2\], expected float32\[1,2,2\]/);
    assert.throws(() => rnnLayer('gru', z.zeros([4, 2, 3]), w(1, 6, 3), z.zeros([1, 2, 2]), null, z.tensor([1, 2, 3], { dtype: 'int32' })), /gru: lengths must be int32 \(2\)/);
    assert.throws(() => rnnLayer('lstm', z.zeros([4, 2, 3]), w(1, 6, 3), z.zeros([1, 2, 2]), null, null), /lstm: needs c0/);
  });
  test('lazy lengths need no-grad mode (with gradients the cell loop reads their values)', () => {
    const gru = new z.GRU(2, 3);
    const lazy = z.add(z.tensor([3, 1], { dtype: 'int32' }), 1);
    assert.throws(() => gru.forward(z.randn([4, 2, 2]), null, { lengths: lazy }), /GRU: realize lengths first .*or run without gradients \(noGrad\)/);
    assert.throws(() => z.noGrad(() => gru.forward(z.randn([4, 2, 2]), null, { lengths: z.tensor([4, 2, 1], { dtype: 'int32' }) })), /GRU: lengths \[3\] for a batch of 2/);
  });
  test('lengths outside [1, T] are refused when the op runs', async () => {
    const y = rnnLayer('gru', z.zeros([4, 2, 3]), w(1, 6, 3), z.zeros([1, 2, 2]), null, z.tensor([4, 5], { dtype: 'int32' })).y;
    await onBackend('js', async () => { await assert.rejects(() => y.data(), /gru: lengths must be integers in \[1, T=4\], got 5 for row 1/); });
  });
});
