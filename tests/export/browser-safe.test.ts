/**
 * The runner is imported by the browser explorer: everything it loads at run time (following
 * value imports, not `import type`, which TypeScript erases) must stay free of node: modules and of
 * packages other than the browser-safe ones listed here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers.js';

const ALLOWED_PACKAGES = new Set(['@huggingface/tokenizers']);

/** Value imports and re-exports of a TypeScript module (type-only ones skipped). */
function valueImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*'([^']+)'/gms;
  for (const m of source.matchAll(re)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3]!.trim();
    // `import { type A, type B } from` is erased too.
    const names = clause.startsWith('{') ? clause.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean) : [clause];
    if (names.length && names.every((n) => n.startsWith('type '))) continue;
    out.push(m[4]!);
  }
  for (const m of source.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

/** Every module `entry` loads at run time, and the packages it reaches. */
function closure(entry: string): { modules: string[]; external: Map<string, string> } {
  const seen = new Set<string>();
  const external = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of valueImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.set(spec, file);
    }
  };
  visit(entry);
  return { modules: [...seen].map((f) => f.slice(ROOT.length + 1)).sort(), external };
}

test('src/export/runner.ts loads no node: module and only browser-safe packages', () => {
  const { modules, external } = closure(join(ROOT, 'src/export/runner.ts'));
  for (const [spec, from] of external) {
    assert.ok(!spec.startsWith('node:'), `${from.slice(ROOT.length + 1)} imports ${spec}`);
    assert.ok(ALLOWED_PACKAGES.has(spec), `${from.slice(ROOT.length + 1)} imports the package ${spec}`);
  }
  // The modules the browser bundle gets, so a change here is a visible decision.
  assert.ok(!modules.some((m) => /src\/(tensor\/tensor|ops|backends|io|nn)\b/.test(m)), `runner pulls tensor code: ${modules.join(', ')}`);
  assert.ok(modules.includes('src/text/bert/tokenizer-core.ts') && modules.includes('src/text/files.ts'));
});
