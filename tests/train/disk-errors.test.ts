/**
 * Disk errors lose nothing: a checkpoint save that fails midway (ENOSPC after part of the file is
 * written, injected into fs.writeSync, or a really full tmpfs) leaves the previous checkpoint
 * loadable, leaves no temp file, and the error names the path and the cause.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as z from '../../src/index.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { makeTask } from './fixtures/regression-task.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-disk-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type WriteSync = (fd: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null) => number;

/**
 * Makes fs.writeSync to files whose path matches `match` accept at most `chunk` bytes per call
 * (short writes, which the OS may do) and fail with ENOSPC once `budget` bytes have gone in.
 * Returns the function that restores fs. ESM imports of node:fs see the change (syncBuiltinESMExports).
 */
function injectWriteFaults(match: RegExp, { budget = Infinity, chunk = Infinity }: { budget?: number; chunk?: number }): () => void {
  const open = fs.openSync;
  const write = fs.writeSync as unknown as WriteSync;
  const paths = new Map<number, string>();
  let left = budget;
  fs.openSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    const fd = (open as (...a: unknown[]) => number)(path, ...rest);
    paths.set(fd, String(path));
    return fd;
  }) as typeof fs.openSync;
  const faulty: WriteSync = (fd, buffer, offset = 0, length = buffer.byteLength - offset, position) => {
    if (typeof buffer === 'string' || !match.test(paths.get(fd) ?? '')) return write(fd, buffer, offset, length, position);
    if (left <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    const n = Math.min(length, chunk, left);
    left -= n;
    return write(fd, buffer, offset, n, position);
  };
  fs.writeSync = faulty as unknown as typeof fs.writeSync;
  syncBuiltinESMExports();
  return () => {
    fs.openSync = open;
    fs.writeSync = write as unknown as typeof fs.writeSync;
    syncBuiltinESMExports();
  };
}

const values = (n: number, v: number): z.Tensor => z.tensor(Float32Array.from({ length: n }, (_, i) => v + i));

test('short writes (the OS may accept part of a buffer) still give the whole file', async () => {
  const path = join(dir, 'short.safetensors');
  const restore = injectWriteFaults(/short\.safetensors/, { chunk: 1000 });
  try {
    await saveCheckpoint(path, { w: values(5000, 1) }, {}, { step: 1 });
  } finally {
    restore();
  }
  const ck = loadCheckpoint<{ step: number }>(path);
  assert.equal(ck.state.step, 1);
  assert.deepEqual(await ck.model.get('w')!.data(), await values(5000, 1).data());
});

test('ENOSPC halfway through a checkpoint save: the previous checkpoint loads, no temp file, the error names path and cause', async () => {
  const sub = join(dir, 'enospc');
  mkdirSync(sub);
  const path = join(sub, 'last.safetensors');
  await saveCheckpoint(path, { w: values(5000, 1) }, { 'state.0.exp_avg': values(5000, 2) }, { step: 1 });
  const restore = injectWriteFaults(/last\.safetensors/, { budget: 20_000 }); // about half of the 40 KB file
  let error: unknown;
  try {
    await saveCheckpoint(path, { w: values(5000, 100) }, { 'state.0.exp_avg': values(5000, 200) }, { step: 2 });
  } catch (e) {
    error = e;
  } finally {
    restore();
  }
  assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
  assert.equal((error as Error).message, `saveCheckpoint: could not write ${path} (ENOSPC: no space left on device, write); the previous checkpoint is unchanged`);
  assert.deepEqual(readdirSync(sub), ['last.safetensors']);
  const ck = loadCheckpoint<{ step: number }>(path);
  assert.equal(ck.state.step, 1);
  assert.deepEqual(await ck.model.get('w')!.data(), await values(5000, 1).data());
  assert.deepEqual(await ck.optimizer.get('state.0.exp_avg')!.data(), await values(5000, 2).data());
});

test('a really full filesystem (a 128 KB tmpfs): the second save fails, the first checkpoint loads', async (t) => {
  const mnt = join(dir, 'tmpfs');
  mkdirSync(mnt);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mnt]);
  if (mounted.status !== 0) { t.skip('cannot mount a tmpfs here (needs root)'); return; }
  try {
    const path = join(mnt, 'last.safetensors');
    await saveCheckpoint(path, { w: values(20_000, 1) }, {}, { step: 1 }); // 80 KB: fits once, not twice
    await assert.rejects(saveCheckpoint(path, { w: values(20_000, 7) }, {}, { step: 2 }), (e: Error) =>
      e instanceof CheckpointError && e.message === `saveCheckpoint: could not write ${path} (ENOSPC: no space left on device, write); the previous checkpoint is unchanged`);
    assert.deepEqual(readdirSync(mnt), ['last.safetensors']);
    const ck = loadCheckpoint<{ step: number }>(path);
    assert.equal(ck.state.step, 1);
    assert.deepEqual(await ck.model.get('w')!.data(), await values(20_000, 1).data());
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('training stops on a failed save with the path and cause; --resume continues from the last good checkpoint', async () => {
  const out = join(dir, 'run');
  const opts = { epochs: 2, lr: 0.05, warmup: 1, progress: false, saveEvery: 1 };
  await train(makeTask(), { ...opts, outDir: out, stopAfterSteps: 3 });
  assert.equal(loadCheckpoint<{ step: number }>(join(out, 'last.safetensors')).state.step, 3);
  const restore = injectWriteFaults(/last\.safetensors/, { budget: 100 });
  try {
    await assert.rejects(train(makeTask(), { ...opts, outDir: out, resume: true }), (e: Error) =>
      e instanceof CheckpointError && e.message.includes(`could not write ${join(out, 'last.safetensors')} (ENOSPC: no space left on device, write); the previous checkpoint is unchanged`));
  } finally {
    restore();
  }
  assert.equal(loadCheckpoint<{ step: number }>(join(out, 'last.safetensors')).state.step, 3);
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock')), []);
  const resumed = await train(makeTask(), { ...opts, outDir: out, resume: true });
  assert.equal(resumed.steps, 8);
  assert.ok(existsSync(join(out, 'last.safetensors')));
});
