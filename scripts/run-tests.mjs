#!/usr/bin/env node
// Runs every tests/**/*.test.ts with node's test runner (TypeScript through tsx).
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=matmul).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const fileArgs = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const files = fileArgs.length ? fileArgs : find('tests').sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
