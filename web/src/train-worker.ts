/**
 * The Train tab's Web Worker: trains a TrainingSession (trainer.ts) off the page's thread, so the page
 * stays responsive, and reports progress by message. Protocol (page -> worker):
 *   { type: 'start', config, runtime }   build the session and train (runtime: EP, threads, ORT files URL)
 *   { type: 'stop' } / { type: 'resume' } pause after the current step / continue
 *   { type: 'translate', text }           greedy translation with the attention map
 *   { type: 'download' }                  the model folder's files
 * and back: 'ready', 'step', 'validation', 'paused', 'done', 'translation', 'files', 'error'.
 */
// The default build (WASM and WebGPU, through JSEP). The plain 'onnxruntime-web/wasm' build (the
// explorer's) failed here in 1.30: a session run a second time with the same shapes in a greedy
// decode rejected its feeds ("Unexpected input data type. Actual: (null)").
import * as ort from 'onnxruntime-web';
import * as z from '../../src/browser.js';
import { type TrainConfig, TrainingSession } from './trainer.js';
import { type FinetuneConfig, finetuneBert } from './bert-finetune.js';

export interface RuntimeChoice {
  /** Where onnxruntime-web's .wasm/.mjs files are served (the page's ./ort/). */
  wasmPaths: string;
  /** WASM threads (more than 1 only on a cross-origin-isolated page). */
  threads: number;
  executionProvider: 'wasm' | 'webgpu';
}

export type ToWorker =
  | { type: 'start'; config: TrainConfig; runtime: RuntimeChoice }
  | { type: 'stop' } | { type: 'resume' }
  | { type: 'translate'; text: string }
  | { type: 'download' }
  | { type: 'finetune'; files: Record<string, Uint8Array>; url?: string; tsv: string; config: FinetuneConfig; runtime: RuntimeChoice }
  | { type: 'download-bert' };

const post = (message: unknown, transfer: Transferable[] = []): void => (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(message, transfer);

let session: TrainingSession | null = null;
let bert: { model: z.BertForSequenceClassification; tokenizer: z.BertTokenizer } | null = null;
let runtimeSet = false;

/** onnxruntime-web's settings, once: its WASM thread pool is sized when the first session starts. */
function useRuntime(r: RuntimeChoice): void {
  if (runtimeSet) return;
  runtimeSet = true;
  ort.env.wasm.wasmPaths = r.wasmPaths;
  ort.env.wasm.numThreads = r.threads;
  z.setOrtRuntime(ort as unknown as z.OrtWebRuntime);
  z.configureOrt({ threads: r.threads, executionProviders: r.executionProvider === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'] });
}
let paused = false;
let running = false;
/**
 * Requests that use the model (translate, download) while training runs wait for the end of the
 * current step: a translation must not switch dropout off in the middle of a step, nor a step
 * switch it on in the middle of a translation.
 */
let between: Array<() => Promise<void>> = [];

function betweenSteps(job: () => Promise<void>): Promise<void> {
  if (!running) return job();
  return new Promise((ok, fail) => between.push(() => job().then(ok, fail)));
}

async function drain(): Promise<void> {
  const jobs = between;
  between = [];
  for (const job of jobs) await job();
}

/** Validation after every this many steps, and at each epoch's end. */
const VALIDATE_EVERY = 200;

async function validate(s: TrainingSession): Promise<void> {
  const exactMatch = await s.exactMatch(s.valid);
  post({ type: 'validation', step: s.step, epoch: s.epoch, exactMatch, count: s.valid.length, attention: await s.attention(s.example) });
}

async function trainLoop(): Promise<void> {
  const s = session!;
  if (running) return;
  running = true;
  try {
    let windowStart = performance.now();
    let windowTokens = 0;
    let windowSteps = 0;
    while (!s.done && !paused) {
      const epochBefore = s.epoch;
      const { loss, tokens } = await s.trainStep();
      windowTokens += tokens;
      windowSteps++;
      const seconds = (performance.now() - windowStart) / 1000;
      post({ type: 'step', step: s.step, totalSteps: s.totalSteps, epoch: s.epoch, loss, tokensPerSecond: windowTokens / seconds, stepsPerSecond: windowSteps / seconds });
      if (seconds > 5) { windowStart = performance.now(); windowTokens = 0; windowSteps = 0; }
      if (s.step % VALIDATE_EVERY === 0 || s.epoch !== epochBefore || s.done) {
        await validate(s);
        windowStart = performance.now(); windowTokens = 0; windowSteps = 0;
      }
      // ONNX Runtime's WASM runs resolve through microtasks only: without a macrotask turn here the
      // worker would never see Stop, a translation or a download until training ended.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (between.length) {
        await drain();
        windowStart = performance.now(); windowTokens = 0; windowSteps = 0;
      }
    }
    if (s.done) {
      const started = performance.now();
      const exactMatch = await s.exactMatch(s.test);
      post({ type: 'done', step: s.step, testExactMatch: exactMatch, testCount: s.test.length, evalSeconds: (performance.now() - started) / 1000 });
    } else post({ type: 'paused', step: s.step });
  } finally {
    running = false;
    await drain();
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'start': {
      useRuntime(m.runtime);
      session = new TrainingSession(m.config);
      paused = false;
      post({ type: 'ready', totalSteps: session.totalSteps, example: session.example, config: session.config, train: session.options });
      await trainLoop();
      return;
    }
    case 'stop': paused = true; return;
    case 'resume': {
      if (!session || session.done) return;
      paused = false;
      await trainLoop();
      return;
    }
    case 'translate': {
      const s = session;
      if (!s) throw new z.ZhuyiError('nothing trained yet: press Train first');
      await betweenSteps(async () => {
        const [text] = await s.translate([m.text]);
        post({ type: 'translation', input: m.text, text, attention: await s.attention(m.text) });
      });
      return;
    }
    case 'finetune': {
      useRuntime(m.runtime);
      let files: Record<string, Uint8Array> | Map<string, Uint8Array> = m.files;
      if (m.url) {
        // A folder URL: the model and tokenizer files fetched beside each other.
        const base = new URL(m.url.endsWith('/') ? m.url : `${m.url}/`);
        const fetched = new Map<string, Uint8Array>();
        for (const name of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
          const res = await fetch(new URL(name, base));
          if (res.ok) fetched.set(name, new Uint8Array(await res.arrayBuffer()));
        }
        files = fetched;
      }
      const result = await finetuneBert(files, m.tsv, m.config, (e) => post({ type: 'bert-epoch', ...e }));
      bert = { model: result.model, tokenizer: result.tokenizer };
      post({ type: 'bert-done', accuracy: result.accuracy });
      return;
    }
    case 'download-bert': {
      if (!bert) throw new z.ZhuyiError('nothing fine-tuned yet');
      const zip = await z.hfFolderZip(bert.model, bert.tokenizer);
      post({ type: 'files', name: 'zhuyi-bert-classifier.zip', zip }, [zip.buffer]);
      return;
    }
    case 'download': {
      const s = session;
      if (!s) throw new z.ZhuyiError('nothing trained yet: press Train first');
      await betweenSteps(async () => {
        const zip = z.zipFiles(await s.folderFiles());
        post({ type: 'files', name: `zhuyi-${s.options.task}-${s.options.model}.zip`, step: s.step, zip }, [zip.buffer]);
      });
      return;
    }
  }
}

// Messages are handled one at a time, except that stop/translate/download arrive while training runs.
self.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
