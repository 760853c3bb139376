/**
 * Runs programs on the js and ort backends and compares forward outputs and gradients; shrinks a
 * disagreement to a small program. Many programs are realized together as one graph with many
 * outputs (ort compiles one session per distinct graph, and compiling dominates tiny graphs); the
 * outputs of each program are its own, so a disagreement still names one program.
 */
import { env } from 'onnxruntime-common';
import * as z from '../../src/index.js';
import type { DType, Tensor, TypedArray } from '../../src/index.js';
import { type Built, CALLS, type InputNode, type Node, type Program, build, sinks } from './program.js';

export interface Values { dtype: DType; shape: number[]; data: TypedArray }
/** What one program gave on one backend: its outputs then its gradients, or the error it threw. */
export type Outcome = { ok: true; values: Values[]; zeroSize: boolean } | { ok: false; error: Error };

// Shrinking tries programs with out-of-range indices, on which ONNX Runtime logs every failed run
// before the backend turns it into a ZhuyiError; only fatal messages are worth printing here.
env.logLevel = 'fatal';

/**
 * The generator only keeps calls the library accepts, so a program whose graph cannot be built
 * failed in autograd (a vjp that does not fit its op): a finding, whichever backend is active.
 */
export class BuildError extends Error {
  constructor(readonly original: Error) {
    super(`building the program or its gradients threw ${original.name}: ${original.message}`);
    this.name = 'BuildError';
  }
}

const BACKENDS = ['js', 'ort'] as const;
export type BackendName = (typeof BACKENDS)[number];

function targetsOf(b: Built): Tensor[] {
  return [...b.outputs, ...b.grads];
}

function collect(ts: readonly Tensor[]): Values[] {
  return ts.map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: t.buffer! }));
}

/** Whether the program's graph holds a zero-size value (the ort backend hands such graphs to js whole). */
function hasZeroSize(ts: readonly Tensor[]): boolean {
  return z.buildGraph(ts.filter((t) => t.buffer === null)).values.some((v) => v.meta.shape.includes(0));
}

/** Runs programs on one backend: one realize for the lot, one per program if the lot fails. */
export async function runOn(backend: BackendName, programs: readonly Program[]): Promise<Outcome[]> {
  z.setBackend(backend);
  const built = programs.map((p): Built | Error => {
    try { return build(p); } catch (e) { return new BuildError(e as Error); }
  });
  const ok = built.filter((b): b is Built => !(b instanceof Error));
  const outcome = (b: Built | Error, zeroSize = false): Outcome => (b instanceof Error ? { ok: false, error: b } : { ok: true, values: collect(targetsOf(b)), zeroSize });
  try {
    const zero = ok.map((b) => hasZeroSize(targetsOf(b)));
    await z.realize(...ok.flatMap(targetsOf));
    return built.map((b) => outcome(b, b instanceof Error ? false : zero[ok.indexOf(b)]));
  } catch (e) {
    if (programs.length === 1) return [{ ok: false, error: e as Error }];
  }
  const each: Outcome[] = [];
  for (const p of programs) each.push((await runOn(backend, [p]))[0]!);
  return each;
}

// ---- comparison ----------------------------------------------------------------------------------------

/**
 * float64 is compared tightly unless a float32 value (an input, a cast, or int math that goes
 * through float32 such as sigmoid of int32) or ONNX Runtime's float32-only Erf touched the program.
 */
export function tolerance(p: Program, dtype: DType): { rtol: number; atol: number } | null {
  if (dtype === 'int32' || dtype === 'bool') return null;
  const usesErf = p.nodes.some((n) => n.kind === 'op' && (n.op === 'erf' || (n.op === 'gelu' && n.attrs.approximate === 'none')));
  // In float32, 1 + erf(x) cancels for x << 0 (ONNX Runtime and PyTorch alike; js computes the kernel
  // in double): exact gelu at -4 differs by 3e-4 relative, which a reciprocal or log passes on.
  if (usesErf) return { rtol: 1e-3, atol: 1e-5 };
  // atol covers gradients such as tanh's 1 - y^2, which cancels as |y| -> 1 (5e-6 apart at y = tanh(-4)).
  if (dtype === 'float32' || usesFloat32(p)) return { rtol: 2e-5, atol: 1e-5 };
  return { rtol: 1e-10, atol: 1e-12 };
}

const float32Cache = new WeakMap<Program, boolean>();
function usesFloat32(p: Program): boolean {
  let v = float32Cache.get(p);
  if (v === undefined) {
    try { v = build(p).dtypes.has('float32'); } catch { v = true; }
    float32Cache.set(p, v);
  }
  return v;
}

/** The first difference between two values, or null. NaN equals NaN; infinities must match. */
export function differ(a: Values, b: Values, tol: { rtol: number; atol: number } | null): string | null {
  if (a.dtype !== b.dtype) return `dtype ${a.dtype} vs ${b.dtype}`;
  if (a.shape.join() !== b.shape.join()) return `shape [${a.shape}] vs [${b.shape}]`;
  if (a.data.length !== b.data.length) return `length ${a.data.length} vs ${b.data.length}`;
  let scale = 1;
  for (const x of b.data) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!, y = b.data[i]!;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (tol === null || !Number.isFinite(x) || !Number.isFinite(y)) return `[${i}] ${x} vs ${y}`;
    if (!(Math.abs(x - y) <= tol.atol * scale + tol.rtol * Math.abs(y))) return `[${i}] ${x} vs ${y} (rtol ${tol.rtol}, atol ${tol.atol} x ${scale})`;
  }
  return null;
}

/** Why js and ort disagree on a program, or null. Outputs come first, then gradients (one per float input). */
export function compare(p: Program, js: Outcome, ort: Outcome): string | null {
  if (!js.ok && js.error instanceof BuildError) return js.error.message;
  if (!js.ok || !ort.ok) {
    if (!js.ok && !ort.ok && js.error instanceof z.ZhuyiError && ort.error instanceof z.ZhuyiError) return null;
    return `js ${js.ok ? 'ran' : `threw ${js.error.name}: ${js.error.message}`}; ort ${ort.ok ? 'ran' : `threw ${ort.error.name}: ${ort.error.message}`}`;
  }
  if (js.values.length !== ort.values.length) return `js gave ${js.values.length} values, ort ${ort.values.length}`;
  for (let k = 0; k < js.values.length; k++) {
    const what = k < p.outputs.length ? `output ${k} (node ${p.outputs[k]})` : `gradient ${k - p.outputs.length}`;
    const d = differ(ort.values[k]!, js.values[k]!, tolerance(p, js.values[k]!.dtype));
    if (d) return `${what}: ort vs js: ${d}`;
  }
  return null;
}

export interface Disagreement { index: number; program: Program; reason: string }
export interface Counts { programs: number; agreed: number; bothThrew: number; zeroSize: number; disagreements: Disagreement[] }

/** Runs programs in batches of `batch` and lists the disagreements. */
export async function differential(programs: readonly Program[], batch = 50): Promise<Counts> {
  const counts: Counts = { programs: 0, agreed: 0, bothThrew: 0, zeroSize: 0, disagreements: [] };
  const prev = z.getBackend();
  try {
    for (let start = 0; start < programs.length; start += batch) {
      const slice = programs.slice(start, start + batch);
      // Programs with a zero-size value run apart: one of them would send the whole batch to js on ort.
      const groups = [slice.filter((p) => !zeroSized(p)), slice.filter(zeroSized)];
      for (const group of groups) {
        if (group.length === 0) continue;
        const [js, ort] = [await runOn('js', group), await runOn('ort', group)];
        group.forEach((p, i) => {
          counts.programs++;
          const reason = compare(p, js[i]!, ort[i]!);
          if (reason) counts.disagreements.push({ index: programs.indexOf(p), program: p, reason });
          else if (!js[i]!.ok) counts.bothThrew++;
          else {
            counts.agreed++;
            if ((js[i] as { zeroSize: boolean }).zeroSize) counts.zeroSize++;
          }
        });
      }
    }
  } finally {
    z.setBackend(prev);
  }
  return counts;
}

const zeroCache = new WeakMap<Program, boolean>();
function zeroSized(p: Program): boolean {
  let v = zeroCache.get(p);
  if (v === undefined) {
    try { v = hasZeroSize(targetsOf(build(p))); } catch { v = false; }
    zeroCache.set(p, v);
  }
  return v;
}

/** Why js and ort disagree on one program (run alone), or null. */
export async function check(p: Program): Promise<string | null> {
  const prev = z.getBackend();
  try {
    const [js, ort] = [(await runOn('js', [p]))[0]!, (await runOn('ort', [p]))[0]!];
    return compare(p, js, ort);
  } finally {
    z.setBackend(prev);
  }
}

// ---- shrinking ----------------------------------------------------------------------------------------

/** Drops nodes no output depends on and renumbers. */
export function prune(p: Program): Program {
  const live = new Set<number>(p.outputs);
  for (let i = p.nodes.length - 1; i >= 0; i--) {
    const n = p.nodes[i]!;
    if (live.has(i) && n.kind === 'op') n.args.forEach((j) => live.add(j));
  }
  const map = new Map<number, number>();
  const nodes: Node[] = [];
  p.nodes.forEach((n, i) => {
    if (!live.has(i)) return;
    map.set(i, nodes.length);
    nodes.push(n.kind === 'op' ? { ...n, args: n.args.map((j) => map.get(j)!) } : n);
  });
  return { nodes, outputs: [...new Set(p.outputs.map((o) => map.get(o)!))] };
}

/** The js value of node i, as an input node (to cut the program there). */
async function asInput(p: Program, i: number): Promise<InputNode | null> {
  const [out] = await runOn('js', [{ nodes: p.nodes.slice(0, i + 1), outputs: [i] }]);
  if (!out!.ok) return null;
  const v = out!.values[0]!;
  return { kind: 'input', dtype: v.dtype, shape: v.shape, data: Array.from(v.data) };
}

/** Candidate simplifications of one input: smaller dims, simpler values. */
function simplerInputs(n: InputNode): InputNode[] {
  const out: InputNode[] = [];
  const stridesOf = (s: number[]): number[] => s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  n.shape.forEach((d, ax) => {
    for (const smaller of [1, Math.floor(d / 2), d - 1]) {
      if (smaller < 1 || smaller >= d) continue;
      const shape = n.shape.map((e, i) => (i === ax ? smaller : e));
      const st = stridesOf(n.shape);
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Array.from({ length: size }, (_, flat) => {
        let rest = flat, off = 0;
        stridesOf(shape).forEach((s, i) => { const q = Math.floor(rest / s); rest -= q * s; off += q * st[i]!; });
        return n.data[off]!;
      });
      out.push({ ...n, shape, data });
    }
  });
  if (n.dtype === 'float32' || n.dtype === 'float64') {
    const rounded = n.data.map((x) => (Number.isFinite(x) ? Math.round(x) : x));
    if (rounded.some((x, i) => !Object.is(x, n.data[i]))) out.push({ ...n, data: rounded });
  }
  n.data.forEach((x, i) => {
    if (x !== 0 && x !== 1 && !(n.dtype === 'int32')) out.push({ ...n, data: n.data.map((y, j) => (j === i ? 1 : y)) });
  });
  return out;
}

/**
 * Greedy shrinking: keep one output, cut the graph at a node (its js value becomes an input), drop
 * an op by passing one of its arguments through, shrink inputs. Each candidate must still disagree.
 */
export async function shrink(start: Program, log: (s: string) => void = () => {}): Promise<{ program: Program; reason: string }> {
  let best = prune(start);
  let reason = await check(best);
  if (!reason) return { program: best, reason: 'no longer disagrees when run alone' };
  const tryCandidate = async (c: Program): Promise<boolean> => {
    let q: Program;
    try { q = prune(c); } catch { return false; }
    if (JSON.stringify(q) === JSON.stringify(best) || !forwardBuilds(q)) return false;
    const r = await check(q);
    if (!r) return false;
    best = q;
    reason = r;
    return true;
  };
  for (let round = 0; round < 20; round++) {
    let progress = false;
    if (best.outputs.length > 1) {
      for (const o of best.outputs) if (await tryCandidate({ ...best, outputs: [o] })) { progress = true; break; }
    }
    for (let k = best.outputs.length - 1; k >= 0 && best.outputs.length > 1; k--) {
      if (await tryCandidate({ ...best, outputs: best.outputs.filter((_, j) => j !== k) })) progress = true;
    }
    for (let i = best.nodes.length - 1; i >= 0; i--) {
      const n = best.nodes[i];
      if (!n || n.kind !== 'op') continue;
      // Pass an argument of the same shape and dtype through in place of the op.
      for (const a of n.args) {
        const nodes = best.nodes.map((m, j) => (j > i && m.kind === 'op' ? { ...m, args: m.args.map((x) => (x === i ? a : x)) } : m));
        const outputs = best.outputs.map((o) => (o === i ? a : o));
        if (await tryCandidate({ nodes, outputs })) { progress = true; break; }
      }
    }
    for (let i = best.nodes.length - 1; i >= 0; i--) {
      const n = best.nodes[i];
      if (!n || n.kind !== 'op') continue;
      const input = await asInput(best, i);
      if (input && await tryCandidate({ ...best, nodes: best.nodes.map((m, j) => (j === i ? input : m)) })) progress = true;
    }
    for (let i = 0; i < best.nodes.length; i++) {
      const n = best.nodes[i]!;
      if (n.kind !== 'input') continue;
      for (const c of simplerInputs(n)) {
        if (await tryCandidate({ ...best, nodes: best.nodes.map((m, j) => (j === i ? c : m)) })) { progress = true; break; }
      }
    }
    log(`shrink round ${round}: ${best.nodes.length} nodes`);
    if (!progress) break;
  }
  return { program: best, reason: reason! };
}

/**
 * Whether the library accepts a rewritten program's calls (a shrink that breaks a shape rule is no
 * smaller version of the same disagreement). Gradients are left out: a gradient that fails to
 * build is what some shrinks keep.
 */
function forwardBuilds(p: Program): boolean {
  try {
    z.setBackend('js');
    const ts: z.Tensor[] = [];
    for (const n of p.nodes) ts.push(n.kind === 'input' ? z.tensor(n.data, { dtype: n.dtype, shape: n.shape }) : CALLS[n.op]!(n.args.map((j) => ts[j]!), n.attrs));
    return true;
  } catch {
    return false;
  }
}

/** A readable listing of a program, one node a line. */
export function describe(p: Program): string {
  return p.nodes.map((n, i) => {
    if (n.kind === 'input') return `v${i} = ${n.dtype}[${n.shape}] ${JSON.stringify(n.data.map((x) => (Number.isFinite(x) ? x : String(x))))}`;
    return `v${i} = ${n.op}(${n.args.map((a) => `v${a}`).join(', ')}${Object.keys(n.attrs).length ? `, ${JSON.stringify(n.attrs)}` : ''})`;
  }).join('\n') + `\noutputs: ${p.outputs.map((o) => `v${o}`).join(', ')}`;
}

/** Programs as JSON keep NaN and infinities (JSON has none): numbers that are not finite become strings. */
export function toJson(p: Program): unknown {
  return { nodes: p.nodes.map((n) => (n.kind === 'input' ? { ...n, data: n.data.map((x) => (Number.isFinite(x) && !Object.is(x, -0) ? x : String(Object.is(x, -0) ? '-0' : x))) } : n)), outputs: p.outputs };
}
export function fromJson(j: { nodes: (Node & { data?: (number | string)[] })[]; outputs: number[] }): Program {
  return {
    nodes: j.nodes.map((n) => (n.kind === 'input' ? { ...n, data: (n.data as (number | string)[]).map((x) => (typeof x === 'string' ? (x === '-0' ? -0 : Number(x)) : x)) } : n)) as Node[],
    outputs: j.outputs,
  };
}
export { sinks };
