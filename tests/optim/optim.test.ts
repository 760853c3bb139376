/**
 * SGD, Adam, AdamW, clipGradNorm and LambdaLR schedules against PyTorch 1.13
 * (tests/golden/gen_optim.py): 20 steps on a small MLP end at PyTorch's parameters within 1e-5.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { GOLDEN, assertClose } from '../helpers.js';
import { goldenBackends, onBackend } from '../nn/module-golden.js';

const { optim } = z;
const { tensors, metadata } = z.parseSafetensors(new Uint8Array(readFileSync(join(GOLDEN, 'optim.safetensors'))), 'optim.safetensors');
const STEPS = Number(metadata.steps);
interface CaseSpec { optimizer: 'SGD' | 'Adam' | 'AdamW'; options: Record<string, unknown>; clip: number | null; schedule: string | null; groups: boolean }
const CASES = JSON.parse(metadata.cases!) as Record<string, CaseSpec>;
const SCHEDULES = JSON.parse(metadata.schedules!) as Record<string, { warmup: number; dModel?: number; total?: number; steps: number; base: number }>;
const TOL = { rtol: 1e-5, atol: 1e-5 };

const camel = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));

async function mlp(): Promise<z.Sequential> {
  const m = new z.Sequential(new z.Linear(4, 6), new z.Tanh(), new z.Linear(6, 3));
  const init = new Map([...tensors].filter(([k]) => k.startsWith('init/')).map(([k, t]) => [k.slice(5), t]));
  await m.loadStateDict(init);
  return m;
}

function makeOptimizer(spec: CaseSpec, m: z.Module): z.optim.Optimizer {
  const options = camel(spec.options);
  let params: Iterable<z.Tensor> | z.optim.ParamGroupInput[] = m.parameters();
  if (spec.groups) {
    const named = [...m.namedParameters()];
    params = [
      { params: named.filter(([k]) => k.endsWith('weight')).map(([, p]) => p), weightDecay: 0.05 },
      { params: named.filter(([k]) => k.endsWith('bias')).map(([, p]) => p), weightDecay: 0, lr: 0.01 },
    ];
  }
  const Opt = { SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW }[spec.optimizer];
  return new Opt(params, options);
}

function scheduleFor(name: string | null, opt: z.optim.Optimizer): z.optim.LambdaLR | null {
  if (name === 'noam5') return new optim.LambdaLR(opt, optim.noamLambda(5));
  if (name === 'linear') return new optim.LambdaLR(opt, optim.linearWarmupDecayLambda(3, STEPS));
  return null;
}

/** Runs the case's 20 steps; returns the losses and the number of session runs per step (ort). */
async function train(spec: CaseSpec, m: z.Sequential, opt: z.optim.Optimizer, steps: number, sched: z.optim.LambdaLR | null): Promise<number[]> {
  const x = tensors.get('data/x')!;
  const y = tensors.get('data/y')!;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = z.crossEntropy(m.forward(x), y);
    loss.backward();
    if (spec.clip !== null) z.clipGradNorm(m.parameters(), spec.clip);
    await opt.step(loss);
    sched?.step();
    losses.push(await loss.item());
  }
  return losses;
}

describe('optimizer goldens: 20 steps equal PyTorch within 1e-5', () => {
  for (const b of goldenBackends()) {
    for (const [name, spec] of Object.entries(CASES)) {
      test(`${name} on ${b}`, async () => {
        await onBackend(b, async () => {
          const m = await mlp();
          const opt = makeOptimizer(spec, m);
          const sched = scheduleFor(spec.schedule, opt);
          z.resetOrtStats();
          const losses = await train(spec, m, opt, STEPS, sched);
          if (b === 'ort') {
            const st = z.ortStats();
            assert.equal(st.runs, STEPS, `${name}: one session run per step (forward, backward, update)`);
            assert.ok(st.misses <= 2, `${name}: ${st.misses} compiled graphs; hyperparameters must be inputs, not constants`);
          }
          assertClose(losses, await tensors.get(`${name}/loss`)!.data(), { ...TOL, what: `${name} losses` });
          for (const [k, p] of m.namedParameters()) {
            assertClose(await p.data(), await tensors.get(`${name}/param/${k}`)!.data(), { ...TOL, what: `${name} ${k}` });
          }
        });
      });
    }
  }
});

describe('optimizer state: stateDict round trip resumes exactly', () => {
  test('10 steps + save + load into a fresh optimizer + 10 steps == 20 steps', async () => {
    const spec = CASES.adamw_clip_noam!;
    const m = await mlp();
    const opt = makeOptimizer(spec, m);
    const sched = scheduleFor(spec.schedule, opt)!;
    await train(spec, m, opt, 10, sched);
    const flat = opt.flatStateDict();
    const schedState = sched.stateDict();
    const saved = z.parseSafetensors(await z.serializeSafetensors(new Map([...Object.entries(m.stateDict()), ...Object.entries(flat.tensors).map(([k, t]) => [`optimizer.${k}`, t] as [string, z.Tensor])])), 'mem');
    const m2 = await mlp();
    await m2.loadStateDict(new Map([...saved.tensors].filter(([k]) => !k.startsWith('optimizer.'))));
    const opt2 = makeOptimizer(spec, m2);
    const sched2 = scheduleFor(spec.schedule, opt2)!;
    opt2.loadFlatStateDict(new Map([...saved.tensors].filter(([k]) => k.startsWith('optimizer.')).map(([k, t]) => [k.slice(10), t])), flat.meta);
    sched2.loadStateDict(schedState);
    await train(spec, m2, opt2, 10, sched2);
    for (const [k, p] of m2.namedParameters()) {
      assertClose(await p.data(), await tensors.get(`adamw_clip_noam/param/${k}`)!.data(), { ...TOL, what: `resumed ${k}` });
    }
  });
  test('PyTorch layout and clear errors', async () => {
    const m = await mlp();
    const opt = new optim.Adam(m.parameters(), { lr: 0.1 });
    const sd = opt.stateDict();
    assert.deepEqual(sd.param_groups[0]!.params, [0, 1, 2, 3]);
    assert.equal(sd.param_groups[0]!.weight_decay, 0);
    assert.throws(() => opt.loadStateDict({ state: {}, param_groups: [] }), /saved state has 0 parameter groups, this optimizer 1/);
    assert.throws(() => new optim.SGD([], { lr: 0.1 }), /empty parameter list/);
    assert.throws(() => new optim.SGD(m.parameters(), { lr: -1 }), /invalid learning rate -1/);
    assert.throws(() => new optim.SGD(m.parameters(), { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum/);
    assert.throws(() => new optim.Adam(m.parameters(), { betas: [1, 0.9] }), /invalid betas/);
  });
});

describe('clipGradNorm', () => {
  test('hand-computed: grads (3, 4) clipped to norm 1 become (0.6, 0.8); returns 5', async () => {
    const p = z.tensor([0, 0], { requiresGrad: true });
    p.grad = z.tensor([3, 4]);
    const norm = z.clipGradNorm([p], 1);
    assertClose(await p.grad.data(), [0.6, 0.8], { rtol: 1e-5, atol: 1e-6 });
    assert.ok(Math.abs((await norm.item()) - 5) < 1e-6);
    p.grad = z.tensor([3, -4]);
    assert.equal(await z.clipGradNorm([p], 10, Infinity).item(), 4);
    assertClose(await p.grad.data(), [3, -4], { rtol: 0, atol: 0 });
  });
});

describe('schedules equal PyTorch LambdaLR', () => {
  const make = (name: string, s: (typeof SCHEDULES)[string]): z.optim.LrLambda => {
    if (name === 'noam') return optim.noamLambda(s.warmup, { dModel: s.dModel });
    if (name === 'noam_peak') return optim.noamLambda(s.warmup);
    if (name === 'linear') return optim.linearWarmupDecayLambda(s.warmup, s.total!);
    return optim.cosineWarmupLambda(s.warmup, s.total!);
  };
  for (const [name, s] of Object.entries(SCHEDULES)) {
    test(name, async () => {
      const opt = new optim.SGD([z.zeros([1], { requiresGrad: true })], { lr: s.base });
      const sched = new optim.LambdaLR(opt, make(name, s));
      const lrs: number[] = [];
      for (let i = 0; i < s.steps; i++) { lrs.push(sched.getLastLr()[0]!); sched.step(); }
      assertClose(lrs, await tensors.get(`sched/${name}`)!.data(), { rtol: 1e-12, atol: 0 });
    });
  }
  test('noam without dModel peaks at the base lr at the end of warmup', () => {
    const f = optim.noamLambda(100);
    assert.ok(Math.abs(f(100) - 1) < 1e-12 && f(99) < 1 && f(101) < 1);
  });
});
