/** Page module: the training steps of steps.ts on zhuyi/browser, onnxruntime-web's runtime served under /ort/. */
import { env } from 'onnxruntime-web';
import * as z from '../../../src/browser.js';

env.wasm.wasmPaths = new URL('/ort/', location.href).href;

export { transformerStep, bertStep } from './steps.js';

/** Selects the backend ('ort' or 'js') for the next calls. */
export function useBackend(name: string): string {
  z.setBackend(name);
  return z.getBackend();
}
export { decodeAll } from './decode.js';
