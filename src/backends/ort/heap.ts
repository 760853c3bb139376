/**
 * One heap for every ONNX Runtime session, by default: the `zhuyi` command (and the benchmarks)
 * relaunch themselves once with glibc's malloc told never to give memory back to the OS.
 *
 * Why: without its arena, ONNX Runtime takes every intermediate tensor from malloc and frees it at
 * the end of the run. glibc serves large blocks with mmap and unmaps them on free, so each run
 * touches fresh pages, and on these VMs a fresh page costs about 10 us (a Transformer-block step:
 * 448k minor faults in 20 steps, 2x slower). ONNX Runtime's own arena avoids that but keeps each
 * cached session's peak for the session's lifetime (15 GB for the ~40 sessions of a Multi30k run).
 * With `mmap_max=0` and a high trim threshold, freed blocks stay in the process heap and the next
 * run of any session reuses them: the memory held is the largest single run's, shared by all
 * sessions, and pages are touched once.
 *
 * The tunables must be in the environment when the process starts (glibc reads them once), so a
 * library cannot set them for its host process; node.ts turns ONNX Runtime's arena on instead
 * (within a memory budget) when it runs in a process that was not started this way.
 */
import { spawn } from 'node:child_process';

/** glibc tunables: no mmap for large blocks, trim the heap top only beyond 4 GiB. */
export const HEAP_TUNABLES = ['glibc.malloc.mmap_max=0', 'glibc.malloc.trim_threshold=4294967296'];

/** Whether this process was started with the tunables above (by relaunchWithTunedHeap or by hand). */
export function heapIsTuned(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = new Set((env.GLIBC_TUNABLES ?? '').split(':'));
  return HEAP_TUNABLES.every((t) => set.has(t));
}

/** glibc on Linux (the tunables mean nothing to musl, macOS or Windows). */
function glibcLinux(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/** GLIBC_TUNABLES with ours added, keeping whatever the user set (theirs win on the same key). */
export function tunedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const theirs = (env.GLIBC_TUNABLES ?? '').split(':').filter(Boolean);
  const keys = new Set(theirs.map((t) => t.split('=')[0]));
  const merged = [...theirs, ...HEAP_TUNABLES.filter((t) => !keys.has(t.split('=')[0]))];
  return { ...env, GLIBC_TUNABLES: merged.join(':') };
}

/** Set in the relaunched process's environment. */
const RELAUNCHED = 'ZHUYI_HEAP_RELAUNCHED';

/**
 * In the relaunched process: die with the launcher. `kill -9` of the `zhuyi` command kills the
 * launcher only; without this the training would go on in the background, holding its folder's lock.
 * The channel does not keep the process alive.
 */
function exitWithParent(): void {
  delete process.env[RELAUNCHED]; // not inherited by the process's own children
  if (!process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

/**
 * Relaunches this Node process (same arguments, stdio and working folder) with the tuned heap and
 * resolves with its exit code; resolves null when no relaunch is needed or possible (already
 * tuned, not glibc, or ZHUYI_TUNED_HEAP=0). Ctrl-C reaches the child through the terminal's
 * process group; SIGTERM and SIGHUP sent to this process are passed on; if this process is killed
 * outright, the child kills itself (exitWithParent).
 */
export function relaunchWithTunedHeap(): Promise<number> | null {
  if (process.env[RELAUNCHED] === '1') exitWithParent();
  if (process.env.ZHUYI_TUNED_HEAP === '0' || heapIsTuned() || !glibcLinux()) return null;
  // An IPC channel that closes when this process dies, however it dies (SIGKILL included).
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...tunedEnv(), [RELAUNCHED]: '1' },
  });
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGKILL' ? 137 : 143)));
  });
}
