/**
 * One training run per folder. A run holds `outDir/train.lock` (created with O_EXCL, holding the
 * run's pid, host and start time) from before it writes anything into the folder until it ends, so a
 * second run pointed at the same `--out` stops at once instead of interleaving checkpoints, logs and
 * tokenizers with the first.
 *
 * A run killed with SIGKILL (or a power loss) leaves its lock behind; the next run sees that the
 * pid is no longer alive on this host and takes the lock over, with a notice. A lock written on
 * another host (a shared filesystem) cannot be checked, so it is respected; the message names the
 * file to delete.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ZhuyiError } from '../tensor/errors.js';

export class RunLockError extends ZhuyiError {}

export const LOCK_FILE = 'train.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  who: string;
}

/** Locks this process holds, by folder, with a count: a run's train() inside trainTranslator re-enters. */
const held = new Map<string, number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
  // A killed run is a zombie until its parent (or init) reaps it, and signal 0 still reaches a
  // zombie: a resume started right after `kill -9` would find the dead run "alive".
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'; // "pid (name) STATE ppid ..."
  } catch {
    return false; // gone meanwhile
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' ? (info as LockInfo) : null;
  } catch {
    return null;
  }
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RunLockError(`${info.who}: cannot create the run lock ${path} (${(e as Error).message})`);
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `dir`'s run lock for this process (creating `dir`); returns the function that releases it.
 * Throws RunLockError naming the folder and the holder's pid when another live run holds it.
 */
export function lockRunFolder(dir: string, who: string, warn: (line: string) => void = (l) => console.error(l)): () => void {
  mkdirSync(dir, { recursive: true });
  const key = resolve(dir);
  const path = join(key, LOCK_FILE);
  const release = (): void => {
    const n = held.get(key)! - 1;
    if (n > 0) { held.set(key, n); return; }
    held.delete(key);
    if (readLock(path)?.pid === process.pid) {
      try { unlinkSync(path); } catch { /* already gone */ }
    }
  };
  if (held.has(key)) {
    held.set(key, held.get(key)! + 1);
    return release;
  }
  const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), who };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, mine)) {
      held.set(key, 1);
      return release;
    }
    const holder = readLock(path);
    if (holder === null) {
      // Created but not yet written by a run starting right now, or garbage: give a starting run a moment.
      let age = Infinity;
      try { age = Date.now() - statSync(path).mtimeMs; } catch { continue; }
      if (age < 5000) throw new RunLockError(`${who}: ${dir} is in use by another training run that is starting (lock ${path}); wait for it or choose another --out`);
    } else if (holder.host !== mine.host || alive(holder.pid)) {
      throw new RunLockError(
        `${who}: ${dir} is in use by another training run (pid ${holder.pid} on ${holder.host}, ${holder.who}, started ${holder.started}; lock ${path}). ` +
        `Wait for it to finish or choose another --out; if no run is using the folder, delete ${path}.`,
      );
    }
    // Stale: move it aside atomically, so of two runs taking it over at once only one removes it.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else took it over first: look again
    }
    const moved = readLock(aside);
    if (moved !== null && holder !== null && moved.pid !== holder.pid) {
      // We moved a lock a faster run had just created: put it back and report it as in use.
      renameSync(aside, path);
      throw new RunLockError(`${who}: ${dir} is in use by another training run (pid ${moved.pid}; lock ${path}); wait for it to finish or choose another --out`);
    }
    unlinkSync(aside);
    warn(`${who}: took over the lock ${path} of a run that is no longer running (pid ${holder?.pid ?? 'unknown'}${holder ? `, started ${holder.started}` : ''}); its last checkpoint is kept`);
  }
  throw new RunLockError(`${who}: could not take the run lock ${path} (other runs keep taking it)`);
}

/** Runs `fn` holding `dir`'s run lock; releases it however `fn` ends. */
export async function withRunLock<T>(dir: string, who: string, fn: () => Promise<T>, warn?: (line: string) => void): Promise<T> {
  const release = lockRunFolder(dir, who, warn);
  try {
    return await fn();
  } finally {
    release();
  }
}
