/** Every registered op has all its parts and is exercised by the golden suite (forward or gradient graph). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { defineOp } from '../../src/ops/registry.js';
import { CASES } from './cases.js';
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

test('every registered op has a shape rule, a kernel, a vjp or an explicit nondiff mark, and an ONNX lowering', () => {
  for (const op of z.listOps()) {
    assert.equal(typeof op.infer, 'function', `${op.name}: shape rule`);
    assert.equal(typeof op.kernel, 'function', `${op.name}: kernel`);
    assert.ok(op.vjp === 'nondiff' || typeof op.vjp === 'function', `${op.name}: vjp or 'nondiff'`);
    assert.equal(typeof op.onnx, 'function', `${op.name}: ONNX lowering`);
  }
});

test('every registered op is covered by a golden test case', () => {
  const covered = new Set<string>();
  for (const rec of GOLDEN_OPS.cases) {
    const inputs = rec.inputs.map((r) => fromRecord(r, 'float64', rec.grads !== undefined));
    const out = CASES[rec.name]!(...inputs);
    const roots = [out];
    if (rec.grads) roots.push(...z.grad(out.sum(), inputs.filter((t) => t.requiresGrad)));
    opsIn(roots, covered);
  }
  // dtype casts are exercised by the golden cases that mix dtypes (oneHot, sum of bool...).
  const missing = z.listOps().map((o) => o.name).filter((n) => !covered.has(n));
  assert.deepEqual(missing, [], `registered ops without a golden test: ${missing.join(', ')}`);
});

test('defining an op without a kernel or a vjp (or a nondiff mark) is refused', () => {
  const infer = (): z.Meta => ({ shape: [], dtype: 'float32' });
  const kernel = (): Float32Array => new Float32Array(1);
  const noVjp = { name: 'test_noVjp', infer, kernel, onnx: null } as unknown as Parameters<typeof defineOp>[0];
  assert.throws(() => defineOp(noVjp), /lacks a vjp/);
  const noKernel = { name: 'test_noKernel', infer, vjp: 'nondiff', onnx: null } as unknown as Parameters<typeof defineOp>[0];
  assert.throws(() => defineOp(noKernel), /lacks a shape rule or a kernel/);
  assert.ok(!z.listOps().some((o) => o.name.startsWith('test_')));
});
