/**
 * The Node half of the ort backend, and the only file that touches Node APIs: loads
 * onnxruntime-node lazily (importing zhuyi stays cheap; the native library loads on the first
 * realize) and reads the environment for defaults. A browser build swaps this for a file that
 * passes onnxruntime-web to installOrt.
 */
import { cpus, totalmem } from 'node:os';
import { heapIsTuned } from './heap.js';
import { ZhuyiError } from '../../tensor/errors.js';
import { DEFAULT_CACHE_SIZE, type GraphOptimizationLevel, type OrtBackend, type OrtOptions, type OrtRuntime, installOrt } from './backend.js';

const LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/**
 * Defaults from the environment: ZHUYI_THREADS, ZHUYI_EP (e.g. "cuda,cpu"), ZHUYI_ORT_OPT,
 * ZHUYI_ORT_ARENA (auto, the default, 1 or 0), ZHUYI_ORT_ARENA_BUDGET_MB, ZHUYI_ORT_SYMBOLIC (1, the
 * default, or 0: compile concrete shapes), ZHUYI_ORT_MEM_PATTERN (0, the default, or 1), ZHUYI_ORT_CACHE (shapes
 * kept), ZHUYI_ORT_PROFILE (a profile file prefix).
 */
export function nodeDefaults(env: NodeJS.ProcessEnv = process.env): Required<OrtOptions> {
  const threads = Number(env.ZHUYI_THREADS);
  if (env.ZHUYI_THREADS !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new ZhuyiError(`ZHUYI_THREADS must be a positive integer, got '${env.ZHUYI_THREADS}'`);
  }
  const level = (env.ZHUYI_ORT_OPT ?? 'all') as GraphOptimizationLevel;
  if (!LEVELS.includes(level)) throw new ZhuyiError(`ZHUYI_ORT_OPT must be one of ${LEVELS.join(', ')}, got '${level}'`);
  const arena = env.ZHUYI_ORT_ARENA ?? 'auto';
  if (arena !== '0' && arena !== '1' && arena !== 'auto') throw new ZhuyiError(`ZHUYI_ORT_ARENA must be auto, 1 (a memory arena per session) or 0, got '${arena}'`);
  const budget = Number(env.ZHUYI_ORT_ARENA_BUDGET_MB ?? Math.min(8192, Math.floor(totalmem() / 4 / 2 ** 20)));
  if (!(Number.isInteger(budget) && budget > 0)) throw new ZhuyiError(`ZHUYI_ORT_ARENA_BUDGET_MB must be a positive integer, got '${env.ZHUYI_ORT_ARENA_BUDGET_MB}'`);
  const cacheSize = Number(env.ZHUYI_ORT_CACHE ?? DEFAULT_CACHE_SIZE);
  if (!(Number.isInteger(cacheSize) && cacheSize > 0)) throw new ZhuyiError(`ZHUYI_ORT_CACHE must be a positive integer, got '${env.ZHUYI_ORT_CACHE}'`);
  return {
    threads: env.ZHUYI_THREADS !== undefined ? threads : Math.max(1, cpus().length),
    cacheSize,
    executionProviders: env.ZHUYI_EP ? env.ZHUYI_EP.split(',').map((s) => s.trim()).filter(Boolean) : ['cpu'],
    graphOptimizationLevel: level,
    memoryArena: arena === 'auto' ? 'auto' : arena === '1',
    arenaBudgetMB: budget,
    symbolicShapes: env.ZHUYI_ORT_SYMBOLIC !== '0',
    memoryPattern: env.ZHUYI_ORT_MEM_PATTERN === '1',
    profilePrefix: env.ZHUYI_ORT_PROFILE ?? '',
  };
}

let loading: Promise<OrtBackend> | null = null;

/** Loads onnxruntime-node (once) and returns the shared backend. */
export function createOrtBackend(): Promise<OrtBackend> {
  loading ??= import('onnxruntime-node').then(
    (ort) => {
      const backend = installOrt(ort as unknown as OrtRuntime, nodeDefaults(), { heapTuned: heapIsTuned(), residentBytes: () => process.memoryUsage.rss() });
      // Sessions still cached at exit write their profiles (profilePrefix / ZHUYI_ORT_PROFILE).
      process.once('exit', () => backend.endProfiling());
      return backend;
    },
    (e: Error) => {
      loading = null;
      throw new ZhuyiError(`ort backend: could not load onnxruntime-node (${e.message}); setBackend('js') runs without it`);
    },
  );
  return loading;
}
