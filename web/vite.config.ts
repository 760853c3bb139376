/**
 * Vite build of the zhuyi explorer (web/ -> web/dist). Run with `npm run build:web`.
 *
 * Offline by construction: onnxruntime-web's WebAssembly runtime is copied next to the bundle
 * (dist/ort/) and the app points `ort.env.wasm.wasmPaths` there, so nothing is fetched from a CDN.
 * The build also writes dist/sources.json, the repository files it was built from, so tests can
 * tell a stale bundle from a fresh one.
 */
import { copyFileSync, createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = join(WEB, '..');
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
/**
 * The plain WASM runtime (SIMD; threads only on cross-origin-isolated pages): what `onnxruntime-web/wasm`
 * loads (the explorer); and the JSEP one (WASM + WebGPU): what `onnxruntime-web` loads (the Train tab's worker).
 */
export const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'];

/** ort's bundles also name their .wasm through new URL(..., import.meta.url); wasmPaths points at ort/, so that copy goes. */
function dropOrtWasm(bundle: Record<string, unknown>): void {
  for (const name of Object.keys(bundle)) if (/ort-wasm[^/]*\.wasm$/.test(name)) delete bundle[name];
}

/** Copies the ort runtime to dist/ort/ on build; serves it from node_modules in `vite dev`. */
function ortRuntime(): Plugin {
  let outDir = '';
  return {
    name: 'zhuyi-ort-runtime',
    configResolved(c) { outDir = c.build.outDir; },
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
        if (!ORT_FILES.includes(name)) { next(); return; }
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(ORT_DIST, name)).pipe(res);
      });
    },
    // ort's bundle also names the .wasm through new URL(..., import.meta.url), which Vite would
    // emit a second time (14 MB) under assets/; wasmPaths points at ort/, so drop that copy.
    generateBundle(_options, bundle) {
      dropOrtWasm(bundle);
    },
    writeBundle() {
      mkdirSync(join(outDir, 'ort'), { recursive: true });
      for (const f of ORT_FILES) copyFileSync(join(ORT_DIST, f), join(outDir, 'ort', f));
    },
  };
}

/** Modules of the Web Worker bundles (built apart from the pages), for sources.json. */
const workerModules = new Set<string>();

function workerSources(): Plugin {
  return {
    name: 'zhuyi-worker-sources',
    buildEnd() { for (const id of this.getModuleIds()) workerModules.add(id); },
    generateBundle(_options, bundle) { dropOrtWasm(bundle); },
  };
}

/** Writes dist/sources.json: the repository files (outside node_modules) in the bundle, workers included. */
function sourceList(): Plugin {
  let outDir = '';
  return {
    name: 'zhuyi-source-list',
    configResolved(c) { outDir = c.build.outDir; },
    writeBundle() {
      const files = [...this.getModuleIds(), ...workerModules]
        .filter((id) => id.startsWith(ROOT) && !id.includes('node_modules') && !id.includes('\0'))
        .map((id) => relative(ROOT, id.split('?')[0]!))
        .sort();
      writeFileSync(join(outDir, 'sources.json'), `${JSON.stringify([...new Set(files)], null, 1)}\n`);
    },
  };
}

export default defineConfig({
  root: WEB,
  base: './',
  plugins: [ortRuntime(), sourceList()],
  // Module workers (the Train tab trains in one): ES output, so they can import onnxruntime-web.
  worker: { format: 'es', plugins: () => [workerSources()] },
  build: {
    // Two pages: the explorer (index.html) and the Train tab (train.html).
    rollupOptions: { input: { index: join(WEB, 'index.html'), train: join(WEB, 'train.html') } },
    outDir: join(WEB, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: { host: '127.0.0.1' },
});
