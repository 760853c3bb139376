/**
 * `zhuyi translate` from the command line: kill -9 during training then --resume gives the same
 * final weights as an uninterrupted run; run and eval read the folder back; bad data gives errors
 * naming the file and line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { CLI, zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TRAIN = ['translate', 'train', '--model', 'transformer', '--task', 'reverse', '--size', 'tiny', '--dropout', '0.1', '--task-size', '400', '--valid-size', '40', '--valid-decode', '20',
  '--epochs', '3', '--batch-tokens', '256', '--save-every', '4', '--lr', '3e-3', '--seed', '5'];

async function waitFor(cond: () => boolean, child: ChildProcess, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (child.exitCode !== null) throw new Error(`training exited (${child.exitCode}) before the condition held`);
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

let trainOutput = '';

describe('zhuyi translate', () => {
  test('kill -9 mid-training, then --resume: the same final weights as an uninterrupted run', async () => {
    const full = join(dir, 'full');
    const r = zhuyi([...TRAIN, '--out', full]);
    assert.equal(r.status, 0, r.stderr);
    trainOutput = r.stdout;
    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [...CLI, ...TRAIN, '--out', killed], { stdio: 'ignore' });
    // Kill once the first periodic checkpoint exists (and some steps past it may have run).
    await waitFor(() => existsSync(join(killed, 'last.safetensors')), child, 120_000);
    await new Promise((res) => setTimeout(res, 300));
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const at = loadCheckpoint<{ step: number }>(join(killed, 'last.safetensors')).state.step;
    const resumed = zhuyi([...TRAIN, '--out', killed, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const a = loadCheckpoint<{ step: number }>(join(full, 'last.safetensors'));
    const b = loadCheckpoint<{ step: number }>(join(killed, 'last.safetensors'));
    assert.equal(b.state.step, a.state.step);
    assert.ok(at < a.state.step, `killed at step ${at} of ${a.state.step}`);
    assert.deepEqual([...b.model.keys()], [...a.model.keys()]);
    for (const [k, t] of a.model) assert.deepEqual(await b.model.get(k)!.data(), await t.data(), `weight ${k} differs after resume`);
  });

  test('run (arguments and stdin) and eval read the folder back', () => {
    const full = join(dir, 'full');
    const run = zhuyi(['translate', 'run', full, 'a b c', 'd e']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim().split('\n').length, 2);
    const stdin = zhuyi(['translate', 'run', full], { input: 'a b c\nb a\n' });
    assert.equal(stdin.stdout.trim().split('\n').length, 2);
    const ev = zhuyi(['translate', 'eval', full, '--limit', '50']);
    assert.equal(ev.status, 0, ev.stderr);
    assert.match(ev.stdout, /BLEU \d+\.\d+ +\(nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.4\.3\)/);
    assert.match(ev.stdout, /exact match [\d.]+% of 50/);
    assert.match(ev.stdout, /length +count +exact match/);
    // --checkpoint last: the report training printed for its last weights on the same held-out split.
    const last = zhuyi(['translate', 'eval', full, '--checkpoint', 'last']);
    assert.equal(last.status, 0, last.stderr);
    const report = (out: string): string => out.slice(out.indexOf('BLEU'));
    assert.ok(trainOutput.includes('with the last weights'), trainOutput);
    assert.equal(report(last.stdout), report(trainOutput.slice(trainOutput.indexOf('with the last weights'))));
    assert.match(zhuyi(['translate', 'run', full, '--checkpoint', 'final', 'a b']).stderr, /--checkpoint.*'final' is invalid.*best, last/s);
  });

  test('--valid-decode 0: no decoding, the best checkpoint is the lowest validation loss', () => {
    const out = join(dir, 'no-decode');
    const r = zhuyi(['translate', 'train', '--model', 'transformer', '--task', 'reverse', '--size', 'tiny', '--task-size', '200', '--valid-size', '20',
      '--valid-decode', '0', '--epochs', '3', '--batch-tokens', '256', '--lr', '3e-3', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const valid = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).filter((e) => 'valid_loss' in e);
    assert.equal(valid.length, 3);
    assert.ok(valid.every((e) => !('bleu' in e)), JSON.stringify(valid));
    const lowest = valid.reduce((a, b) => (b.valid_loss! < a.valid_loss! ? b : a));
    assert.equal(loadCheckpoint<{ step: number }>(join(out, 'best.safetensors')).state.step, lowest.step);
  });

  test('malformed files: errors name the file and the line', () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['missing-tab.tsv', 'hallo\thello\nkaputt\n', /missing-tab\.tsv:2/],
      ['empty-side.tsv', 'hallo\thello\n\tworld\n', /empty-side\.tsv:2/],
      ['bad-utf8.tsv', Buffer.from([0x61, 0x09, 0x62, 0x0a, 0xff, 0xfe, 0x09, 0x63, 0x0a]), /bad-utf8\.tsv:2/],
      ['empty.tsv', '', /empty\.tsv/],
    ];
    for (const [name, content, message] of cases) {
      const f = join(dir, name);
      writeFileSync(f, content);
      const r = zhuyi(['translate', 'train', '--model', 'seq2seq', '--train', f, '--valid', f, '--out', join(dir, `o-${name}`)]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message, `${name}: ${r.stderr}`);
    }
  });

  test('--help of each command', () => {
    for (const c of ['train', 'run', 'eval']) {
      const r = zhuyi(['translate', c, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`Usage: zhuyi translate ${c}`));
    }
    assert.match(zhuyi(['translate', 'train', '--help']).stdout, /--epochs.*--max-steps.*--batch-tokens.*--lr.*--warmup.*--seed.*--resume.*--backend.*--device.*--threads/s);
  });
});
