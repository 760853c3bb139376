/** Page module: bench.ts on zhuyi/browser; ?threads=n sets the WASM threads before the runtime starts. */
import { env } from 'onnxruntime-web';
import * as z from '../../../src/browser.js';

env.wasm.wasmPaths = new URL('/ort/', location.href).href;
z.configureOrt({ threads: Number(new URL(location.href).searchParams.get('threads') ?? '1') });

export { transformerStepsPerSecond } from './bench.js';
export const isolated = (): boolean => crossOriginIsolated;
