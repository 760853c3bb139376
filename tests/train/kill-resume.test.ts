/**
 * SIGKILL at three moments (mid-run with a half-written log line, mid-way through a checkpoint write,
 * during validation), --resume after each: the run ends with the weights, AdamW moments and log of
 * an uninterrupted run, bit for bit, and no half-written checkpoint is trusted or left behind.
 * Each kill lands where it should without timing: the child stops there and waits (fixtures/kill-child.ts).
 * The long version on Multi30k is `npm run soak` (scripts/soak.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { ROOT } from '../helpers.js';

const CHILD = join(ROOT, 'tests', 'train', 'fixtures', 'kill-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'zhuyi-kill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child; with `stopAt`, SIGKILLs it once it reports being there. Resolves with how it ended. */
function run(out: string, resume: boolean, stopAt?: string): Promise<{ killed: boolean; code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, out, ...(resume ? ['--resume'] : [])], {
    cwd: ROOT, env: { ...process.env, STOP_AT: stopAt ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stopAt && !killed && stdout.includes('STOPPED')) { killed = true; child.kill('SIGKILL'); }
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => child.on('exit', (code) => {
    if (!killed && code !== 0) reject(new Error(`kill-child exited with ${code}: ${stderr}`));
    else resolve({ killed, code, stdout });
  }));
}

const step = (out: string): number => loadCheckpoint<{ step: number }>(join(out, 'last.safetensors')).state.step;
const temps = (out: string): string[] => readdirSync(out).filter((f) => f.endsWith('.tmp'));
const logLines = (out: string): string[] => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as Record<string, number>).map(({ tokens_per_s: _t, ...r }) => JSON.stringify(r));

test('3 SIGKILLs (mid-run, mid checkpoint write, in the epoch-end validation) and --resume: the uninterrupted run\'s weights, bit for bit', async () => {
  const reference = join(dir, 'reference');
  const killed = join(dir, 'killed');
  const ref = await run(reference, false);
  assert.match(ref.stdout, /FINISHED \d+/);

  // 1. After the 5th step's update (checkpoint of step 3 on disk), in the middle of its log line.
  const a = await run(killed, false, 'step:5');
  assert.equal(a.stdout.trim(), 'STOPPED step');
  assert.equal(step(killed), 3);
  assert.ok(!readFileSync(join(killed, 'log.jsonl'), 'utf8').endsWith('\n'), 'the kill left a cut log line');

  // 2. Resumed at 3; killed in its second write of last.safetensors (step 9), half the bytes in the temp file.
  const b = await run(killed, true, 'write:2');
  assert.equal(b.stdout.trim(), 'STOPPED write');
  assert.equal(temps(killed).length, 1, 'the kill left the half-written temp file');
  assert.equal(step(killed), 6, 'last.safetensors is still the previous checkpoint, whole');

  // 3. Resumed at 6 (the temp file removed); killed in its third validation, the one that ends epoch 1
  // (step 14 of 14 per epoch; validations at 8, 12, 14), before the epoch's checkpoint: the last
  // resume starts at 12 and crosses into epoch 2, whose data order must be the uninterrupted run's.
  const c = await run(killed, true, 'validation:3');
  assert.equal(c.stdout.trim(), 'STOPPED validation');
  assert.deepEqual(temps(killed), []);
  assert.equal(step(killed), 12);

  const d = await run(killed, true);
  assert.equal(d.stdout.trim(), ref.stdout.trim());
  assert.deepEqual(temps(killed), []);

  // Weights and AdamW moments bitwise equal; the trainer state too (step, data position, RNG, schedule, best).
  const x = loadSafetensors(join(reference, 'last.safetensors'));
  const y = loadSafetensors(join(killed, 'last.safetensors'));
  assert.deepEqual([...y.tensors.keys()], [...x.tensors.keys()]);
  assert.ok([...x.tensors.keys()].some((k) => k.startsWith('optimizer.')));
  for (const [name, t] of x.tensors) {
    const u = y.tensors.get(name)!;
    assert.ok(Buffer.from(u.buffer!.buffer).equals(Buffer.from(t.buffer!.buffer)), `${name} differs after the kills and resumes`);
  }
  assert.equal(y.metadata['zhuyi.trainer'], x.metadata['zhuyi.trainer']);
  // The log equals the uninterrupted one line for line (the cut line dropped), validations included.
  assert.deepEqual(logLines(killed), logLines(reference));
  assert.ok(logLines(reference).some((l) => l.includes('valid_loss')));
  assert.ok(existsSync(join(killed, 'best.safetensors')));
});
