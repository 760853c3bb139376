/**
 * The ort backend against the js reference: a table of every registered op in every dtype it
 * accepts, gradient graphs, the session cache, and the one-run training step.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { nodeDefaults } from '../../src/backends/ort/node.js';
import { constant, softmaxCrossEntropy } from '../../src/ops/functional.js';
import { rnnLayer } from '../../src/ops/rnn.js';
import { assertClose } from '../helpers.js';

type Build = (dt: DType, r: Inputs) => Tensor | Tensor[];
interface Row { name: string; op: string; dtypes: readonly DType[]; build: Build; tol?: Partial<Record<DType, { atol: number; rtol: number }>> }

const F = ['float32', 'float64'] as const;
const N = ['float32', 'float64', 'int32'] as const;
const ALL = ['float32', 'float64', 'int32', 'bool'] as const;

/**
 * Default tolerances. float32: ORT computes in float32 while the js kernels compute in double and
 * round once, and MLAS uses polynomial exp/tanh/sigmoid/erf (~1e-6 relative). float64: ORT's
 * double kernels are exact libm calls except where noted per row. Integers and bools: exact.
 */
const TOL: Record<DType, { atol: number; rtol: number }> = {
  float32: { atol: 1e-5, rtol: 1e-5 },
  float64: { atol: 1e-12, rtol: 1e-10 },
  int32: { atol: 0, rtol: 0 },
  bool: { atol: 0, rtol: 0 },
};
/** float64 Erf runs through float32 on ORT (no double kernel). */
const VIA_F32 = { float64: { atol: 2e-6, rtol: 2e-6 } };

/** Deterministic inputs: the same seed gives the same tensors for both backends. */
class Inputs {
  private readonly g = new z.Generator(7);
  /** Values by dtype: normal floats, small ints in [-4, 4], fair bools. */
  any(shape: number[], dt: DType): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, () => (dt === 'bool' ? (this.g.random() < 0.5 ? 1 : 0) : dt === 'int32' ? this.g.randint(-4, 5) : this.g.normal()));
    return z.tensor(v, { dtype: dt, shape });
  }
  /** Positive values (log, sqrt, pow bases, divisors). */
  pos(shape: number[], dt: DType): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, () => (dt === 'int32' ? this.g.randint(1, 5) : 0.2 + 2 * this.g.random()));
    return z.tensor(v, { dtype: dt, shape });
  }
  /** Distinct values (no ties), so arg/top-k orders agree without a tie rule. */
  distinct(shape: number[], dt: DType): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const perm = this.g.permutation(n);
    return z.tensor(Array.from(perm, (p) => p - n / 2), { dtype: dt, shape });
  }
  index(shape: number[], size: number): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return z.tensor(Array.from({ length: n }, () => this.g.randint(0, size)), { dtype: 'int32', shape });
  }
}

const un = (op: string, f: (x: Tensor) => Tensor, dtypes: readonly DType[], domain: 'any' | 'pos' = 'any', tol?: Row['tol']): Row =>
  ({ name: op, op, dtypes, tol, build: (dt, r) => [f(r[domain]([3, 4], dt)), f(r[domain]([], dt))] });
const bin = (op: string, f: (a: Tensor, b: Tensor) => Tensor, dtypes: readonly DType[], bDomain: 'any' | 'pos' = 'any'): Row =>
  ({ name: op, op, dtypes, build: (dt, r) => [f(r.any([2, 3, 4], dt), r[bDomain]([3, 1], dt)), f(r.any([4], dt), r[bDomain]([], dt))] });

const ROWS: Row[] = [
  // Lazy constants (scalar operands, zeros in gradients) are `full` nodes; z.full makes realized leaves instead.
  { name: 'full', op: 'full', dtypes: ALL, build: (dt) => [constant(1, [2, 3], dt), constant(dt === 'bool' ? 1 : -2.5, [], dt), constant(0, [4], dt)] },
  ...ALL.flatMap((to): Row[] => [{ name: `cast to ${to}`, op: 'cast', dtypes: ALL, build: (dt, r) => r.any([5, 3], dt).mul(dt === 'bool' ? 1 : 2.5).to(dt === 'bool' ? 'int32' : dt).to(to) }]),
  un('neg', z.neg, N),
  un('exp', z.exp, F),
  un('log', z.log, F, 'pos'),
  un('sqrt', z.sqrt, F, 'pos'),
  un('reciprocal', z.reciprocal, F, 'pos'),
  un('tanh', z.tanh, F),
  un('sigmoid', z.sigmoid, F),
  un('relu', z.relu, N),
  un('erf', z.erf, F, 'any', VIA_F32),
  un('abs', z.abs, N),
  un('sign', z.sign, N),
  un('sin', z.sin, F),
  un('cos', z.cos, F),
  un('logicalNot', z.logicalNot, ['bool']),
  un('gelu', (x) => z.gelu(x), F, 'any', VIA_F32),
  { ...un('gelu', (x) => z.gelu(x, 'tanh'), F), name: 'gelu tanh' },
  bin('add', z.add, N),
  bin('sub', z.sub, N),
  bin('mul', z.mul, N),
  bin('div', z.div, F, 'pos'),
  { name: 'pow', op: 'pow', dtypes: N, build: (dt, r) => [z.pow(r.pos([3, 4], dt), r.any([4], dt === 'int32' ? dt : dt).abs()), z.pow(r.pos([3], dt), 3)] },
  bin('maximum', z.maximum, N),
  bin('minimum', z.minimum, N),
  bin('eq', z.eq, ALL),
  bin('ne', z.ne, ALL),
  bin('lt', z.lt, ALL),
  bin('le', z.le, ALL),
  bin('gt', z.gt, ALL),
  bin('ge', z.ge, ALL),
  bin('logicalAnd', z.logicalAnd, ['bool']),
  bin('logicalOr', z.logicalOr, ['bool']),
  { name: 'where', op: 'where', dtypes: ALL, build: (dt, r) => [z.where(r.any([3, 1], 'bool'), r.any([3, 4], dt), r.any([4], dt)), z.where(r.any([], 'bool'), r.any([], dt), r.any([], dt))] },
  ...(['sum', 'amax', 'amin'] as const).map((op): Row => ({
    name: op, op, dtypes: N,
    build: (dt, r) => { const x = r.any([2, 3, 4], dt); return [z[op](x), z[op](x, 1), z[op](x, [0, 2], true), z[op](r.any([], dt))]; },
    tol: { float32: { atol: 1e-5, rtol: 1e-5 } },
  })),
  ...(['argmax', 'argmin'] as const).map((op): Row => ({
    name: op, op, dtypes: N,
    build: (dt, r) => { const x = r.distinct([3, 5], dt); return [z[op](x), z[op](x, 1), z[op](x, 0, true)]; },
  })),
  {
    // NaN ranks as the extreme and propagates (PyTorch); ONNX leaves it unspecified, the lowerings pin it.
    name: 'NaN in reductions and orderings', op: 'argmax', dtypes: F,
    build: (dt) => {
      const x = z.tensor([[1, NaN, 3, NaN], [4, 5, -Infinity, 6], [Infinity, 0, NaN, 2]], { dtype: dt });
      return [z.argmax(x, 1), z.argmin(x, 1), z.amax(x, 1), z.amin(x, 0), z.topk(x, 2).indices, z.topk(x, 3, 1, false).indices, x.max(1).values];
    },
  },
  { name: 'reshape', op: 'reshape', dtypes: ALL, build: (dt, r) => [r.any([2, 6], dt).reshape(3, 4), r.any([1], dt).reshape([])] },
  { name: 'permute', op: 'permute', dtypes: ALL, build: (dt, r) => r.any([2, 3, 4], dt).permute(2, 0, 1) },
  { name: 'expand', op: 'expand', dtypes: ALL, build: (dt, r) => [r.any([3, 1], dt).expand([2, 3, 4]), r.any([], dt).expand([2])] },
  { name: 'slice', op: 'slice', dtypes: ALL, build: (dt, r) => z.narrow(z.slice(r.any([5, 6], dt), 1, 1, -1), 0, 2, 3) },
  { name: 'concat', op: 'concat', dtypes: ALL, build: (dt, r) => [z.cat([r.any([2, 3], dt), r.any([2, 1], dt)], 1), z.stack([r.any([3], dt), r.any([3], dt)])] },
  { name: 'pad', op: 'pad', dtypes: ALL, build: (dt, r) => z.pad(r.any([2, 3], dt), [1, 2, 0, 1], dt === 'bool' ? 1 : 7) },
  { name: 'gather', op: 'gather', dtypes: ALL, build: (dt, r) => [z.gather(r.any([3, 5], dt), 1, r.index([3, 4], 5)), z.gather(r.any([3, 5], dt), 0, r.index([2, 5], 3))] },
  { name: 'indexSelect', op: 'indexSelect', dtypes: ALL, build: (dt, r) => [z.indexSelect(r.any([6, 4], dt), 0, r.index([5], 6)), z.indexSelect(r.any([2, 6, 3], dt), 1, r.index([4], 6))] },
  { name: 'scatterAdd', op: 'scatterAdd', dtypes: N, build: (dt, r) => z.scatterAdd(r.any([4, 3], dt), 0, r.index([6, 3], 4), r.any([6, 3], dt)) },
  {
    name: 'topk', op: 'topk', dtypes: N,
    build: (dt, r) => {
      const x = r.distinct([3, 6], dt);
      const a = z.topk(x, 3);
      const b = z.topk(x, 2, 0, false);
      return [a.values, a.indices, b.values, b.indices];
    },
  },
  { name: 'matmul', op: 'matmul', dtypes: N, build: (dt, r) => [z.matmul(r.any([2, 3, 4], dt), r.any([4, 5], dt)), z.matmul(r.any([4], dt), r.any([2, 4, 3], dt))], tol: { float32: { atol: 1e-5, rtol: 1e-5 } } },
  { name: 'softmax', op: 'softmax', dtypes: F, build: (dt, r) => [z.softmax(r.any([3, 5], dt), -1), z.softmax(r.any([3, 5], dt).mul(10), 0)] },
  {
    name: 'softmaxCrossEntropy', op: 'softmaxCrossEntropy', dtypes: F,
    build: (dt, r) => [softmaxCrossEntropy(r.any([5, 7], dt), r.index([5], 7), 0.1), softmaxCrossEntropy(r.any([3, 4], dt), r.index([3], 4))],
    tol: { float32: { atol: 1e-5, rtol: 1e-5 } },
  },
  { name: 'logSoftmax', op: 'logSoftmax', dtypes: F, build: (dt, r) => [z.logSoftmax(r.any([3, 5], dt), -1), z.logSoftmax(r.any([4, 3, 2], dt), 1)] },
  {
    name: 'layerNorm', op: 'layerNorm', dtypes: F,
    build: (dt, r) => [z.layerNorm(r.any([4, 8], dt), 8, r.any([8], dt), r.any([8], dt)), z.layerNorm(r.any([2, 3, 4], dt), [3, 4])],
    // ORT normalises with float32 accumulators even for double inputs? No: it accumulates in the input type; 1e-5 eps rounding differs.
    tol: { float32: { atol: 3e-5, rtol: 3e-5 }, float64: { atol: 1e-10, rtol: 1e-9 } },
  },
  // ONNX Runtime's GRU / LSTM are float32 only: float64 runs through float32.
  { name: 'gru', op: 'gru', dtypes: F, build: (dt, r) => rnnRow('gru', dt, r), tol: VIA_F32 },
  { name: 'lstm', op: 'lstm', dtypes: F, build: (dt, r) => rnnRow('lstm', dt, r), tol: VIA_F32 },
  { name: 'trilu', op: 'trilu', dtypes: ALL, build: (dt, r) => [z.tril(r.any([2, 4, 5], dt)), z.triu(r.any([4, 3], dt), 1), z.tril(r.any([3, 3], dt), -1)] },
];

/** One bidirectional gru / lstm layer over a padded batch (T 4, B 3, I 2, H 3): outputs, h_N, c_N. */
function rnnRow(mode: 'gru' | 'lstm', dt: DType, r: Inputs): Tensor[] {
  const G = (mode === 'gru' ? 3 : 4) * 3;
  const w = { weightIh: r.any([2, G, 2], dt), weightHh: r.any([2, G, 3], dt), biasIh: r.any([2, G], dt), biasHh: r.any([2, G], dt) };
  const out = rnnLayer(mode, r.any([4, 3, 2], dt), w, r.any([2, 3, 3], dt), mode === 'lstm' ? r.any([2, 3, 3], dt) : null, z.tensor([4, 1, 3], { dtype: 'int32' }));
  return [out.y, out.h, ...(out.c ? [out.c] : [])];
}

/** Runs `build` on a backend with fresh inputs and returns the results as plain arrays. */
async function runOn(backend: string, build: Build, dt: DType): Promise<{ shape: number[]; dtype: DType; data: number[] }[]> {
  const prev = z.getBackend();
  z.setBackend(backend);
  try {
    const out = build(dt, new Inputs());
    const outs = Array.isArray(out) ? out : [out];
    await z.realize(...outs);
    return Promise.all(outs.map(async (t) => ({ shape: [...t.shape], dtype: t.dtype, data: Array.from(await t.data(), Number) })));
  } finally {
    z.setBackend(prev);
  }
}

describe('ort agrees with js on every op', () => {
  test('the table covers every registered op', () => {
    const covered = new Set(ROWS.map((r) => r.op));
    const missing = z.listOps().map((o) => o.name).filter((n) => !covered.has(n));
    assert.deepEqual(missing, [], `ops without a row in tests/backends/ort.test.ts: ${missing.join(', ')}`);
  });
  for (const row of ROWS) {
    for (const dt of row.dtypes) {
      test(`${row.name} (${dt})`, async () => {
        const want = await runOn('js', row.build, dt);
        const got = await runOn('ort', row.build, dt);
        want.forEach((w, k) => {
          const g = got[k]!;
          assert.deepEqual(g.shape, w.shape, `${row.name} output ${k}: shape`);
          assert.equal(g.dtype, w.dtype, `${row.name} output ${k}: dtype`);
          const tol = row.tol?.[w.dtype] ?? TOL[w.dtype];
          assertClose(g.data, w.data, { ...tol, what: `${row.name} (${dt}) output ${k}` });
        });
      });
    }
  }
});

/** A 2-layer MLP with a softmax cross-entropy loss, written with public ops. */
function mlpLoss(params: Tensor[], x: Tensor, y: Tensor): Tensor {
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const h = z.gelu(x.matmul(w1).add(b1));
  const logits = z.layerNorm(h, h.shape[1]!).matmul(w2).add(b2);
  const picked = z.gather(z.logSoftmax(logits, -1), 1, y.unsqueeze(1));
  return picked.mean().neg();
}

function mlpData(dt: DType = 'float32'): { params: Tensor[]; x: Tensor; y: Tensor } {
  const g = new z.Generator(3);
  const params = [z.randn([4, 16], { generator: g, dtype: dt }), z.randn([16], { generator: g, dtype: dt }), z.randn([16, 3], { generator: g, dtype: dt }), z.zeros([3], { dtype: dt })];
  params.forEach((p) => { p.requiresGrad = true; });
  return { params, x: z.randn([8, 4], { generator: g, dtype: dt }), y: z.randint(0, 3, [8], { generator: g }) };
}

async function onBackend<T>(backend: string, f: () => Promise<T>): Promise<T> {
  const prev = z.getBackend();
  z.setBackend(backend);
  try { return await f(); } finally { z.setBackend(prev); }
}

describe('ort: gradients, cache, one run per step', () => {
  test('gradients of an MLP loss agree with js (float32 and float64)', async () => {
    for (const dt of ['float32', 'float64'] as const) {
      const run = (backend: string): Promise<number[][]> => onBackend(backend, async () => {
        const { params, x, y } = mlpData(dt);
        const loss = mlpLoss(params, x, y);
        const grads = z.grad(loss, params);
        await z.realize(loss, ...grads);
        return Promise.all([loss, ...grads].map(async (t) => Array.from(await t.data())));
      });
      const want = await run('js');
      const got = await run('ort');
      const tol = dt === 'float32' ? { atol: 1e-5, rtol: 1e-4 } : { atol: 2e-6, rtol: 2e-6 }; // float64 erf (gelu) goes through float32 on ORT
      want.forEach((w, k) => assertClose(got[k]!, w, { ...tol, what: `${dt} ${k === 0 ? 'loss' : `grad ${k - 1}`}` }));
    }
  });

  test('an SGD step (forward, backward, update) is exactly one ORT run, and the next step hits the cache', async () => {
    await onBackend('ort', async () => {
      const { params, x, y } = mlpData();
      const step = async (): Promise<number> => {
        const loss = mlpLoss(params, x, y);
        const grads = z.grad(loss, params);
        const updated = params.map((p, i) => p.sub(grads[i]!.mul(0.1)));
        await z.realize(loss, ...updated);
        updated.forEach((u, i) => { const p = z.tensor(u.buffer!, { shape: u.shape }); p.requiresGrad = true; params[i] = p; });
        return loss.item();
      };
      await step(); // compile
      z.resetOrtStats();
      const first = await step();
      let s = z.ortStats();
      assert.equal(s.runs, 1, 'one session run per training step');
      assert.equal(s.hits, 1);
      assert.equal(s.misses, 0, 'same structure, new parameter values: no recompilation');
      let last = first;
      for (let i = 0; i < 20; i++) last = await step();
      s = z.ortStats();
      assert.equal(s.runs, 21);
      assert.equal(s.misses, 0);
      assert.ok(last < first, `loss decreases: ${first} -> ${last}`);
    });
  });

  test('Transformer decoding compiles one session per cache capacity, not one per step; same tokens as js', async () => {
    z.manualSeed(2);
    const model = new z.TransformerSeq2Seq({ srcVocabSize: 12, tgtVocabSize: 12, padId: 0, bosId: 1, eosId: 2, dModel: 16, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 24, maxLen: 64 });
    model.eval();
    const src = z.tensor([[3, 4, 5, 6], [7, 8, 0, 0]], { dtype: 'int32' });
    // No EOS can win (its logit is pushed down), so both sentences run all 40 steps: capacities 16, 32, 64.
    model.generator.bias!.buffer![2] = -1e4;
    const decode = (): Promise<number[][]> => model.translate(src, [4, 2], { maxLength: 40 });
    const onJs = await onBackend('js', decode);
    assert.ok(onJs.every((t) => t.length === 40));
    await onBackend('ort', async () => {
      z.resetOrtStats();
      assert.deepEqual(await decode(), onJs);
      const s = z.ortStats();
      assert.equal(s.runs, 40, 'one session run per step');
      // Step 0 (with the encoder), steps 1-15, the growth to 32, 17-31, the growth to 64, 33-39.
      assert.equal(s.misses, 6, `sessions compiled: ${s.misses}`);
    });
  });

  test('graph outputs that are inputs, repeated, scalars; constants only', async () => {
    await onBackend('ort', async () => {
      const a = z.tensor([1, 2, 3]);
      const b = a.mul(2);
      const s = a.sum();
      const c = a.reshape(3); // an op whose result equals an input
      await z.realize(b, s, c, b);
      assertClose(await b.data(), [2, 4, 6]);
      assert.equal(await s.item(), 6);
      assertClose(await c.data(), [1, 2, 3]);
      const k = z.tensor(5).add(1).mul(z.tensor(2)); // scalar leaves
      assert.equal(await k.item(), 12);
      const onlyConst = constant(3, [2], 'int32').add(1);
      assert.deepEqual(Array.from(await onlyConst.data()), [4, 4]);
    });
  });

  test('zero-size tensors run on the js fallback and count as fallbacks', async () => {
    await onBackend('ort', async () => {
      z.resetOrtStats();
      const e = z.zeros([0, 3]).add(1).sum(0);
      assert.deepEqual(Array.from(await e.data()), [0, 0, 0]);
      assert.equal(z.ortStats().fallbacks, 1);
      assert.equal(z.ortStats().runs, 0);
    });
  });

  test('the cache key ignores values but not shapes, dtypes or attributes; LRU bound holds', async () => {
    await onBackend('ort', async () => {
      z.configureOrt({ cacheSize: 3 });
      try {
        z.resetOrtStats();
        await z.tensor([1, 2]).mul(3).data();
        await z.tensor([5, 6]).mul(3).data();
        assert.deepEqual([z.ortStats().misses, z.ortStats().hits], [1, 1]);
        await z.tensor([5, 6, 7]).mul(3).data(); // shape
        await z.tensor([5, 6]).mul(4).data(); // constant attribute
        await z.tensor([5, 6], { dtype: 'float64' }).mul(3).data(); // dtype
        assert.deepEqual([z.ortStats().misses, z.ortStats().hits], [4, 1]);
        // Non-finite constants are distinct structures (JSON alone would write all of them as null).
        const fills: ArrayLike<number>[] = [];
        for (const v of [-Infinity, Infinity, NaN]) fills.push(await z.maskedFill(z.tensor([1, 2]), z.tensor([1, 0], { dtype: 'bool' }), v).data());
        assert.deepEqual(fills.map((f) => Array.from(f).map(String)), [['-Infinity', '2'], ['Infinity', '2'], ['NaN', '2']]);
        assert.equal(z.ortStats().cached, 3);
        assert.ok(z.ortStats().compileMs > 0);
      } finally {
        z.configureOrt({ cacheSize: undefined });
      }
    });
  });

  test('threads: cores by default, ZHUYI_THREADS, then configureOrt; bad values are named', async () => {
    assert.equal(nodeDefaults({}).threads, cpus().length);
    assert.equal(nodeDefaults({ ZHUYI_THREADS: '3' }).threads, 3);
    assert.deepEqual(nodeDefaults({ ZHUYI_EP: 'cuda, cpu' }).executionProviders, ['cuda', 'cpu']);
    assert.throws(() => nodeDefaults({ ZHUYI_THREADS: 'many' }), /ZHUYI_THREADS/);
    assert.equal(nodeDefaults({}).cacheSize, 256);
    assert.equal(nodeDefaults({}).memoryPattern, false);
    assert.equal(nodeDefaults({ ZHUYI_ORT_MEM_PATTERN: '1' }).memoryPattern, true);
    assert.equal(nodeDefaults({ ZHUYI_ORT_CACHE: '32' }).cacheSize, 32);
    assert.throws(() => nodeDefaults({ ZHUYI_ORT_CACHE: '0' }), /ZHUYI_ORT_CACHE must be a positive integer, got '0'/);
    assert.throws(() => z.configureOrt({ threads: 0 }), /threads/);
    z.configureOrt({ threads: 1 });
    try {
      assert.equal(z.ortConfig().threads, 1);
      const t = await onBackend('ort', () => z.tensor([1, 2]).matmul(z.tensor([3, 4])).item());
      assert.equal(t, 11);
    } finally {
      z.configureOrt({ threads: undefined });
    }
    assert.equal(z.ortConfig().threads, nodeDefaults().threads);
  });

  test('profilePrefix: sessions write Chrome traces of their kernels on eviction and on endOrtProfiling', async () => {
    assert.equal(nodeDefaults({}).profilePrefix, '');
    assert.equal(nodeDefaults({ ZHUYI_ORT_PROFILE: '/tmp/p' }).profilePrefix, '/tmp/p');
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-profile-'));
    try {
      z.configureOrt({ profilePrefix: join(dir, 'run') });
      await onBackend('ort', async () => {
        await z.tensor([[1, 2]]).matmul(z.tensor([[3], [4]])).data();
        await z.tensor([1, 2, 3]).exp().sum().item();
      });
      const traces = (): string[] => readdirSync(dir).filter((f) => /^run_.*\.json$/.test(f));
      // ONNX Runtime opens each trace when the session starts and completes it at endProfiling.
      z.endOrtProfiling();
      assert.equal(traces().length, 2);
      const kernels = traces().flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as Array<{ cat: string; args?: { op_name?: string } }>)
        .filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
      for (const op of ['MatMul', 'Exp', 'ReduceSum']) assert.ok(kernels.includes(op), `${op} in ${[...new Set(kernels)].join(', ')}`);
    } finally {
      z.configureOrt({ profilePrefix: undefined });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("memory arena: 'auto' by default (off in a tuned heap, on under the budget), ZHUYI_ORT_ARENA=1/0 forces it, results unchanged", async () => {
    assert.equal(nodeDefaults({}).memoryArena, 'auto');
    assert.equal(nodeDefaults({ ZHUYI_ORT_ARENA: '1' }).memoryArena, true);
    assert.equal(nodeDefaults({ ZHUYI_ORT_ARENA: '0' }).memoryArena, false);
    assert.equal(nodeDefaults({ ZHUYI_ORT_ARENA_BUDGET_MB: '512' }).arenaBudgetMB, 512);
    assert.equal(nodeDefaults({}).arenaBudgetMB, Math.min(8192, Math.floor(totalmem() / 4 / 2 ** 20)));
    assert.throws(() => nodeDefaults({ ZHUYI_ORT_ARENA: 'off' }), /ZHUYI_ORT_ARENA must be auto, 1 .* or 0, got 'off'/);
    assert.throws(() => nodeDefaults({ ZHUYI_ORT_ARENA_BUDGET_MB: '-1' }), /ZHUYI_ORT_ARENA_BUDGET_MB must be a positive integer/);
    assert.throws(() => z.configureOrt({ memoryArena: 'sometimes' as unknown as boolean }), /memoryArena must be true, false or 'auto'/);
    const run = () => onBackend('ort', () => z.tensor([[1, 2], [3, 4]]).matmul(z.tensor([[5], [6]])).softmax(0).data());
    const off = Array.from(await run());
    // 'auto' in this (untuned) test process: a session gets an arena only while resident memory is under the budget.
    for (const [setting, arena] of [[{ memoryArena: true }, 1], [{ memoryArena: 'auto', arenaBudgetMB: 1 }, 0], [{ memoryArena: 'auto', arenaBudgetMB: 1 << 20 }, 1]] as const) {
      z.configureOrt(setting);
      try {
        z.resetOrtStats();
        assert.deepEqual(Array.from(await run()), off);
        assert.equal(z.ortStats().arenaSessions, arena, JSON.stringify(setting));
      } finally {
        z.configureOrt({ memoryArena: undefined, arenaBudgetMB: undefined });
      }
    }
    assert.equal(z.ortConfig().memoryArena, 'auto');
  });

});
