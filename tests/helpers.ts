/** Shared test utilities: closeness assertions, finite-difference gradient checks, golden fixture loading. */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator, type Tensor, grad, noGrad, tensor } from '../src/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GOLDEN = join(ROOT, 'tests', 'golden');
export const SHARED_DATA = join(ROOT, '..', 'shared', 'data');

/** Asserts |a - b| <= atol + rtol * |b| elementwise (NaN matches NaN, infinities must match exactly). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4, what = 'values' } = {}): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]);
    const b = Number(expected[i]);
    if (Number.isNaN(b) || !Number.isFinite(b)) {
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) assert.fail(`${what}[${i}]: got ${a}, expected ${b}`);
      continue;
    }
    const err = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) { worst = i; worstErr = err; }
  }
  if (worst >= 0) assert.fail(`${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}

export async function assertTensorClose(t: Tensor, expected: ArrayLike<number>, shape: readonly number[], opts: Parameters<typeof assertClose>[2] = {}): Promise<void> {
  assert.deepEqual([...t.shape], [...shape], `${opts.what ?? 'tensor'}: shape`);
  assertClose(await t.data(), expected, opts);
}

/**
 * Finite-difference check of d(sum(w * f(inputs)))/d(inputs) with a fixed random w, in float64.
 * Central differences with step eps; compares with the lazy autograd gradient.
 */
export async function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  { eps = 1e-6, atol = 1e-6, rtol = 1e-4, seed = 1, what = 'gradcheck' } = {},
): Promise<void> {
  const xs = inputs.map((x) => {
    if (x.dtype !== 'float64') throw new Error('gradcheck: pass float64 inputs');
    return tensor(x.buffer!.slice(), { dtype: 'float64', shape: x.shape, requiresGrad: true });
  });
  const out = f(...xs);
  const g = new Generator(seed);
  const w = tensor(Float64Array.from({ length: out.size }, () => g.normal()), { dtype: 'float64', shape: out.shape });
  const loss = out.mul(w).sum();
  const analytic = grad(loss, xs);
  const weights = await w.data();
  for (let k = 0; k < xs.length; k++) {
    const base = xs[k]!.buffer!;
    const numeric = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const evalAt = async (v: number): Promise<ArrayLike<number>> => {
        const moved = base.slice() as Float64Array;
        moved[i] = v;
        const args = xs.map((x, j) => (j === k ? tensor(moved, { dtype: 'float64', shape: x.shape }) : x.detach()));
        return noGrad(() => f(...args)).data();
      };
      const plus = await evalAt(base[i]! + eps);
      const minus = await evalAt(base[i]! - eps);
      // Difference per element before weighting, so large constant outputs (-1e9 fills) cancel exactly.
      let s = 0;
      for (let t = 0; t < plus.length; t++) s += ((plus[t]! - minus[t]!) / (2 * eps)) * weights[t]!;
      numeric[i] = s;
    }
    assertClose(await analytic[k]!.data(), numeric, { atol, rtol, what: `${what}: d/d input ${k}` });
  }
}

/** Loads tests/golden/NAME (JSON). */
export function loadGolden<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(GOLDEN, name), 'utf8')) as T;
}

/** Skips (with a visible reason) when ../shared/data/SUB is absent. */
export function sharedDataOrSkip(sub: string): string | null {
  const p = join(SHARED_DATA, sub);
  return existsSync(p) ? p : null;
}

/** The `zhuyi` command as a user runs it (through tsx, from src), as a child process. */
export const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];

export interface CliResult { status: number | null; stdout: string; stderr: string }

/** Runs `zhuyi ...args` to completion (stdin from `input`); never throws on a non-zero exit. */
export function zhuyi(args: string[], { input, timeout = 240_000 }: { input?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', input, timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
