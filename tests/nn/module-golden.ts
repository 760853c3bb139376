/**
 * Module goldens from tests/golden/gen_rnn_attn.py: PyTorch weights loaded through loadStateDict
 * (the key list must equal PyTorch's state_dict order), the same outputs, and the same gradients of
 * sum(w * output) for every float input and every parameter, on every backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../../src/index.js';
import type { Module, Tensor } from '../../src/index.js';
import { GOLDEN, assertClose } from '../helpers.js';

export interface ModuleCase {
  name: string;
  /** state_dict keys in PyTorch's order. */
  keys: string[];
  outputs: string[];
  params: Map<string, Tensor>;
  inputs: Map<string, Tensor>;
  tensors: Map<string, Tensor>;
}

/** Reads one fixture file into its cases; extra non-case tensors stay reachable through `tensors`. */
export function loadModuleGoldens(file: string): { cases: Map<string, ModuleCase>; tensors: Map<string, Tensor> } {
  const { tensors, metadata } = z.parseSafetensors(new Uint8Array(readFileSync(join(GOLDEN, file))), file);
  const meta = JSON.parse(metadata.cases ?? '{}') as Record<string, { keys: string[]; outputs: string[] }>;
  const cases = new Map<string, ModuleCase>();
  for (const [name, m] of Object.entries(meta)) {
    const pick = (kind: string): Map<string, Tensor> => {
      const prefix = `${name}/${kind}/`;
      return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    };
    cases.set(name, { name, keys: m.keys, outputs: m.outputs, params: pick('param'), inputs: pick('in'), tensors });
  }
  return { cases, tensors };
}

/** Backends to test: ZHUYI_TEST_BACKENDS or js and ort. */
export function goldenBackends(): string[] {
  return (process.env.ZHUYI_TEST_BACKENDS ?? 'js,ort').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Runs `body` with backend `b` active (restoring the previous one); returns false (after saying why) when `b` is unavailable. */
export async function onBackend(b: string, body: () => Promise<void>): Promise<boolean> {
  const prev = z.getBackend();
  try {
    z.setBackend(b);
  } catch (e) {
    console.log(`skipping backend '${b}': ${(e as Error).message}`);
    return false;
  }
  try {
    await body();
  } finally {
    z.setBackend(prev);
  }
  return true;
}

export const TOL = { rtol: 1e-4, atol: 1e-5 };

/** The largest share of the tolerance any element used, |a - b| / (atol + rtol |b|) (<= 1 passes), for the report. */
const worst = { value: 0, where: '' };
export function worstRelativeError(): { value: number; where: string } { return worst; }

function trackWorst(actual: ArrayLike<number>, expected: ArrayLike<number>, where: string): void {
  for (let i = 0; i < expected.length; i++) {
    const e = Number(expected[i]);
    const r = Math.abs(Number(actual[i]) - e) / (TOL.atol + TOL.rtol * Math.abs(e));
    if (r > worst.value) { worst.value = r; worst.where = `${where}[${i}] (expected ${e.toPrecision(4)}, got ${Number(actual[i]).toPrecision(8)})`; }
  }
}

/**
 * Loads the case's weights into `module` (asserting PyTorch's key list), runs `forward` on the
 * case's inputs (float inputs require grad), and compares outputs and gradients with PyTorch's.
 */
export async function checkModuleCase(
  c: ModuleCase,
  module: Module | null,
  forward: (inputs: Record<string, Tensor>) => Record<string, Tensor | null>,
): Promise<void> {
  const params: Tensor[] = [];
  const paramNames: string[] = [];
  if (module) {
    module.eval();
    assert.deepEqual(Object.keys(module.stateDict()), c.keys, `${c.name}: state-dict keys differ from PyTorch's`);
    await module.loadStateDict(c.params);
    for (const [k, p] of module.namedParameters()) { paramNames.push(k); params.push(p); }
  } else assert.equal(c.keys.length, 0, `${c.name}: the PyTorch module has parameters`);
  const inputs: Record<string, Tensor> = {};
  const floatInputs: [string, Tensor][] = [];
  for (const [k, t] of c.inputs) {
    if (t.dtype === 'float32') {
      inputs[k] = z.tensor(t.buffer!, { shape: t.shape, requiresGrad: true });
      floatInputs.push([k, inputs[k]!]);
    } else inputs[k] = t;
  }
  const outs = forward(inputs);
  assert.deepEqual(Object.keys(outs).sort(), [...c.outputs].sort(), `${c.name}: outputs`);
  let loss: Tensor | null = null;
  for (const k of c.outputs) {
    const y = outs[k];
    assert.ok(y, `${c.name}: output ${k} is null`);
    const expected = c.tensors.get(`${c.name}/out/${k}`)!;
    assert.deepEqual([...y.shape], [...expected.shape], `${c.name}: shape of ${k}`);
    const term = z.sum(z.mul(y, c.tensors.get(`${c.name}/w/${k}`)!));
    loss = loss ? z.add(loss, term) : term;
  }
  const wrt = [...floatInputs.map(([, t]) => t), ...params];
  const grads = z.grad(loss!, wrt);
  await z.realize(...c.outputs.map((k) => outs[k]!), ...grads);
  for (const k of c.outputs) {
    const got = await outs[k]!.data();
    const expected = await c.tensors.get(`${c.name}/out/${k}`)!.data();
    trackWorst(got, expected, `${c.name} ${k}`);
    assertClose(got, expected, { ...TOL, what: `${c.name} output ${k}` });
  }
  const names = [...floatInputs.map(([k]) => `in/${k}`), ...paramNames.map((k) => `param/${k}`)];
  assert.deepEqual(
    names.filter((n) => n.startsWith('param/')).sort(),
    [...c.tensors.keys()].filter((k) => k.startsWith(`${c.name}/grad/param/`)).map((k) => k.slice(c.name.length + 6)).sort(),
    `${c.name}: parameters with gradients`,
  );
  for (let i = 0; i < names.length; i++) {
    const expected = c.tensors.get(`${c.name}/grad/${names[i]}`);
    assert.ok(expected, `${c.name}: no PyTorch gradient for ${names[i]}`);
    const got = await grads[i]!.data();
    trackWorst(got, await expected.data(), `${c.name} grad ${names[i]}`);
    assertClose(got, await expected.data(), { ...TOL, what: `${c.name} grad ${names[i]}` });
  }
}

export type ModuleBuilder = () => [Module | null, Parameters<typeof checkModuleCase>[2]];

/** The shared golden suite of one fixture: every case has a builder, every case matches PyTorch on every backend. */
export function describeModuleGoldens(label: string, cases: Map<string, ModuleCase>, build: Record<string, ModuleBuilder>): void {
  describe(`${label} goldens`, () => {
    test('every fixture case has a zhuyi builder', () => {
      assert.deepEqual([...cases.keys()].sort(), Object.keys(build).sort());
    });
    for (const b of goldenBackends()) {
      for (const c of cases.values()) {
        test(`${c.name} on ${b}`, async () => {
          await onBackend(b, async () => {
            const [m, f] = build[c.name]!();
            await checkModuleCase(c, m, f);
          });
        });
      }
    }
    test('worst error is within the tolerance', () => {
      const w = worstRelativeError();
      console.log(`${label}: worst error ${(100 * w.value).toFixed(1)}% of the tolerance (atol ${TOL.atol} + rtol ${TOL.rtol}) at ${w.where}`);
      assert.ok(w.where !== '', `${label}: no golden element was compared`);
      assert.ok(w.value <= 1, `${label}: worst error is ${w.value.toFixed(2)}x the tolerance at ${w.where}`);
    });
  });
}
