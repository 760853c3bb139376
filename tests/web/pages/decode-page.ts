/** Page module (probe): greedy decoding of the ladder's models on zhuyi/browser. */
import { env } from 'onnxruntime-web';
import * as z from '../../../src/browser.js';

env.wasm.wasmPaths = new URL('/ort/', location.href).href;
z.configureOrt({ threads: Number(new URL(location.href).searchParams.get('threads') ?? '1') });

export { decodeAll } from './decode.js';
