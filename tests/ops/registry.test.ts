/**
 * The registry is complete: every registered op has a shape rule, a kernel and a vjp (or an explicit
 * 'nondiff' mark), is exercised by a PyTorch golden case, and, if differentiable, by a gradcheck.
 * Coverage is traced, not declared: the ops a case covers are the ops in the graphs it builds
 * (forward, and the gradient graph for cases with gradients), so the table cannot claim more than runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { defineOp, getOp } from '../../src/ops/registry.js';
import { gradcheck } from '../helpers.js';
import { CASES, NO_FINITE_DIFFERENCES } from './cases.js';
import { GOLDEN_OPS, fromRecord } from './fixture.js';

function opsIn(roots: readonly Tensor[], into: Set<string>): void {
  const seen = new Set<Tensor>();
  const stack = [...roots];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.op) into.add(t.op);
    stack.push(...t.inputs);
  }
}

/** Op name -> golden cases whose forward graph holds it, and the same for the gradient graphs. */
interface Coverage {
  forward: Map<string, string[]>;
  gradient: Map<string, string[]>;
  /** Ops whose vjp ran while building a golden case's gradient. */
  vjpGolden: Set<string>;
  /** Ops whose vjp ran for a case that gradcheck also checks by finite differences. */
  gradchecked: Set<string>;
}

/** Traces every golden case, recording the ops in its graphs and the vjps grad() calls for it. */
function traceCoverage(): Coverage {
  const forward = new Map<string, string[]>();
  const gradient = new Map<string, string[]>();
  const vjpGolden = new Set<string>();
  const gradchecked = new Set<string>();
  const note = (map: Map<string, string[]>, ops: Set<string>, name: string): void => {
    for (const op of ops) map.set(op, [...(map.get(op) ?? []), name]);
  };
  let called = new Set<string>();
  const restore: (() => void)[] = [];
  for (const op of z.listOps()) {
    if (op.vjp === 'nondiff') continue;
    const def = op as { vjp: unknown };
    const vjp = op.vjp;
    def.vjp = (...args: Parameters<typeof vjp>) => { called.add(op.name); return vjp(...args); };
    restore.push(() => { def.vjp = vjp; });
  }
  try {
    for (const rec of GOLDEN_OPS.cases) {
      const inputs = rec.inputs.map((r) => fromRecord(r, 'float64', rec.grads !== undefined));
      const out = CASES[rec.name]!(...inputs);
      const fwd = new Set<string>();
      opsIn([out], fwd);
      note(forward, fwd, rec.name);
      if (!rec.grads) continue;
      called = new Set();
      const back = new Set<string>();
      opsIn(z.grad(out.sum(), inputs.filter((t) => t.requiresGrad)), back);
      note(gradient, back, rec.name);
      for (const op of called) {
        vjpGolden.add(op);
        if (!NO_FINITE_DIFFERENCES.has(rec.name)) gradchecked.add(op);
      }
    }
  } finally {
    for (const r of restore) r();
  }
  return { forward, gradient, vjpGolden, gradchecked };
}

test('every registered op has a shape rule, a kernel and a vjp or an explicit nondiff mark', () => {
  for (const op of z.listOps()) {
    assert.equal(typeof op.infer, 'function', `${op.name}: shape rule`);
    assert.equal(typeof op.kernel, 'function', `${op.name}: kernel`);
    assert.ok(op.vjp === 'nondiff' || typeof op.vjp === 'function', `${op.name}: vjp or 'nondiff'`);
  }
});

test('every registered op has an ONNX lowering once the ort backend is registered', (t) => {
  const missing = z.listOps().filter((op) => typeof op.onnx !== 'function').map((op) => op.name);
  const prev = z.getBackend();
  let ortRegistered = true;
  try { z.setBackend('ort'); } catch { ortRegistered = false; } finally { z.setBackend(prev); }
  if (!ortRegistered) {
    t.diagnostic(`ort backend not registered; ops without an ONNX lowering: ${missing.join(', ') || 'none'}`);
    return;
  }
  assert.deepEqual(missing, [], `ops without an ONNX lowering: ${missing.join(', ')}`);
});

test('every registered op is covered by a golden case; every differentiable op by a gradient golden and a gradcheck', () => {
  const { forward, gradient, vjpGolden, gradchecked } = traceCoverage();
  const ops = z.listOps();
  const untested = ops.map((o) => o.name).filter((n) => !forward.has(n) && !gradient.has(n));
  assert.deepEqual(untested, [], `registered ops no golden case exercises: ${untested.join(', ')}`);
  const differentiable = ops.filter((o) => o.vjp !== 'nondiff').map((o) => o.name);
  const noGoldenGrad = differentiable.filter((n) => !vjpGolden.has(n));
  assert.deepEqual(noGoldenGrad, [], `differentiable ops whose vjp no golden gradient exercises: ${noGoldenGrad.join(', ')}`);
  const noGradcheck = differentiable.filter((n) => !gradchecked.has(n));
  assert.deepEqual(noGradcheck, [], `differentiable ops no finite-difference gradcheck covers: ${noGradcheck.join(', ')}`);
});

test('defining an op without a kernel, an ONNX lowering or a vjp (or a nondiff mark) is refused', () => {
  const infer = (): z.Meta => ({ shape: [], dtype: 'float32' });
  const kernel = (): Float32Array => new Float32Array(1);
  const onnx = (): string => 'y';
  const noVjp = { name: 'test_noVjp', infer, kernel, onnx } as unknown as Parameters<typeof defineOp>[0];
  assert.throws(() => defineOp(noVjp), /lacks a vjp/);
  const noKernel = { name: 'test_noKernel', infer, vjp: 'nondiff', onnx } as unknown as Parameters<typeof defineOp>[0];
  assert.throws(() => defineOp(noKernel), /lacks a shape rule or a kernel/);
  const noOnnx = { name: 'test_noOnnx', infer, kernel, vjp: 'nondiff', onnx: null } as unknown as Parameters<typeof defineOp>[0];
  assert.throws(() => defineOp(noOnnx), /lacks an ONNX lowering/);
  assert.ok(!z.listOps().some((o) => o.name.startsWith('test_')));
});

test('gradcheck can fail: a wrong vjp is caught', async () => {
  // The suite is only as good as its checker: swap sigmoid's vjp for a subtly wrong one for a moment.
  const sigmoid = getOp('sigmoid') as { vjp: unknown };
  const right = sigmoid.vjp;
  sigmoid.vjp = ({ out }: { out: Tensor }, g: Tensor) => [g.mul(out).mul(out.mul(-1).add(1.001))];
  const prev = z.getBackend();
  z.setBackend('js');
  try {
    const x = z.tensor([0.3, -1.2, 2], { dtype: 'float64' });
    await assert.rejects(gradcheck((a) => a.sigmoid(), [x]), /d\/d input 0/);
  } finally {
    sigmoid.vjp = right;
    z.setBackend(prev);
  }
});
