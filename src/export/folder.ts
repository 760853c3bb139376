/** Files of an export folder: copying the tokenizer files in, listing what was written. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { MANIFEST_FILE } from './manifest.js';

/** Copies `names` (those present) from `from` to `out/dir`; returns the copied names. */
export function copyFiles(from: string, out: string, dir: string, names: readonly string[]): string[] {
  const copied: string[] = [];
  for (const name of names) {
    const src = join(from, name);
    if (!existsSync(src) || !statSync(src).isFile()) continue;
    const dst = join(out, dir, name);
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(src, dst);
    copied.push(name);
  }
  return copied;
}

/** Every file under `out` (relative, '/'-separated), manifest.json aside. */
export function listFiles(out: string): string[] {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [relative(out, p).split('\\').join('/')];
  });
  return walk(out).filter((f) => f !== MANIFEST_FILE).sort();
}
