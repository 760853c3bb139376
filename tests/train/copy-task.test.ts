/**
 * The Transformer encoder learns a generated sequence task end to end on the ort backend, through the
 * public API only: embedding + sinusoidal positions + 2 encoder layers (dropout 0), crossEntropy,
 * AdamW with warmup, clipGradNorm, one realize per step. The task is the reversed copy (output
 * position t holds input token T-1-t): a plain copy needs no attention, a reversal needs both
 * attention and positions. Held-out sequences must come out 100% right.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';

const V = 10;
const T = 8;
const D = 64;

class Reverser extends z.Module {
  embed = new z.Embedding(V, D);
  pos = new z.SinusoidalPositionalEncoding(D, { batchFirst: true, maxLen: T });
  encoder = new z.TransformerEncoder((_) => new z.TransformerEncoderLayer(D, 4, { dimFeedforward: 128, dropout: 0, batchFirst: true }), 2);
  head = new z.Linear(D, V);
  forward(x: z.Tensor): z.Tensor {
    return this.head.forward(this.encoder.forward(this.pos.forward(this.embed.forward(x))));
  }
}

function batch(g: z.Generator, n: number): { x: z.Tensor; y: z.Tensor } {
  const x = z.randint(0, V, [n, T], { generator: g });
  return { x, y: z.indexSelect(x, 1, z.arange(T - 1, -1, -1, { dtype: 'int32' })) };
}

test('Transformer encoder learns reversed copy to 100% token accuracy (ort)', async (t) => {
  const prev = z.getBackend();
  z.setBackend('ort');
  try {
    z.manualSeed(0);
    const g = new z.Generator(1);
    const model = new Reverser();
    const opt = new z.optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
    const sched = new z.optim.LambdaLR(opt, z.optim.constantWarmupLambda(50));
    const started = performance.now();
    const accuracy = async (set: { x: z.Tensor; y: z.Tensor }): Promise<number> => {
      const pred = await z.noGrad(() => z.argmax(model.forward(set.x), -1)).data();
      const want = await set.y.data();
      return pred.filter((p, i) => p === want[i]).length / want.length;
    };
    // Stop once a validation set is all right (checked when the batch loss is small); the
    // held-out test set below is never seen before the end.
    const valid = batch(new z.Generator(998), 512);
    let loss = Infinity;
    let step = 0;
    for (; step < 1500; step++) {
      const { x, y } = batch(g, 64);
      opt.zeroGrad();
      const l = z.crossEntropy(model.forward(x).reshape(-1, V), y.reshape(-1));
      l.backward();
      z.clipGradNorm(model.parameters(), 1);
      await opt.step(l);
      sched.step();
      loss = await l.item();
      if (loss < 0.002 && (await accuracy(valid)) === 1) break;
    }
    model.eval();
    const acc = await accuracy(batch(new z.Generator(999), 512));
    t.diagnostic(`reversed copy: token accuracy ${acc} after ${step + 1} steps (loss ${loss.toFixed(4)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(acc, 1, `token accuracy ${acc}`);
  } finally {
    z.setBackend(prev);
  }
});
