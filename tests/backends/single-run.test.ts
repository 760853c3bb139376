/** A whole training step (forward, backward, SGD update) realizes in exactly one ONNX Runtime run. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';

test('one realize of [loss, updated params] is one ort session run; the next step hits the session cache', async () => {
  const prev = z.getBackend();
  z.setBackend('ort');
  try {
    z.manualSeed(3);
    const w1 = z.randn(8, 16, { requiresGrad: true });
    const w2 = z.randn(16, 4, { requiresGrad: true });
    const x = z.randn(32, 8);
    const target = z.randint(0, 4, [32]);
    const step = async (): Promise<number> => {
      const logits = z.layerNorm(x.matmul(w1).gelu(), 16).matmul(w2);
      const loss = logits.logSoftmax(-1).gather(1, target.unsqueeze(1)).mean().neg();
      const [g1, g2] = z.grad(loss, [w1, w2]);
      const next = z.noGrad(() => [w1.sub(g1!.mul(0.1)), w2.sub(g2!.mul(0.1))]);
      await z.realize(loss, ...next);
      w1.assign(next[0]!);
      w2.assign(next[1]!);
      return loss.item();
    };
    await step(); // warm: compiles the session
    z.resetOrtStats();
    const before = z.ortStats();
    const l1 = await step();
    const after = z.ortStats();
    assert.equal(after.runs - before.runs, 1, 'exactly one ONNX Runtime run per training step');
    assert.equal(after.misses - before.misses, 0, 'the second step reuses the compiled session');
    assert.equal(after.hits - before.hits, 1);
    const l2 = await step();
    assert.ok(l2 < l1, `loss decreases: ${l1} -> ${l2}`);
  } finally {
    z.setBackend(prev);
  }
});
