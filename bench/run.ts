/**
 * `npm run bench`: matmul GFLOP/s on js and ort, then one table: each row is the same work in zhuyi
 * and in a reference (PyTorch, or ONNX Runtime running PyTorch's ONNX export), each side in its own
 * process so its peak RSS and minor page faults are its own. zhuyi's side starts the way the `zhuyi`
 * command starts (the tuned heap of src/backends/ort/heap.ts); no environment variable is needed.
 * Medians after warm-up. BENCH_RUNS (default 5) and BENCH_ROWS (comma-separated row names) narrow it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from '../src/index.js';

import { tunedEnv } from '../src/backends/ort/heap.js';
import { ATTENTION_STEP } from './attention.js';
import { BLOCK } from './block.js';
import { DECODE } from './decode.js';
import { BERT_BASE, BERT_MINI, type BertShape, TRANSLATION_STEP } from './models.js';

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

interface Measured { ms: number; maxRssMB: number; minflt: number; sessions?: number; compileMs?: number; firstMs?: number; label: string }

/** Runs bench/row.ts for one row in a fresh process with the `zhuyi` command's heap. */
function zhuyiRow(args: (string | number)[], env: NodeJS.ProcessEnv = tunedEnv()): Measured | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'row.ts'), ...args.map(String)], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) return (r.stderr || r.stdout || 'failed').trim().split('\n').slice(-3).join(' ');
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; maxRssMB: number; minflt: number; sessions: number; compileMs: number; firstMs: number };
  return { ...o, label: 'zhuyi' };
}

function pytorch(script: string, args: (string | number)[]): Measured | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, [join(HERE, 'pytorch', script), ...args.map(String)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return (r.stderr || r.stdout || 'failed').trim().split('\n').slice(-1)[0]!;
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { median_ms: number; torch: string; max_rss_mb: number; minflt: number };
  return { ms: out.median_ms, maxRssMB: out.max_rss_mb, minflt: out.minflt, label: `pytorch ${out.torch}` };
}

/** ONNX Runtime (plain onnxruntime-node, default options) on PyTorch's torch.onnx.export of the same BERT. */
function ortOnPytorchExport(s: BertShape, runs: number): Measured | string {
  const file = join(tmpdir(), `zhuyi-bench-bert-L${s.L}-H${s.H}.onnx`);
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const made = spawnSync(PYTHON, [join(HERE, 'pytorch', 'bert.py'), 'export', s.L, s.H, s.A, s.B, s.T, file].map(String), { encoding: 'utf8' });
  if (made.status !== 0 || !existsSync(file)) return `torch.onnx.export failed: ${(made.stderr || made.stdout).trim().split('\n').slice(-1)[0]}`;
  const r = zhuyiRow(['ort-file', runs, file, s.B, s.T], process.env);
  rmSync(file, { force: true });
  return typeof r === 'string' ? r : { ...r, label: 'onnxruntime on the PyTorch export' };
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printRow(name: string, mine: Measured | string, refs: (Measured | string)[]): void {
  if (typeof mine === 'string') { console.log(`${name}: zhuyi failed: ${mine}`); return; }
  const compile = mine.sessions !== undefined ? `, ${mine.sessions} sessions compiled in ${fmt((mine.compileMs ?? 0) / 1000, 1)} s` : '';
  console.log(`${name}: zhuyi ${fmt(mine.ms, 1)} ms, peak RSS ${fmt(mine.maxRssMB)} MB, ${fmt(mine.minflt)} minor faults${compile}`);
  for (const ref of refs) {
    if (typeof ref === 'string') { console.log(`  reference skipped: ${ref}`); continue; }
    console.log(`  ${ref.label}: ${fmt(ref.ms, 1)} ms, peak RSS ${fmt(ref.maxRssMB)} MB, ${fmt(ref.minflt)} minor faults -> time ratio ${(mine.ms / ref.ms).toFixed(2)}, RSS ratio ${(mine.maxRssMB / ref.maxRssMB).toFixed(2)}`);
  }
}

async function main(): Promise<void> {
  const threads = Number(process.env.ZHUYI_THREADS) || cpus().length;
  console.log(`zhuyi bench: node ${process.version}, ${cpus().length} cores, ort threads ${threads}; ratios are zhuyi / reference (< 1 means zhuyi is faster or smaller)`);
  const runs = Number(process.env.BENCH_RUNS) || 5;
  const only = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((x) => x.trim())) : null;
  const want = (row: string): boolean => only === null || only.has(row);
  if (want('matmul')) {
    for (const n of [256, 512, 1024]) {
      const js = await matmulBench('js', n);
      const ort = await matmulBench('ort', n);
      console.log(`matmul ${n}^3 float32: js ${js.toFixed(2)} GFLOP/s, ort ${ort.toFixed(1)} GFLOP/s`);
    }
  }
  const { B, T, C, H, FF } = BLOCK;
  if (want('block')) printRow(`block step (B${B} T${T} C${C} H${H} FF${FF}, fwd+bwd+SGD)`, zhuyiRow(['block', runs]), [pytorch('block.py', [runs])]);
  const a = ATTENTION_STEP;
  if (want('attention')) {
    printRow(`GRU+attention step (base, B${a.B} S${a.S} T${a.T} V${a.tgtVocab}, fwd+bwd+clip+AdamW)`, zhuyiRow(['attention', runs]),
      [pytorch('attention_step.py', [a.B, a.S, a.T, a.srcVocab, a.tgtVocab, runs])]);
  }
  const t = TRANSLATION_STEP;
  if (want('translation')) {
    printRow(`Transformer translation step (base d256 3+3, B${t.B} S${t.S} T${t.T}, vocab ${t.srcVocab}/${t.tgtVocab}, label smoothing, AdamW)`,
      zhuyiRow(['translation', runs]), [pytorch('transformer_step.py', [t.B, t.S, t.T, t.srcVocab, t.tgtVocab, runs])]);
  }
  const d = DECODE;
  if (want('decode')) {
    printRow(`Transformer greedy decode (base, B${d.B} S${d.S}, ${d.T} steps)`, zhuyiRow(['decode', runs]),
      [pytorch('decode.py', [d.B, d.S, d.T, d.srcVocab, d.tgtVocab, runs])]);
  }
  for (const [tag, s] of [['mini', BERT_MINI], ['base', BERT_BASE]] as const) {
    const dims = [s.L, s.H, s.A, s.B, s.T];
    const bertRuns = tag === 'base' ? Math.max(2, Math.round(runs / 2)) : runs;
    if (want(`bert-${tag}-forward`)) {
      printRow(`BERT-${tag} forward (L${s.L} H${s.H}, B${s.B} T${s.T})`, zhuyiRow([`bert-${tag}-forward`, bertRuns]),
        [ortOnPytorchExport(s, bertRuns), pytorch('bert.py', ['forward', ...dims, bertRuns])]);
    }
    if (want(`bert-${tag}-train`)) {
      printRow(`BERT-${tag} fine-tuning step (sequence classification, AdamW)`, zhuyiRow([`bert-${tag}-train`, bertRuns]),
        [pytorch('bert.py', ['train', ...dims, bertRuns])]);
    }
  }
}

void (async () => {
  try { await main(); } catch (e) { console.error(e); process.exitCode = 1; }
})();
