/**
 * The engine's module layout: a deep import registers every op, and no import cycle exists outside
 * the engine core (`npm run cycles` prints the same report).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENGINE_CORE, cyclesOf, findCycles, importsOf } from '../../scripts/cycles.js';
import * as z from '../../src/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

test('a deep import of the tensor module registers every op and computes', () => {
  // A fresh process that never imports the package root: ops must register through tensor.ts itself.
  const tensorUrl = new URL('../../src/tensor/tensor.ts', import.meta.url).href;
  const registryUrl = new URL('../../src/ops/registry.ts', import.meta.url).href;
  const jsUrl = new URL('../../src/backends/js/index.ts', import.meta.url).href;
  const realizeUrl = new URL('../../src/tensor/realize.ts', import.meta.url).href;
  const code = `
    import { tensor } from '${tensorUrl}';
    import { listOps } from '${registryUrl}';
    import { JsBackend } from '${jsUrl}';
    import { registerBackend } from '${realizeUrl}';
    registerBackend('js', new JsBackend());
    const s = await tensor([0, 1, 2]).exp().sum().item();
    console.log(JSON.stringify({ ops: listOps().map((o) => o.name).sort(), s }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { ops: string[]; s: number };
  assert.deepEqual(out.ops, z.listOps().map((o) => o.name).sort());
  assert.ok(Math.abs(out.s - (1 + Math.E + Math.E ** 2)) < 1e-5, `exp-sum ${out.s}`);
});

test('no import cycle between files or folders outside the engine core', () => {
  const r = findCycles(ROOT);
  assert.ok(r.files > 100, `only ${r.files} files seen`);
  assert.deepEqual(r.offending, [], `cycles outside ${ENGINE_CORE.join(', ')}: ${JSON.stringify(r.offending)}`);
});

test('the cycle finder sees run-time imports, ignores type-only ones, and finds a cycle', () => {
  const text = `import type { A } from './a.js';\nimport { type B } from './b.js';\nimport { c } from './c.js';\nexport * from './d.js';\nexport type { E } from './e.js';\nconst f = await import('./f.js');`;
  assert.deepEqual(importsOf('x.ts', text), ['./c.js', './d.js', './f.js']);
  assert.deepEqual(importsOf('x.ts', text, true), ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js']);
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
  assert.deepEqual(cyclesOf(g), [['a', 'b', 'c']]);
  assert.deepEqual(cyclesOf(new Map([['a', new Set(['a'])]])), [['a']]);
});
