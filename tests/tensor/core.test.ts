import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import { assertClose, gradcheck } from '../helpers.js';

test('tensor(): nested arrays, typed arrays, shapes, dtypes', async () => {
  const t = z.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual([...t.shape], [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.equal(t.ndim, 2);
  assert.equal(t.size, 6);
  assert.deepEqual(await t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(z.tensor(new Int32Array([1, 2])).dtype, 'int32');
  assert.equal(z.tensor([true, false]).dtype, 'bool');
  assert.deepEqual(await z.tensor([true, false]).tolist(), [true, false]);
  assert.deepEqual([...z.tensor([1, 2, 3, 4], { shape: [2, 2] }).shape], [2, 2]);
  assert.throws(() => z.tensor([[1, 2], [3]]), z.ShapeError);
  assert.throws(() => z.tensor([1, 2, 3], { shape: [2, 2] }), /3 values do not fill shape \[2,2\]/);
});

test('both argument forms PyTorch takes for sizes and dims', async () => {
  const x = z.arange(6);
  assert.deepEqual([...x.reshape(2, 3).shape], [2, 3]);
  assert.deepEqual([...x.reshape([3, 2]).shape], [3, 2]);
  assert.deepEqual([...x.reshape(-1, 2).shape], [3, 2]);
  const y = z.zeros(2, 3, 4);
  assert.deepEqual([...y.permute(0, 2, 1).shape], [2, 4, 3]);
  assert.deepEqual([...y.permute([2, 0, 1]).shape], [4, 2, 3]);
  assert.deepEqual([...z.ones([2, 3], { dtype: 'int32' }).shape], [2, 3]);
});

test('errors name the op and the shapes', () => {
  assert.throws(() => z.zeros(2, 3).matmul(z.zeros(4, 5)), (e: Error) => e instanceof z.ShapeError && e.message === 'matmul: inner dimensions differ: [2,3] @ [4,5]');
  assert.throws(() => z.zeros(2, 3).add(z.zeros(4)), /add: shapes cannot be broadcast together: \[2,3\], \[4\]/);
  assert.throws(() => z.zeros(2, 3).sum(2), /sum: dim 2 out of range/);
  assert.throws(() => z.zeros(2, 3).to('float16' as z.DType), z.DTypeError);
});

test('realize cuts the graph: realized tensors become leaves for the backend', async () => {
  const a = z.tensor([1, 2, 3]);
  const b = a.mul(2).add(1);
  assert.equal(b.isRealized, false);
  await z.realize(b);
  assert.equal(b.isRealized, true);
  assert.equal(b.inputs.length, 0);
  const g = z.buildGraph([b.mul(3)]);
  assert.equal(g.values.filter((v) => v.kind === 'input').length, 1);
  assert.deepEqual(await b.tolist(), [3, 5, 7]);
});

test('same seed, same numbers', async () => {
  z.manualSeed(42);
  const a = await z.randn(5).data();
  const d1 = await z.dropout(z.ones(20), 0.5).data();
  z.manualSeed(42);
  const b = await z.randn(5).data();
  const d2 = await z.dropout(z.ones(20), 0.5).data();
  assert.deepEqual(a, b);
  assert.deepEqual(d1, d2);
  z.manualSeed(43);
  assert.notDeepEqual(await z.randn(5).data(), a);
});

test('backward accumulates into leaves; noGrad and detach stop history', async () => {
  const w = z.tensor([1, 2, 3], { requiresGrad: true });
  const loss = w.mul(w).sum(); // d/dw = 2w
  loss.backward();
  assert.deepEqual(await w.grad!.tolist(), [2, 4, 6]);
  w.mul(3).sum().backward();
  assert.deepEqual(await w.grad!.tolist(), [5, 7, 9]);
  assert.equal(z.noGrad(() => w.mul(2)).requiresGrad, false);
  assert.equal(w.mul(2).detach().requiresGrad, false);
  assert.throws(() => z.tensor([1, 2]).sum().backward(), /does not require grad/);
});

test('broadcast gradients reduce back to the input shape', async () => {
  await gradcheck((a, b) => a!.mul(b!).add(b!), [z.randn(3, 1, 4, { dtype: 'float64' }), z.randn(5, 1, { dtype: 'float64' })]);
  const b = z.tensor([1, 2], { requiresGrad: true });
  const [gb] = z.grad(z.ones(3, 2).mul(b).sum(), [b]);
  assertClose(await gb!.data(), [3, 3]);
});

test('slices of one tensor: their gradients merge into a concat, gaps and overlaps included', async () => {
  // Per-step slices as an RNN takes them (axis 0, every row), a gap (row 3 unused), an overlap
  // (rows 1-2 twice), and a slice cut on two axes; each must add exactly its upstream gradient.
  const x = z.tensor(Array.from({ length: 6 }, (_, i) => [i, 10 + i, 20 + i]), { requiresGrad: true });
  const steps = [0, 1, 2, 4, 5].map((t) => x.slice(0, t, t + 1).mul(t + 1).sum());
  const overlap = x.slice(0, 1, 3).mul(100).sum();
  const corner = x.slice(0, 4, 6).slice(1, 1, 2).mul(1000).sum();
  z.grad(steps.reduce((a, b) => a.add(b)).add(overlap).add(corner), [x]);
  x.grad = null;
  steps.reduce((a, b) => a.add(b)).add(overlap).add(corner).backward();
  assert.deepEqual(await x.grad!.tolist(), [
    [1, 1, 1], [102, 102, 102], [103, 103, 103], [0, 0, 0], [5, 1005, 5], [6, 1006, 6],
  ]);
  // Finite differences through a split whose pieces feed a recurrence.
  await gradcheck((a) => {
    const parts = z.split(a!, 1, 1);
    let h = parts[0]!;
    for (const p of parts.slice(1)) h = h.mul(p).add(p).tanh();
    return h.sum();
  }, [z.randn(3, 5, { dtype: 'float64' })]);
});

test('Generator.dropoutMask draws exactly what n calls to random() >= p would, and leaves the same state', () => {
  for (const p of [0.1, 0.3, 0.5, 1 / 3, 0.9, 2 ** -24, 0.999999]) {
    const a = new z.Generator(7);
    const b = new z.Generator(7);
    const expected = Float32Array.from({ length: 10007 }, () => (a.random() >= p ? 2.5 : 0));
    const mask = b.dropoutMask(10007, p, 2.5);
    assert.deepEqual(mask, expected, `p=${p}`);
    assert.deepEqual(b.getState(), a.getState(), `state after p=${p}`);
    assert.equal(b.random(), a.random());
  }
  // The kept fraction is 1 - p (binomial, 100k draws: 5 sigma is about 0.007).
  const kept = new z.Generator(1).dropoutMask(100000, 0.3).reduce((s, v) => s + v, 0) / 100000;
  assert.ok(Math.abs(kept - 0.7) < 0.007, `kept ${kept}`);
});
