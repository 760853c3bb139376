/** The shared training loop: exact resume, Ctrl-C-style stop, the NaN guard, best/last checkpoints and the JSONL log. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { train, TrainingError } from '../../src/train/trainer.js';
import { makeTask } from './fixtures/regression-task.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

async function weights(m: z.Module): Promise<number[]> {
  const out: number[] = [];
  for (const p of m.parameters()) out.push(...(await p.data()));
  return out;
}

describe('trainer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-trainer-'));
  const opts = { epochs: 3, lr: 0.05, warmup: 2, schedule: 'linear' as const, progress: false, logEvery: 1 };

  test('stop at step 5, resume: the same final weights as an uninterrupted run', async () => {
    z.manualSeed(0);
    const a = makeTask();
    const full = await train(a, { ...opts, outDir: join(dir, 'full') });
    assert.equal(full.steps, 12);
    z.manualSeed(0);
    const b = makeTask();
    const first = await train(b, { ...opts, outDir: join(dir, 'split'), stopAfterSteps: 5 });
    assert.deepEqual([first.steps, first.interrupted], [5, true]);
    z.manualSeed(1234); // the checkpoint must restore the global RNG (dropout), whatever it is now
    const c = makeTask();
    const rest = await train(c, { ...opts, outDir: join(dir, 'split'), resume: true });
    assert.equal(rest.steps, 12);
    assert.deepEqual(await weights(c.model), await weights(a.model));
    // The log of the resumed run equals the uninterrupted one line for line (train lines; times differ).
    const lines = (p: string): string[] => readFileSync(join(dir, p, 'log.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>).map(({ tokens_per_s: _t, ...r }) => JSON.stringify(r));
    assert.deepEqual(lines('split'), lines('full'));
    assert.ok(existsSync(join(dir, 'full', 'best.safetensors')));
  });

  test('validEvery validates mid-epoch without changing the trajectory, once per step, and keeps the best', async () => {
    z.manualSeed(0);
    const plain = makeTask();
    await train(plain, { ...opts, outDir: join(dir, 'plain') });
    const validSteps = (p: string): Array<[number, number, number]> => readFileSync(join(dir, p, 'log.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>).filter((r) => r.valid_loss !== undefined).map((r) => [r.step!, r.epoch!, r.valid_loss!]);
    for (const [every, want] of [[2, [2, 4, 6, 8, 10, 12]], [3, [3, 4, 6, 8, 9, 12]]] as const) {
      z.manualSeed(0);
      const t = makeTask();
      const r = await train(t, { ...opts, outDir: join(dir, `every${every}`), validEvery: every });
      assert.deepEqual(await weights(t.model), await weights(plain.model));
      const v = validSteps(`every${every}`);
      assert.deepEqual(v.map((x) => x[0]), want);
      // Mid-epoch lines carry the epoch in progress: step 3 is in epoch 1, step 6 in epoch 2.
      assert.deepEqual(v.map((x) => x[1]), want.map((s) => Math.ceil(s / 4)));
      const min = v.reduce((a, b) => (b[2] < a[2] ? b : a));
      assert.deepEqual([r.best!.step, r.best!.value], [min[0], min[2]]);
      assert.equal(loadCheckpoint<{ step: number }>(join(dir, `every${every}`, 'best.safetensors')).state.step, min[0]);
    }
  });

  test('the summary counts the ONNX Runtime sessions a run compiled and their seconds', async () => {
    const previous = z.getBackend();
    z.setBackend('ort');
    z.configureOrt({ graphOptimizationLevel: 'basic' }); // a changed option empties the session cache
    try {
      z.manualSeed(0);
      const fresh = await train(makeTask(), { ...opts, outDir: join(dir, 'compiled-1') });
      assert.ok(fresh.sessionsCompiled >= 2, `train step and validation graphs: ${fresh.sessionsCompiled}`);
      assert.ok(fresh.compileSeconds > 0);
      z.manualSeed(0);
      const again = await train(makeTask(), { ...opts, outDir: join(dir, 'compiled-2') });
      assert.deepEqual([again.sessionsCompiled, again.compileSeconds], [0, 0]);
    } finally {
      z.configureOrt({ graphOptimizationLevel: undefined });
      z.setBackend(previous);
    }
  });

  test('refuses to overwrite a run without --resume', async () => {
    await assert.rejects(train(makeTask(), { ...opts, outDir: join(dir, 'full') }), /last\.safetensors exists: pass --resume/);
  });

  test('a NaN loss stops with an error naming the step and keeps the last good checkpoint', async () => {
    z.manualSeed(0);
    const out = join(dir, 'nan');
    await assert.rejects(train(makeTask(7), { ...opts, outDir: out, saveEvery: 2 }), (e: Error) => e instanceof TrainingError && /loss is NaN at step 7 \(epoch 2\)/.test(e.message));
    const ck = loadCheckpoint<{ step: number }>(join(out, 'last.safetensors'));
    assert.equal(ck.state.step, 6);
    for (const t of ck.model.values()) assert.ok([...(await t.data())].every(Number.isFinite));
  });

  test('SIGINT saves last and returns interrupted', async () => {
    z.manualSeed(0);
    const task = makeTask();
    const loss = task.loss.bind(task);
    let n = 0;
    task.loss = (b) => { if (++n === 3) process.emit('SIGINT', 'SIGINT'); return loss(b); };
    const out = join(dir, 'sigint');
    const r = await train(task, { ...opts, outDir: out });
    assert.deepEqual([r.interrupted, r.steps], [true, 3]);
    assert.equal(loadCheckpoint<{ step: number }>(join(out, 'last.safetensors')).state.step, 3);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
