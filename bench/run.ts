/**
 * `npm run bench`: matmul GFLOP/s on js and ort; one Transformer-block training step on ort against
 * the same step in PyTorch; the session compile time of that step's graph; one training step of the
 * Multi30k GRU + attention model against PyTorch; greedy decoding with the Multi30k Transformer
 * against PyTorch's. Medians after warm-up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from '../src/index.js';

import { ATTENTION_STEP, attentionStep } from './attention.js';
import { BLOCK, applyStep, blockStep, initBlock } from './block.js';
import { DECODE, decodeSetup } from './decode.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(f: () => Promise<void>, warmup: number, runs: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

async function matmulBench(backend: string, n: number): Promise<number> {
  z.setBackend(backend);
  const g = new z.Generator(1);
  const a = z.randn([n, n], { generator: g });
  const b = z.randn([n, n], { generator: g });
  const slow = backend === 'js' && n >= 1024;
  const ms = await timeIt(async () => { await a.matmul(b).data(); }, slow ? 0 : 2, slow ? 1 : backend === 'js' ? 3 : 10);
  return (2 * n * n * n) / (ms * 1e6);
}

/** ONNX Runtime's compile time for `step`'s graph: the first call builds its session. */
async function compileMs(step: () => Promise<void>): Promise<number> {
  z.resetOrtStats();
  await step();
  return z.ortStats().compileMs;
}

/** One training step: realize [loss, updated params] in one call, then carry the params forward. */
async function blockBench(runs: number): Promise<{ ms: number; compileMs: number; nodes: number; sessionRuns: number }> {
  z.setBackend('ort');
  const state = await initBlock(BLOCK);
  const step = async (): Promise<void> => {
    const { loss, updated } = blockStep(BLOCK, state);
    await z.realize(loss, ...updated);
    applyStep(state, updated);
  };
  const compile = await compileMs(step);
  const { loss, updated } = blockStep(BLOCK, state);
  const nodes = z.buildGraph([loss, ...updated]).values.length;
  z.resetOrtStats();
  const ms = await timeIt(step, 2, runs);
  return { ms, compileMs: compile, nodes, sessionRuns: z.ortStats().runs / (runs + 2) };
}

function pytorch(script: string, args: (string | number)[]): { ms: number; torch: string; threads: number } | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, [join(HERE, 'pytorch', script), ...args.map(String)], { encoding: 'utf8' });
  if (r.status !== 0) return (r.stderr || r.stdout || 'failed').trim().split('\n').slice(-1)[0]!;
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { median_ms: number; torch: string; threads: number };
  return { ms: out.median_ms, torch: out.torch, threads: out.threads };
}

/** Times the same step in PyTorch (bench/pytorch/SCRIPT) and prints it with the ratio, or why it was skipped. */
function compareWithPytorch(name: string, ms: number, script: string, args: (string | number)[], runs: number, digits: number): void {
  const torch = pytorch(script, args);
  if (typeof torch === 'string') { console.log(`${name} pytorch: skipped (${torch})`); return; }
  console.log(`${name} pytorch ${torch.torch} (${torch.threads} threads): ${torch.ms.toFixed(digits)} ms (median of ${runs})`);
  console.log(`${name} ratio ort/pytorch: ${(ms / torch.ms).toFixed(2)} (<= 1.0 means ort is at least as fast)`);
}

async function main(): Promise<void> {
  const threads = Number(process.env.ZHUYI_THREADS) || cpus().length;
  console.log(`zhuyi bench: node ${process.version}, ${cpus().length} cores, ort threads ${threads}`);
  for (const n of [256, 512, 1024]) {
    const js = await matmulBench('js', n);
    const ort = await matmulBench('ort', n);
    console.log(`matmul ${n}^3 float32: js ${js.toFixed(2)} GFLOP/s, ort ${ort.toFixed(1)} GFLOP/s`);
  }
  const { B, T, C, H, FF } = BLOCK;
  const runs = Number(process.env.BENCH_RUNS) || 10;
  const mine = await blockBench(runs);
  const desc = `B${B} T${T} C${C} H${H} FF${FF}`;
  console.log(`block step (${desc}, fwd+bwd+SGD, ${mine.nodes} graph values, ${mine.sessionRuns} session run/step): ort ${mine.ms.toFixed(1)} ms (median of ${runs})`);
  console.log(`block step session compile: ${mine.compileMs.toFixed(0)} ms`);
  compareWithPytorch('block step', mine.ms, 'block.py', [runs], runs, 1);
  const a = ATTENTION_STEP;
  const rnnRuns = Math.max(3, Math.round(runs / 2));
  const attStep = await attentionStep();
  const att = { compileMs: await compileMs(attStep), ms: await timeIt(attStep, 1, rnnRuns) };
  const attDesc = `GRU+attention base, B${a.B} S${a.S} T${a.T} V${a.tgtVocab}, fwd+bwd+clip+AdamW`;
  console.log(`attention step (${attDesc}): ort ${att.ms.toFixed(0)} ms (median of ${rnnRuns}; compile ${att.compileMs.toFixed(0)} ms)`);
  compareWithPytorch('attention step', att.ms, 'attention_step.py', [a.B, a.S, a.T, a.srcVocab, a.tgtVocab, rnnRuns], rnnRuns, 0);
  const d = DECODE;
  const decode = decodeSetup();
  z.resetOrtStats();
  const t0 = performance.now();
  await decode();
  const firstMs = performance.now() - t0;
  const first = z.ortStats();
  const decodeMs = await timeIt(async () => { await decode(); }, 0, rnnRuns);
  const decDesc = `Transformer base, B${d.B} S${d.S}, ${d.T} greedy steps, key/value cache`;
  console.log(`decode (${decDesc}): ort first call ${firstMs.toFixed(0)} ms (${first.misses} sessions compiled in ${first.compileMs.toFixed(0)} ms), then ${decodeMs.toFixed(0)} ms (median of ${rnnRuns})`);
  compareWithPytorch('decode', decodeMs, 'decode.py', [d.B, d.S, d.T, d.srcVocab, d.tgtVocab, rnnRuns], rnnRuns, 0);
}

void (async () => {
  try { await main(); } catch (e) { console.error(e); process.exitCode = 1; }
})();
