/**
 * Backends the op suite runs on: ZHUYI_TEST_BACKENDS (comma list; default js, ort and the active one), keeping those
 * that are registered. A backend that is asked for but not registered is skipped with a printed line,
 * so one suite covers every backend as backends land.
 */
import * as z from '../../src/index.js';

export function backendsUnderTest(): string[] {
  const active = z.getBackend();
  const fromEnv = process.env.ZHUYI_TEST_BACKENDS;
  // By default: the reference backend, ONNX Runtime, and whatever backend is active.
  const wanted = fromEnv ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : [...new Set(['js', 'ort', active])];
  const usable = wanted.filter((name) => {
    try {
      z.setBackend(name);
      return true;
    } catch {
      console.log(`# skip backend '${name}': not registered`);
      return false;
    } finally {
      z.setBackend(active);
    }
  });
  if (usable.length === 0) throw new Error(`ZHUYI_TEST_BACKENDS=${wanted.join(',')} names no registered backend`);
  return usable;
}

/** Runs `fn` with `backend` active, restoring the previous backend afterwards. */
export async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  const prev = z.getBackend();
  z.setBackend(backend);
  try {
    return await fn();
  } finally {
    z.setBackend(prev);
  }
}
