/**
 * One training run per --out folder: a second run (another process) is refused with a message naming
 * the folder and the holder's pid; a lock left by a killed run is taken over with a notice.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as z from '../../src/index.js';
import { trainTranslator } from '../../src/translate/translator.js';
import { LOCK_FILE, RunLockError, lockRunFolder, withRunLock } from '../../src/train/lock.js';
import { CLI, ROOT, zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LOCK_TS = join(ROOT, 'src', 'train', 'lock.ts');

/** Another process holding `folder`'s lock until killed. */
async function holder(folder: string): Promise<ChildProcess> {
  const code = `const { lockRunFolder } = await import(${JSON.stringify(LOCK_TS)}); lockRunFolder(${JSON.stringify(folder)}, 'holder'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('locked')) res(); });
    child.once('exit', (c) => rej(new Error(`holder exited (${c})`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise((res) => child.once('exit', res));
}

test('a second run in a folder another live process holds is refused, naming the folder and the pid; the folder is untouched', async (t) => {
  const out = join(dir, 'busy');
  const child = await holder(out);
  t.after(() => kill9(child));
  const pattern = (fn: string) => new RegExp(`^${fn}: ${out.replace(/[/.]/g, '\\$&')} is in use by another training run \\(pid ${child.pid} on .*lock ${join(out, LOCK_FILE).replace(/[/.]/g, '\\$&')}\\)`);
  const before = readdirSync(out);
  const runs: Array<[string, () => Promise<unknown>]> = [
    ['trainTranslator', () => trainTranslator({ outDir: out, model: 'transformer', task: 'reverse' } as Parameters<typeof trainTranslator>[0])],
    ['pretrainBert', () => z.pretrainBert({ outDir: out, corpus: 'nowhere.txt' } as Parameters<typeof z.pretrainBert>[0])],
    ['finetuneBert', () => z.finetuneBert({ outDir: out, train: 'nowhere.tsv' } as Parameters<typeof z.finetuneBert>[0])],
    ['finetuneNer', () => z.finetuneNer({ outDir: out, train: 'nowhere.conll' } as Parameters<typeof z.finetuneNer>[0])],
    ['finetuneQa', () => z.finetuneQa({ outDir: out, train: 'nowhere.json' } as Parameters<typeof z.finetuneQa>[0])],
    ['finetuneMultipleChoice', () => z.finetuneMultipleChoice({ outDir: out, train: 'nowhere.jsonl' } as Parameters<typeof z.finetuneMultipleChoice>[0])],
  ];
  for (const [fn, run] of runs) {
    await assert.rejects(run(), (e: Error) => e instanceof RunLockError && pattern(fn).test(e.message), fn);
  }
  assert.deepEqual(readdirSync(out), before);
  assert.equal(JSON.parse(readFileSync(join(out, LOCK_FILE), 'utf8')).pid, child.pid);
});

test('a lock left by a killed run is taken over with a notice naming its pid; released when the run ends', async () => {
  const out = join(dir, 'stale');
  const child = await holder(out);
  const stalePid = child.pid;
  await kill9(child);
  const notices: string[] = [];
  const result = await withRunLock(out, 'train', async () => {
    assert.equal(JSON.parse(readFileSync(join(out, LOCK_FILE), 'utf8')).pid, process.pid);
    // The same process re-enters (trainTranslator holds the lock, then its train() takes it again).
    const inner = lockRunFolder(out, 'train');
    inner();
    assert.ok(existsSync(join(out, LOCK_FILE)), 'the inner release keeps the outer hold');
    return 7;
  }, (l) => notices.push(l));
  assert.equal(result, 7);
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, new RegExp(`took over the lock .*${LOCK_FILE} of a run that is no longer running \\(pid ${stalePid},`));
  assert.equal(existsSync(join(out, LOCK_FILE)), false);
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('lock')), []);
});

test('an empty lock file is a run that is starting (refused) until it is old (taken over)', () => {
  const out = join(dir, 'empty');
  mkdirSync(out);
  writeFileSync(join(out, LOCK_FILE), '');
  assert.throws(() => lockRunFolder(out, 'train'), /is in use by another training run that is starting/);
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(out, LOCK_FILE), old, old); // a crash between creating and writing the lock, a minute ago
  const notices: string[] = [];
  lockRunFolder(out, 'train', (l) => notices.push(l))();
  assert.match(notices[0]!, /pid unknown/);
});

test('two `zhuyi translate train` processes on one --out: the second stops at once with the first one\'s pid', async (t) => {
  const out = join(dir, 'cli');
  const args = ['translate', 'train', '--model', 'transformer', '--task', 'reverse', '--size', 'tiny', '--task-size', '400', '--valid-size', '40',
    '--epochs', '50', '--batch-tokens', '256', '--out', out];
  const first = spawn(process.execPath, [...CLI, ...args], { stdio: 'ignore' });
  t.after(() => kill9(first));
  const t0 = Date.now();
  while (!existsSync(join(out, LOCK_FILE))) {
    assert.equal(first.exitCode, null, 'the first run ended early');
    assert.ok(Date.now() - t0 < 120_000, 'the first run never took the lock');
    await new Promise((r) => setTimeout(r, 50));
  }
  const second = zhuyi(args, { timeout: 120_000 });
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, new RegExp(`${out.replace(/[/.]/g, '\\$&')} is in use by another training run \\(pid ${first.pid} `));
  assert.equal(first.exitCode, null, 'the first run keeps going');
});

test('a lock whose holder was killed but not yet reaped (a zombie) is taken over: resuming right after kill -9 works', async () => {
  const out = join(dir, 'zombie');
  const child = await holder(out);
  child.kill('SIGKILL');
  // Wait synchronously until the kernel has made it a zombie: no event-loop turn, so Node cannot
  // reap it yet, and signal 0 still reaches it.
  const state = (): string => { const s = readFileSync(`/proc/${child.pid}/stat`, 'utf8'); return s[s.lastIndexOf(')') + 2]!; };
  while (state() !== 'Z') { /* dying */ }
  const notices: string[] = [];
  const release = lockRunFolder(out, 'train', (l) => notices.push(l));
  assert.equal(state(), 'Z', 'still a zombie while the lock was taken');
  release();
  assert.match(notices.join('\n'), new RegExp(`took over the lock .* \\(pid ${child.pid},`));
  await new Promise((res) => (child.exitCode === null && child.signalCode === null ? child.once('exit', res) : res(null)));
});
