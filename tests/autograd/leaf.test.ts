/**
 * Leaf semantics as PyTorch's: a tensor is a leaf unless an op made it from inputs that require grad
 * (`grad_fn is not None`). The oracle for each case is what PyTorch does with the same program.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import { assertClose } from '../helpers.js';

test('issue 21: a realized op result without history is a leaf; requiresGrad_ then grad works', async () => {
  const w = z.randn([3]).mul(0.5);
  await z.realize(w);
  w.requiresGrad_(); // PyTorch: (torch.randn(3) * 0.5).requires_grad_() is a leaf
  const [g] = z.grad(w.mul(w).sum(), [w]); // d(sum w^2)/dw = 2w; threw TypeError before
  assertClose(await g!.data(), Array.from(await w.data(), (v) => 2 * v));
  assert.equal(w.isLeaf, true);
});

test('an unrealized op result without history is a leaf too: gradients stop at it', async () => {
  const x = z.tensor([1, 2, 3]);
  const w = x.mul(0.5); // lazy; PyTorch: (x * 0.5).is_leaf is True
  assert.equal(w.isLeaf, true);
  w.requiresGrad_();
  w.mul(w).sum().backward();
  assert.deepEqual(await w.grad!.tolist(), [1, 2, 3]); // 2w
  assert.equal(x.grad, null);
  assert.equal(x.requiresGrad, false);
  assert.deepEqual(await w.tolist(), [0.5, 1, 1.5]); // its own values still compute through its op
});

test('backward accumulates into a realized leaf made by ops, and an optimizer can update it', async () => {
  const w = z.tensor([1, 2, 3]).add(1);
  await z.realize(w);
  w.requiresGrad_();
  w.mul(w).sum().backward();
  assert.deepEqual(await w.grad!.tolist(), [4, 6, 8]);
  w.sum().backward();
  assert.deepEqual(await w.grad!.tolist(), [5, 7, 9]);
  const opt = new z.optim.SGD([w], { lr: 0.1 });
  await opt.step();
  assertClose(await w.data(), [2 - 0.5, 3 - 0.7, 4 - 0.9]);
});

test('a tensor made from one that requires grad is not a leaf, before and after realize', async () => {
  const x = z.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(2);
  assert.equal(x.isLeaf, true);
  assert.equal(y.isLeaf, false);
  await z.realize(y);
  assert.equal(y.isLeaf, false); // PyTorch keeps grad_fn after computing values
  assert.equal(y.requiresGrad_(), y); // PyTorch: requires_grad_(True) on a non-leaf is allowed (a no-op)
  assert.throws(() => y.requiresGrad_(false), (e: Error) => e instanceof z.ZhuyiError && /you can only change requires_grad flags of leaf variables\. If you want to use a computed variable in a subgraph that doesn't require differentiation use/.test(e.message));
  y.sum().backward();
  assert.deepEqual(await x.grad!.tolist(), [2, 2, 2]);
  assert.equal(y.grad, null); // PyTorch keeps .grad of non-leaves only with retain_grad
  assert.throws(() => y.assign(z.tensor([0, 0, 0])), /only leaf tensors can be assigned/);
});

test('noGrad results and detach are leaves; requiresGrad_(false) on a leaf is allowed; ints cannot require grad', async () => {
  const x = z.tensor([1, 2], { requiresGrad: true });
  const n = z.noGrad(() => x.mul(2));
  assert.equal(n.isLeaf, true);
  assert.equal(x.mul(2).detach().isLeaf, true);
  const d = x.mul(3).detach().requiresGrad_();
  d.sum().backward(); // the gradient stops at d: x gets none
  assert.deepEqual(await d.grad!.tolist(), [1, 1]);
  assert.equal(x.grad, null);
  assert.equal(x.requiresGrad_(false).requiresGrad, false);
  assert.throws(() => z.tensor([1, 2], { dtype: 'int32' }).requiresGrad_(), /requiresGrad_: only Tensors of floating point dtype can require gradients, got int32/);
});
