/**
 * Initialisation: PyTorch's default per layer and the init functions, checked against their
 * formulas (support bounds, moments) on large draws, and seeded reproducibility.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';

async function stats(t: z.Tensor): Promise<{ min: number; max: number; mean: number; std: number }> {
  const v = await t.data();
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (const x of v) { s += x; s2 += x * x; min = Math.min(min, x); max = Math.max(max, x); }
  const mean = s / v.length;
  return { min, max, mean, std: Math.sqrt(s2 / v.length - mean * mean) };
}

/** U(-b, b): inside the bounds, reaching close to them, std b / sqrt(3) within 3%. */
async function assertUniform(t: z.Tensor, b: number, what: string): Promise<void> {
  const s = await stats(t);
  assert.ok(s.min >= -b && s.max <= b, `${what}: values outside [-${b}, ${b}]: ${s.min}, ${s.max}`);
  assert.ok(s.min < -0.95 * b && s.max > 0.95 * b, `${what}: does not fill [-${b}, ${b}]: ${s.min}, ${s.max}`);
  assert.ok(Math.abs(s.std / (b / Math.sqrt(3)) - 1) < 0.03, `${what}: std ${s.std}, expected ${b / Math.sqrt(3)}`);
}

async function assertNormal(t: z.Tensor, std: number, what: string): Promise<void> {
  const s = await stats(t);
  assert.ok(Math.abs(s.mean) < 0.05 * std, `${what}: mean ${s.mean}`);
  assert.ok(Math.abs(s.std / std - 1) < 0.03, `${what}: std ${s.std}, expected ${std}`);
}

describe('init functions (PyTorch formulas)', () => {
  test('fans as PyTorch: (out, in, k...) -> fanIn = in * k, fanOut = out * k', () => {
    assert.deepEqual(z.init.fans([6, 4]), [4, 6]);
    assert.deepEqual(z.init.fans([6, 4, 3, 3]), [36, 54]);
    assert.throws(() => z.init.fans([5]), /at least 2 dims/);
  });
  test('xavierUniform bound gain * sqrt(6 / (fanIn + fanOut)); xavierNormal std gain * sqrt(2 / (fanIn + fanOut))', async () => {
    await assertUniform(z.init.xavierUniform([300, 200], 2), 2 * Math.sqrt(6 / 500), 'xavierUniform');
    await assertNormal(z.init.xavierNormal([300, 200]), Math.sqrt(2 / 500), 'xavierNormal');
  });
  test('kaimingUniform bound sqrt(2 / (1 + a^2)) * sqrt(3 / fan); kaimingNormal', async () => {
    await assertUniform(z.init.kaimingUniform([300, 200]), Math.sqrt(2) * Math.sqrt(3 / 200), 'kaimingUniform fanIn');
    await assertUniform(z.init.kaimingUniform([300, 200], Math.sqrt(5), 'fanOut'), Math.sqrt(2 / 6) * Math.sqrt(3 / 300), 'kaimingUniform a=sqrt5 fanOut');
    await assertNormal(z.init.kaimingNormal([300, 200]), Math.sqrt(2 / 200), 'kaimingNormal');
  });
  test('normal(mean, std), truncNormal within 2 std', async () => {
    await assertNormal(z.init.normal([200, 300], 0, 0.02), 0.02, 'normal');
    const s = await stats(z.init.truncNormal([200, 300], 0, 0.5));
    assert.ok(s.min >= -1 && s.max <= 1 && s.max > 0.99);
  });
  test('same seed, same draws', async () => {
    const a = await z.init.xavierUniform([4, 5], 1, new z.Generator(9)).data();
    const b = await z.init.xavierUniform([4, 5], 1, new z.Generator(9)).data();
    assert.deepEqual([...a], [...b]);
  });
});

describe('default init per layer (as torch.nn)', () => {
  test('Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in))', async () => {
    const m = new z.Linear(400, 300);
    await assertUniform(m.weight, 1 / 20, 'Linear.weight');
    const b = await stats(m.bias!);
    assert.ok(b.min >= -1 / 20 && b.max <= 1 / 20);
  });
  test('Embedding: N(0, 1), the padding row zero', async () => {
    const m = new z.Embedding(500, 200, { paddingIdx: 3 });
    await assertNormal(m.weight, 1, 'Embedding.weight');
    assert.ok([...(await m.weight.data()).subarray(600, 800)].every((v) => v === 0));
  });
  test('LayerNorm: weight 1, bias 0', async () => {
    const m = new z.LayerNorm(7);
    assert.deepEqual([...(await m.weight!.data())], new Array(7).fill(1));
    assert.deepEqual([...(await m.bias!.data())], new Array(7).fill(0));
  });
  test('GRU/LSTM: every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden))', async () => {
    const param = (m: z.Module, k: string): z.Tensor => new Map(m.namedParameters()).get(k)!;
    for (const m of [new z.GRU(100, 400), new z.LSTM(100, 400)]) {
      for (const [k, p] of m.namedParameters()) {
        const s = await stats(p);
        assert.ok(s.min >= -1 / 20 && s.max <= 1 / 20, `${k}: ${s.min}..${s.max}`);
      }
      await assertUniform(param(m, 'weight_hh_l0'), 1 / 20, 'weight_hh_l0');
    }
  });
  test('MultiheadAttention: in_proj xavier_uniform on (3E, E), zero in/out biases', async () => {
    const m = new z.MultiheadAttention(256, 8);
    const param = (k: string): z.Tensor => new Map(m.namedParameters()).get(k)!;
    await assertUniform(param('in_proj_weight'), Math.sqrt(6 / (256 + 768)), 'in_proj_weight');
    assert.ok([...(await param('in_proj_bias').data())].every((v) => v === 0));
    assert.ok([...(await param('out_proj.bias').data())].every((v) => v === 0));
  });
});
