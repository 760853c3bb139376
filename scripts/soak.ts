/**
 * `npm run soak`: do long training runs hold? Not part of `npm test` (it takes an hour).
 *
 * 1. Monitored run: trains the README's Multi30k Transformer with the real CLI (`dist/cli/bin.js
 *    translate train ...`) for `--minutes` (default 30), sampling the training process's RSS
 *    (/proc/PID/status VmRSS) and open file handles (/proc/PID/fd) every `--interval` seconds
 *    (default 30). The `zhuyi` command relaunches itself once with a tuned heap (src/backends/ort/
 *    heap.ts), so the process sampled is that child, the one that trains. Check: after the first
 *    epoch, no sample exceeds the first sample after it by more than 10% (RSS and handles). RSS
 *    does grow during epoch 1: the heap keeps the high-water mark of the largest batch shape seen
 *    so far (heap.ts), and epoch 1 is where the shapes are first met. So the run goes on past
 *    `--minutes` until `--after-epoch` minutes (default 5) of samples follow epoch 1's end, within
 *    `--max-minutes` (default 60): on a loaded machine epoch 1 (248 steps) ends near minute 30.
 * 2. Kill phase: a run of a fixed number of optimizer steps (`--steps`, default 300) is killed with
 *    SIGKILL `--kills` times (default 20) at seeded random moments, at least once during validation
 *    and at least once during a checkpoint write, and resumed with `--resume` each time until it
 *    finishes. An uninterrupted run with the same seed and flags (started at the beginning, beside
 *    the monitored run, to save wall time) is the reference (both `--threads 1`: one thread makes
 *    ONNX Runtime's sums run in one fixed order, so the two runs must agree bit for bit). Check: the final checkpoints (weights and AdamW moments) are bitwise equal, and so are the
 *    logs (train loss, learning rate, gradient norm, validation metrics at every step).
 *
 * How a kill finds its phase, with no hook in the trainer: `--log-every 1` makes the trainer append
 * each step's line to log.jsonl before it validates (every `--valid-every` steps) and before it
 * saves; validation is running while the line of a step s (s a multiple of --valid-every) is the
 * last one and its validation line is not written yet. A checkpoint write is running while the
 * worker's temp file `.last.safetensors.<pid>.<n>.tmp` (or best's) exists (src/io/safetensors.ts's
 * writeFileAtomic: temp file, fsync, rename); a kill that lands there leaves the temp file behind,
 * which confirms it.
 *
 * Flags: --minutes N (30), --after-epoch N (5), --max-minutes N (60), --interval S (30), --steps N (300), --kills N (20), --seed N (1),
 * --save-every N (10), --valid-every N (100), --data DIR (the multi30k-en-de/tok folder; default
 * $ZHUYI_DATA/multi30k-en-de/tok, else ../shared/data/...), --work DIR (default a temp folder,
 * removed at the end unless --keep), --skip-monitor, --skip-kills.
 * Without the data it prints why and exits 0. Exits 1 when a check fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSafetensors } from '../src/io/safetensors.js';
import { Generator } from '../src/tensor/random.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'after-epoch': { type: 'string', default: '5' },
    'max-minutes': { type: 'string', default: '60' },
    interval: { type: 'string', default: '30' },
    steps: { type: 'string', default: '300' },
    kills: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'save-every': { type: 'string', default: '10' },
    'valid-every': { type: 'string', default: '100' },
    data: { type: 'string' },
    work: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'skip-monitor': { type: 'boolean', default: false },
    'skip-kills': { type: 'boolean', default: false },
  },
});

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`soak: --${name} must be a positive number, got '${v}'`);
  return n;
}
const MINUTES = positive('minutes', flags.minutes);
const INTERVAL = positive('interval', flags.interval);
const AFTER_EPOCH = positive('after-epoch', flags['after-epoch']);
const MAX_MINUTES = Math.max(MINUTES, positive('max-minutes', flags['max-minutes']));
const STEPS = positive('steps', flags.steps);
const KILLS = positive('kills', flags.kills);
const SEED = positive('seed', flags.seed);
const SAVE_EVERY = positive('save-every', flags['save-every']);
const VALID_EVERY = positive('valid-every', flags['valid-every']);

const DATA = flags.data ?? join(process.env.ZHUYI_DATA ?? join(ROOT, '..', 'shared', 'data'), 'multi30k-en-de', 'tok');
const files = (split: string): string => `${join(DATA, `${split}.lc.norm.tok.de`)},${join(DATA, `${split}.lc.norm.tok.en`)}`;
if (!existsSync(join(DATA, 'train.lc.norm.tok.de'))) {
  console.log(`soak: skipped: the Multi30k data is not at ${DATA} (give --data DIR, the multi30k-en-de/tok folder, or set ZHUYI_DATA)`);
  process.exit(0);
}
if (!existsSync(BIN)) throw new Error(`soak: ${BIN} is missing: run npm run build first (npm run soak does)`);

// The README's Multi30k Transformer recipe.
const RECIPE = ['translate', 'train', '--model', 'transformer', '--size', 'base', '--tokenizer', 'whitespace', '--min-freq', '2',
  '--train', files('train'), '--valid', files('val'), '--epochs', '11', '--batch-tokens', '2048', '--lr', '7e-4', '--valid-decode', '100'];

const WORK = flags.work ? resolve(flags.work) : mkdtempSync(join(tmpdir(), 'zhuyi-soak-'));
mkdirSync(WORK, { recursive: true });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const started = Date.now();
const clock = (): string => `${((Date.now() - started) / 60_000).toFixed(1).padStart(5)} min`;
const say = (s: string): void => console.log(`[${clock()}] ${s}`);

// ---------------------------------------------------------------------------------------------
// Processes

interface Run { child: ChildProcess; exited: Promise<number | null>; outDir: string }

/** Starts the CLI in its own process group (so a kill reaches the relaunched worker too), output to a file. */
function startCli(args: string[], outDir: string, logName: string): Run {
  const fd = openSync(join(WORK, logName), 'a');
  const child = spawn(process.execPath, [BIN, ...args, '--out', outDir], { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(signal ? null : code)));
  return { child, exited, outDir };
}

/** SIGKILLs the CLI and its worker; resolves once both are dead (a zombie counts as dead). */
async function killGroup(run: Run, worker: number): Promise<void> {
  try { process.kill(-run.child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  await run.exited;
  for (let i = 0; i < 500 && isRunning(worker); i++) await sleep(20);
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** The process that trains: the CLI's relaunched child if it has one (heap.ts), else the CLI itself. */
function workerPid(pid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised name: state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) return Number(entry);
    } catch { /* exited meanwhile */ }
  }
  return pid;
}

interface Sample { seconds: number; pid: number; rssMiB: number; fds: number; step: number; epoch: number }

function sampleProcess(pid: number): { rssMiB: number; fds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { rssMiB: kb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

type LogLine = Record<string, number>;
function readLog(outDir: string): LogLine[] {
  let text: string;
  try { text = readFileSync(join(outDir, 'log.jsonl'), 'utf8'); } catch { return []; }
  const lines: LogLine[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try { lines.push(JSON.parse(l) as LogLine); } catch { /* a line cut by a kill */ }
  }
  return lines;
}

/** The step of a checkpoint, from its header only (the file is 100 MB). */
function checkpointStep(path: string): number | null {
  if (!existsSync(path)) return null;
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    readSyncAll(fd, head, 0);
    const n = Number(head.readBigUInt64LE(0));
    const json = Buffer.alloc(n);
    readSyncAll(fd, json, 8);
    closeSync(fd);
    const meta = (JSON.parse(json.toString('utf8')) as { __metadata__: Record<string, string> }).__metadata__;
    return (JSON.parse(meta['zhuyi.trainer']!) as { step: number }).step;
  } catch {
    return null;
  }
}
function readSyncAll(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length;) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('short read');
    done += n;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Monitored run

interface MonitorResult { samples: Sample[]; firstEpochEnd: number | null; ok: boolean; lines: string[] }

async function monitor(): Promise<MonitorResult> {
  const outDir = join(WORK, 'monitored');
  say(`monitored run: ${MINUTES} min of the Multi30k Transformer recipe, a sample every ${INTERVAL} s (log: ${join(WORK, 'monitored.log')})`);
  const run = startCli([...RECIPE, '--log-every', '10'], outDir, 'monitored.log');
  let exitCode: number | null | undefined;
  void run.exited.then((c) => { exitCode = c; });
  const t0 = Date.now();
  const samples: Sample[] = [];
  let firstEpochEnd: number | null = null;
  let worker = run.child.pid!;
  for (let k = 1; ; k++) {
    const due = t0 + k * INTERVAL * 1000;
    while (Date.now() < due && exitCode === undefined) await sleep(200);
    if (exitCode !== undefined) break;
    if (worker === run.child.pid) worker = workerPid(run.child.pid!);
    const s = sampleProcess(worker);
    const log = readLog(outDir);
    const last = [...log].reverse().find((l) => l.train_loss !== undefined);
    // The first validation line of a run without --valid-every is the end of epoch 1.
    if (firstEpochEnd === null && log.some((l) => l.valid_loss !== undefined)) firstEpochEnd = samples.length;
    if (s) {
      samples.push({ seconds: (Date.now() - t0) / 1000, pid: worker, ...s, step: last?.step ?? 0, epoch: last?.epoch ?? 1 });
      const x = samples.at(-1)!;
      say(`  sample ${String(samples.length).padStart(3)}: pid ${x.pid} RSS ${x.rssMiB.toFixed(0)} MiB, ${x.fds} fds, step ${x.step}, epoch ${x.epoch}`);
    }
    // At least --minutes, and on until --after-epoch minutes of samples follow the end of epoch 1
    // (248 steps: on a loaded machine it may end near minute 30), within --max-minutes.
    const elapsed = Date.now() - t0;
    const afterEpoch = firstEpochEnd === null ? 0 : samples.length - 1 - firstEpochEnd;
    if (elapsed >= MAX_MINUTES * 60_000 || (elapsed >= MINUTES * 60_000 && afterEpoch * INTERVAL >= AFTER_EPOCH * 60)) break;
  }
  const endedByItself = exitCode !== undefined;
  await killGroup(run, worker);
  const lines: string[] = [];
  let ok = true;
  if (endedByItself) {
    lines.push(`FAIL: the monitored run exited early (code ${exitCode}); see ${join(WORK, 'monitored.log')}`);
    ok = false;
  }
  lines.push('  minute   pid   RSS MiB   fds   step  epoch');
  for (const s of samples) lines.push(`  ${(s.seconds / 60).toFixed(1).padStart(6)} ${String(s.pid).padStart(6)} ${s.rssMiB.toFixed(0).padStart(8)} ${String(s.fds).padStart(5)} ${String(s.step).padStart(6)} ${String(s.epoch).padStart(6)}`);
  if (firstEpochEnd === null || firstEpochEnd >= samples.length - 1) {
    lines.push(`FAIL: the first epoch did not end early enough for a growth check after it (${MAX_MINUTES} min at most; give more --max-minutes)`);
    ok = false;
  } else {
    const base = samples[firstEpochEnd]!;
    const after = samples.slice(firstEpochEnd);
    const maxRss = Math.max(...after.map((s) => s.rssMiB));
    const maxFds = Math.max(...after.map((s) => s.fds));
    const rssGrowth = maxRss / base.rssMiB - 1;
    const fdGrowth = maxFds / base.fds - 1;
    lines.push(`after the first epoch (from minute ${(base.seconds / 60).toFixed(1)}, ${after.length} samples over ${((after.at(-1)!.seconds - base.seconds) / 60).toFixed(1)} min): RSS ${base.rssMiB.toFixed(0)} -> max ${maxRss.toFixed(0)} MiB (${(100 * rssGrowth).toFixed(1)}%), fds ${base.fds} -> max ${maxFds} (${(100 * fdGrowth).toFixed(1)}%)`);
    if (rssGrowth > 0.1) { lines.push('FAIL: RSS grew more than 10% after the first epoch'); ok = false; }
    if (fdGrowth > 0.1) { lines.push('FAIL: open file handles grew more than 10% after the first epoch'); ok = false; }
  }
  const at = (minute: number): string => {
    const s = samples.reduce<Sample | null>((best, x) => (best === null || Math.abs(x.seconds - minute * 60) < Math.abs(best.seconds - minute * 60) ? x : best), null);
    return s && Math.abs(s.seconds - minute * 60) <= INTERVAL ? `${s.rssMiB.toFixed(0)} MiB (sample at ${(s.seconds / 60).toFixed(1)} min)` : 'n/a';
  };
  lines.push(`RSS at minute 5: ${at(5)}; at minute ${MINUTES}: ${at(MINUTES)}; max fds ${samples.length ? Math.max(...samples.map((s) => s.fds)) : 'n/a'}`);
  if (!flags.keep) rmSync(outDir, { recursive: true, force: true });
  return { samples, firstEpochEnd, ok, lines };
}

// ---------------------------------------------------------------------------------------------
// 2. Kill phase

type Phase = 'startup' | 'training' | 'validation' | 'checkpoint write';
interface Kill { n: number; aimed: string; phase: Phase; checkpointStep: number | null; loggedStep: number; tempLeft: string | null }

const TEMP = /^\.(last|best)\.safetensors\.(\d+)\.\d+\.tmp$/;
function workerTemp(outDir: string, pid: number, which?: 'last' | 'best'): string | null {
  try {
    return readdirSync(outDir).find((f) => { const m = TEMP.exec(f); return m !== null && Number(m[2]) === pid && (which === undefined || m[1] === which); }) ?? null;
  } catch {
    return null;
  }
}

/** log.jsonl's inode: a starting run rewrites the log (atomically, so as a new file) before its first step. */
function logInode(outDir: string): number {
  try { return statSync(join(outDir, 'log.jsonl')).ino; } catch { return -1; }
}

/**
 * What the run is doing now, from the worker's temp files and the log (see the file comment). Until
 * the log is a new file (inode), its lines are the previous, killed process's.
 */
function phaseNow(outDir: string, pid: number, stepAtStart: number, inodeAtStart: number): Phase {
  if (workerTemp(outDir, pid)) return 'checkpoint write';
  if (logInode(outDir) === inodeAtStart) return 'startup';
  const log = readLog(outDir);
  const last = log.at(-1);
  if (!last || last.step === undefined || last.step <= stepAtStart) return 'startup';
  if (last.train_loss !== undefined && last.step % VALID_EVERY === 0 && last.step < STEPS) return 'validation';
  return 'training';
}

// The kill phase's run: the recipe for a fixed number of steps, frequent checkpoints, a log line per step.
const KILL_RUN = [...RECIPE, '--max-steps', String(STEPS), '--seed', String(SEED), '--save-every', String(SAVE_EVERY), '--valid-every', String(VALID_EVERY), '--log-every', '1', '--threads', '1'];

/** The uninterrupted run of the kill phase. */
function startReference(): Run {
  say(`reference run: ${STEPS} steps uninterrupted (--threads 1), beside the monitored run`);
  return startCli(KILL_RUN, join(WORK, 'reference'), 'reference.log');
}

async function killPhase(ref: Run): Promise<{ ok: boolean; lines: string[] }> {
  const common = KILL_RUN;
  const refDir = ref.outDir;
  const killedDir = join(WORK, 'killed');
  say(`kill phase: ${STEPS} steps (checkpoint every ${SAVE_EVERY}, validation every ${VALID_EVERY}), ${KILLS} SIGKILLs (--threads 1)`);
  const g = new Generator(SEED);
  // The aimed phase of each kill: two at validation, two at checkpoint writes, the rest at a random time.
  const aims: string[] = Array.from({ length: KILLS }, (_, i) => (i < 2 ? 'validation' : i < 4 ? 'checkpoint write' : 'random time'));
  for (let i = aims.length - 1; i > 0; i--) {
    const j = Math.floor(g.random() * (i + 1));
    [aims[i], aims[j]] = [aims[j]!, aims[i]!];
  }
  const kills: Kill[] = [];
  const lines: string[] = [];
  let resumes = 0;
  let endedWith: number | null | undefined; // the exit code of a run that ended before its kill
  for (let n = 1; n <= KILLS; n++) {
    const resume = existsSync(join(killedDir, 'last.safetensors'));
    if (resume) resumes++;
    const stepAtStart = checkpointStep(join(killedDir, 'last.safetensors')) ?? 0;
    const inodeAtStart = logInode(killedDir);
    const run = startCli([...common, ...(resume ? ['--resume'] : [])], killedDir, 'killed.log');
    let exitCode: number | null | undefined;
    void run.exited.then((c) => { exitCode = c; });
    // Still-unmet required phases take the last kills, so each is aimed at at least once more.
    const landed = (p: Phase): boolean => kills.some((k) => k.phase === p);
    const unmet = (['validation', 'checkpoint write'] as const).filter((p) => !landed(p));
    let aim = aims[n - 1]!;
    if (unmet.length >= KILLS - n + 1 && !(unmet as readonly string[]).includes(aim)) aim = unmet[0]!;
    let worker = run.child.pid!;
    const pollWorker = (): number => (worker === run.child.pid ? (worker = workerPid(run.child.pid!)) : worker);
    let phase: Phase | null = null;
    if (aim === 'random time') {
      const delay = 5_000 + g.random() * 55_000;
      const until = Date.now() + delay;
      while (Date.now() < until && exitCode === undefined) { pollWorker(); await sleep(50); }
      if (exitCode === undefined) phase = phaseNow(killedDir, pollWorker(), stepAtStart, inodeAtStart);
    } else if (aim === 'validation') {
      // Wait for a validation to start, then kill within its first second or so.
      while (exitCode === undefined) {
        if (phaseNow(killedDir, pollWorker(), stepAtStart, inodeAtStart) === 'validation') break;
        await sleep(20);
      }
      await sleep(g.random() * 1000);
      if (exitCode === undefined) phase = phaseNow(killedDir, pollWorker(), stepAtStart, inodeAtStart);
    } else {
      // Kill as soon as the worker's temp file of last.safetensors (the file a resume trusts) appears:
      // the write (100 MB and an fsync) is under way.
      while (exitCode === undefined && !workerTemp(killedDir, pollWorker(), 'last')) await sleep(5);
      if (exitCode === undefined) phase = phaseNow(killedDir, pollWorker(), stepAtStart, inodeAtStart);
    }
    if (exitCode !== undefined || phase === null) {
      say(`  run ${n}: ended by itself (code ${exitCode}) before kill ${n} (aimed at ${aim})`);
      endedWith = exitCode ?? null;
      break;
    }
    await killGroup(run, worker);
    const tempLeft = workerTemp(killedDir, worker);
    const logged = logInode(killedDir) === inodeAtStart ? stepAtStart : (readLog(killedDir).filter((l) => l.train_loss !== undefined).at(-1)?.step ?? 0);
    // Confirm the phase from what the kill left: a temp file, or a validation line never written.
    if (phase === 'checkpoint write' && !tempLeft) phase = 'training';
    if (phase === 'validation' && readLog(killedDir).some((l) => l.valid_loss !== undefined && l.step === logged)) phase = 'training';
    kills.push({ n, aimed: aim, phase, checkpointStep: stepAtStart, loggedStep: logged, tempLeft });
    say(`  kill ${String(n).padStart(2)} (aimed at ${aim}): landed in ${phase}; resumed from step ${stepAtStart}, reached step ${logged}${tempLeft ? `, left ${tempLeft}` : ''}`);
  }
  // The last resume runs to the end.
  let code = endedWith;
  if (code === undefined) {
    say('  final resume, to the end');
    const resume = existsSync(join(killedDir, 'last.safetensors'));
    if (resume) resumes++;
    code = await startCli([...common, ...(resume ? ['--resume'] : [])], killedDir, 'killed.log').exited;
  }
  const refCode = await ref.exited;
  say(`  killed run finished (code ${code}); reference run finished (code ${refCode})`);
  let ok = code === 0 && refCode === 0;
  if (!ok) lines.push(`FAIL: exit codes: killed run ${code}, reference ${refCode} (logs in ${WORK})`);

  lines.push(`kills survived: ${kills.length} of ${KILLS}; resumes: ${resumes}`);
  lines.push('  kill  aimed at           landed in          resumed from  reached');
  for (const k of kills) lines.push(`  ${String(k.n).padStart(4)}  ${k.aimed.padEnd(17)}  ${k.phase.padEnd(17)}  ${String(k.checkpointStep).padStart(12)}  ${String(k.loggedStep).padStart(7)}`);
  const byPhase = new Map<string, number>();
  for (const k of kills) byPhase.set(k.phase, (byPhase.get(k.phase) ?? 0) + 1);
  lines.push(`  by phase: ${[...byPhase].map(([p, c]) => `${p} ${c}`).join(', ')}`);
  if (kills.length < KILLS) { lines.push(`FAIL: only ${kills.length} kills before the run ended (give more --steps)`); ok = false; }
  for (const p of ['validation', 'checkpoint write']) if (!byPhase.has(p)) { lines.push(`FAIL: no kill landed during ${p}`); ok = false; }
  const leftovers = readdirSync(killedDir).filter((f) => TEMP.test(f));
  lines.push(`  checkpoint temp files left in the folder at the end: ${leftovers.length}${leftovers.length ? ` (${leftovers.join(', ')})` : ''}`);

  if (code === 0 && refCode === 0) {
    const cmp = compareCheckpoints(join(refDir, 'last.safetensors'), join(killedDir, 'last.safetensors'));
    lines.push(...cmp.lines);
    if (!cmp.equal) ok = false;
    // The logs agree too, line for line (throughput aside): same losses, learning rates, norms and validations.
    const strip = (d: string): string[] => readLog(d).map(({ tokens_per_s: _t, ...r }) => JSON.stringify(r));
    const a = strip(refDir);
    const b = strip(killedDir);
    const firstDiff = a.findIndex((l, i) => l !== b[i]);
    const logsEqual = a.length === b.length && firstDiff < 0;
    lines.push(`  log.jsonl: ${a.length} lines in the reference, ${b.length} in the killed run, ${logsEqual ? 'equal (tokens_per_s aside)' : `first difference at line ${firstDiff + 1}`}`);
    if (!logsEqual) ok = false;
  }
  if (!flags.keep) for (const d of [refDir, killedDir]) rmSync(d, { recursive: true, force: true });
  return { ok, lines };
}

/** Per tensor: bitwise equality and the max abs difference; model weights and optimizer state. */
function compareCheckpoints(refPath: string, killedPath: string): { equal: boolean; lines: string[] } {
  const a = loadSafetensors(refPath);
  const b = loadSafetensors(killedPath);
  const stepA = JSON.parse(a.metadata['zhuyi.trainer']!).step as number;
  const stepB = JSON.parse(b.metadata['zhuyi.trainer']!).step as number;
  const lines = [`final checkpoints: reference at step ${stepA}, killed run at step ${stepB}`];
  let equal = stepA === stepB;
  const names = [...a.tensors.keys()];
  const missing = names.filter((n) => !b.tensors.has(n));
  if (missing.length || a.tensors.size !== b.tensors.size) { lines.push(`FAIL: tensor names differ (${missing.join(', ')})`); equal = false; }
  let worst = 0;
  let unequal = 0;
  const table: string[] = [];
  for (const name of names) {
    const x = a.tensors.get(name)!;
    const y = b.tensors.get(name);
    if (!y) continue;
    const xa = x.buffer as ArrayLike<number>;
    const ya = y.buffer as ArrayLike<number>;
    let max = 0;
    let bitwise = xa.length === ya.length;
    for (let i = 0; i < Math.min(xa.length, ya.length); i++) {
      if (!Object.is(xa[i], ya[i])) bitwise = false;
      max = Math.max(max, Math.abs(xa[i]! - ya[i]!));
    }
    worst = Math.max(worst, max);
    if (!bitwise) unequal++;
    table.push(`    ${name.padEnd(64)} ${String(xa.length).padStart(9)} values  max |diff| ${max}${bitwise ? '' : '  NOT bitwise equal'}`);
  }
  const model = names.filter((n) => n.startsWith('model.')).length;
  lines.push(`  ${names.length} tensors (${model} model weights, ${names.length - model} optimizer moments): ${unequal === 0 ? 'all bitwise equal' : `${unequal} differ`}, max |diff| over all ${worst}`);
  lines.push(...table);
  return { equal: equal && unequal === 0, lines };
}

// ---------------------------------------------------------------------------------------------

say(`soak: work folder ${WORK}; CLI ${BIN}; data ${DATA}`);
const summary: string[] = [];
let ok = true;
// The reference run needs no watching: it runs from the start, beside the monitored run, which saves
// its duration from the whole soak (the monitored run then fits fewer steps in its minutes).
const reference = flags['skip-kills'] ? null : startReference();
if (!flags['skip-monitor']) {
  const m = await monitor();
  summary.push(`1. monitored run (${MINUTES} min, a sample every ${INTERVAL} s):`, ...m.lines);
  ok &&= m.ok;
}
if (!flags['skip-kills']) {
  const k = await killPhase(reference!);
  summary.push(`2. kill phase (${STEPS} steps, seed ${SEED}):`, ...k.lines);
  ok &&= k.ok;
}
summary.push(`soak ${ok ? 'PASSED' : 'FAILED'} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
console.log(`\n${summary.join('\n')}`);
if (!flags.keep && !flags.work) rmSync(WORK, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
