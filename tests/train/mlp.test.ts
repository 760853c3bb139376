/** A 2-layer MLP learns two interleaved spirals with plain SGD, written against the public API only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, type Tensor, argmax, getBackend, noGrad, realize, setBackend, tensor } from '../../src/index.js';
import { backendsUnderTest } from '../ops/backends.js';

function spirals(n: number, g: Generator): { x: Tensor; y: Tensor } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 2 + 0.1;
      const t = (i / n) * 3 * Math.PI + c * Math.PI;
      xs.push(r * Math.cos(t) + 0.05 * g.normal(), r * Math.sin(t) + 0.05 * g.normal());
      ys.push(c);
    }
  }
  return { x: tensor(xs, { shape: [2 * n, 2] }), y: tensor(ys, { dtype: 'int32' }) };
}

async function trainSpirals(): Promise<number> {
  const g = new Generator(7);
  const { x, y } = spirals(200, g);
  const hidden = 64;
  const init = (rows: number, cols: number, scale: number): Tensor =>
    tensor(Array.from({ length: rows * cols }, () => g.normal() * scale), { shape: [rows, cols], requiresGrad: true });
  const w1 = init(2, hidden, 3);
  const b1 = tensor(new Array(hidden).fill(0), { requiresGrad: true });
  const w2 = init(hidden, 2, 1 / Math.sqrt(hidden));
  const b2 = tensor([0, 0], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const forward = (inp: Tensor): Tensor => inp.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
  for (let step = 0; step < 1500; step++) {
    const loss = forward(x).logSoftmax(1).gather(1, y.unsqueeze(1)).mean().neg();
    for (const p of params) p.grad = null;
    loss.backward();
    const next = noGrad(() => params.map((p) => p.sub(p.grad!.mul(0.5))));
    await realize(loss, ...next);
    params.forEach((p, i) => p.assign(next[i]!));
  }
  const pred = await noGrad(() => argmax(forward(x), 1)).data();
  const labels = await y.data();
  return pred.filter((p, i) => p === labels[i]).length / labels.length;
}

// Every backend under test (ZHUYI_TEST_BACKENDS; default js, ort and the active one, as the op suite).
for (const backend of backendsUnderTest()) {
  test(`two-spirals MLP reaches >= 98% accuracy with plain SGD (${backend})`, async (t) => {
    const prev = getBackend();
    setBackend(backend);
    try {
      const started = performance.now();
      const acc = await trainSpirals();
      t.diagnostic(`accuracy ${acc.toFixed(4)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      assert.ok(acc >= 0.98, `accuracy ${acc}`);
    } finally {
      setBackend(prev);
    }
  });
}
