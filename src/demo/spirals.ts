/**
 * The built-in demo until the translation and BERT demos land: a 2-layer MLP learns the
 * two-spirals problem with plain SGD, written against zhuyi's public tensor API.
 */
import * as F from '../ops/functional.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Generator } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor, tensor } from '../tensor/tensor.js';
import { randn } from '../tensor/creation.js';

/** Two interleaved spirals, `n` points per class, with Gaussian noise; labels 0/1. */
export function twoSpirals(n: number, g: Generator, noise = 0.1): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(4 * n);
  const ys = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const r = (i / n) * 1.0 + 0.05;
    const t = (i / n) * 3 * Math.PI;
    for (let c = 0; c < 2; c++) {
      const k = c * n + i;
      const sgn = c === 0 ? 1 : -1;
      xs[2 * k] = sgn * r * Math.cos(t) * 2 + noise * g.normal() * r;
      xs[2 * k + 1] = sgn * r * Math.sin(t) * 2 + noise * g.normal() * r;
      ys[k] = c;
    }
  }
  return { x: tensor(xs, { shape: [2 * n, 2] }), y: tensor(ys) };
}

export interface SpiralsResult { accuracy: number; loss: number; steps: number }

export async function runSpirals({ steps = 1500, hidden = 64, lr = 0.5, inputScale = 3, seed = 0, log = (_: string) => {} } = {}): Promise<SpiralsResult> {
  const g = new Generator(seed);
  const { x, y } = twoSpirals(200, g);
  const scaled = (rows: number, cols: number, s: number): Tensor => tensor(randn(rows, cols, { generator: g }).buffer!.map((v) => v * s), { shape: [rows, cols], requiresGrad: true });
  // A wide first-layer init gives the tanh units the high-frequency features the spirals need.
  const w1 = scaled(2, hidden, inputScale);
  const b1 = tensor(new Float32Array(hidden), { requiresGrad: true });
  const w2 = scaled(hidden, 2, 1 / Math.sqrt(hidden));
  const b2 = tensor(new Float32Array(2), { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const forward = (inp: Tensor): Tensor => F.add(F.matmul(F.tanh(F.add(F.matmul(inp, w1), b1)), w2), b2);
  let loss = 0;
  for (let step = 1; step <= steps; step++) {
    const logits = forward(x);
    // Cross-entropy from log-softmax and a gather of the target class.
    const nll = F.neg(F.mean(F.gather(F.logSoftmax(logits, 1), 1, F.unsqueeze(y, 1))));
    for (const p of params) p.grad = null;
    nll.backward();
    const updated = noGrad(() => params.map((p) => F.sub(p, F.mul(p.grad!, lr))));
    await realize(nll, ...updated);
    params.forEach((p, i) => p.assign(updated[i]!));
    loss = nll.buffer![0]!;
    if (step % 250 === 0) log(`step ${step}  loss ${loss.toFixed(4)}`);
  }
  const pred = await noGrad(() => F.argmax(forward(x), 1)).data();
  const labels = await y.data();
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) right++;
  return { accuracy: right / labels.length, loss, steps };
}
