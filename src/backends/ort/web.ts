/**
 * The browser half of the ort backend (node.ts is the Node half): the same platform-neutral backend
 * (backend.ts) over onnxruntime-web, loaded on the first realize.
 *
 * onnxruntime-web is an optional peer dependency: `import('onnxruntime-web')` is the default, and an
 * app that loads its own build (e.g. 'onnxruntime-web/wasm', or one with `env.wasm.wasmPaths` set)
 * hands it over with `setOrtRuntime(ort)` before the first realize.
 *
 * Defaults: WebGPU first where the browser has it (`navigator.gpu` with an adapter), then WASM (ONNX Runtime places
 * every node the WebGPU provider lacks on WASM); threads = the cores when the page is cross-origin
 * isolated (SharedArrayBuffer, needed for WASM threads), else 1.
 */
import { ZhuyiError } from '../../tensor/errors.js';
import { DEFAULT_CACHE_SIZE, type OrtBackend, type OrtOptions, type OrtRuntime, installOrt, ortConfig } from './backend.js';

/** What the web binding needs of an onnxruntime-web module beyond OrtRuntime: its global env (threads). */
export interface OrtWebRuntime extends OrtRuntime {
  readonly env: { wasm: { numThreads?: number } };
}

interface NavigatorLike { readonly hardwareConcurrency?: number; readonly gpu?: unknown }

const nav = (): NavigatorLike => ((globalThis as { navigator?: NavigatorLike }).navigator ?? {});

/** Whether this page may run WASM threads (COOP/COEP headers: `zhuyi serve` sends them). */
export function crossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** Whether the browser exposes WebGPU (it may still have no adapter; ONNX Runtime then fails to create a WebGPU session). */
export function hasWebGpu(): boolean {
  return nav().gpu !== undefined;
}

/**
 * Whether WebGPU has an adapter here: `navigator.gpu` exists in Chromium even without a usable GPU
 * (headless, no drivers), and a session asking for 'webgpu' there logs a warning and runs on WASM.
 */
export async function webGpuAdapter(): Promise<boolean> {
  const gpu = nav().gpu as { requestAdapter?: () => Promise<unknown> } | undefined;
  if (!gpu?.requestAdapter) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** The browser's defaults; `gpu` says whether WebGPU has an adapter (see webGpuAdapter; default: navigator.gpu exists). */
export function webDefaults(gpu = hasWebGpu()): Required<OrtOptions> {
  return {
    threads: crossOriginIsolated() ? Math.max(1, nav().hardwareConcurrency ?? 1) : 1,
    cacheSize: DEFAULT_CACHE_SIZE,
    executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'],
    graphOptimizationLevel: 'all',
    memoryArena: 'auto',
    arenaBudgetMB: 2048,
    symbolicShapes: true,
    memoryPattern: true, // ONNX Runtime's default; the Node measurement behind false was not repeated in browsers
    profilePrefix: '',
  };
}

let runtime: OrtWebRuntime | null = null;
let loading: Promise<OrtBackend> | null = null;

/**
 * Hands zhuyi the onnxruntime-web module to use (before the first realize); without it zhuyi imports
 * 'onnxruntime-web' itself.
 */
export function setOrtRuntime(ort: OrtWebRuntime): void {
  if (loading) throw new ZhuyiError('setOrtRuntime: the ort backend is already loaded; call it before the first realize');
  runtime = ort;
}

/** Loads onnxruntime-web (once) and returns the shared backend. */
export function createWebOrtBackend(): Promise<OrtBackend> {
  const load = runtime ? Promise.resolve(runtime) : (import('onnxruntime-web') as Promise<unknown> as Promise<OrtWebRuntime>);
  loading ??= Promise.all([load, webGpuAdapter()]).then(
    ([ort, gpu]) => {
      const backend = installOrt(ort, webDefaults(gpu));
      // WASM's thread pool is sized once, when ONNX Runtime initialises (the first session).
      ort.env.wasm.numThreads = ortConfig().threads;
      return backend;
    },
    (e: Error) => {
      loading = null;
      throw new ZhuyiError(`ort backend: could not load onnxruntime-web (${e.message}); install it (npm install onnxruntime-web) or setBackend('js')`);
    },
  );
  return loading;
}
