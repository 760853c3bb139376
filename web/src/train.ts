/**
 * The Train tab: pick a built-in task and a model, press Train, and watch it learn in this page: the
 * loss curve, tokens/s, validation exact match and the attention of a fixed example, updated live.
 * Training runs in a Web Worker (train-worker.ts) on zhuyi/browser, so the page stays responsive;
 * stop, resume, translate typed input, and download the model folder as a zip that `zhuyi translate
 * run/eval` reads as it is.
 *
 * A second panel fine-tunes a BERT classifier (bert-finetune.ts) from an HF folder, picked or at a
 * URL, on pasted text<TAB>label lines, in its own worker.
 *
 * For tests and screenshots the page mirrors its state in document.body.dataset: step, totalSteps,
 * loss, validExactMatch, testExactMatch (when training is done), state (idle, training, paused, done,
 * error), bertState and bertAccuracy, and a `?task=&model=&autostart=1` URL starts training unattended.
 */
import './style.css';
import { heatmap, lineChart } from '../../src/viz/svg.js';
import type { ModelKind, TaskName } from './presets.js';
import type { RuntimeChoice, ToWorker } from './train-worker.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const select = (id: string, options: Array<[string, string]>): HTMLSelectElement => el('select', { id }, ...options.map(([v, label]) => new Option(label, v)));

const isolated = globalThis.crossOriginIsolated === true;
const cores = navigator.hardwareConcurrency || 1;
const taskSelect = select('task', [['numbers', 'numbers (12,345 → words)'], ['dates', 'dates (Wed 5 Aug 1992 → 1992-08-05)'], ['reverse', 'reverse (a b c → c b a)']]);
const modelSelect = select('model-kind', [['attention', 'RNN + attention (Bahdanau)'], ['transformer', 'Transformer'], ['seq2seq', 'RNN Seq2Seq (GRU)']]);
const epSelect = select('ep', [['wasm', 'WASM (CPU)'], ['webgpu', 'WebGPU']]);
const threadsSelect = select('threads', [...new Set([1, 2, 4, cores])].filter((n) => n <= cores).sort((a, b) => a - b).map((n) => [String(n), `${n} thread${n > 1 ? 's' : ''}`] as [string, string]));
const trainButton = el('button', { id: 'train', textContent: 'Train' });
const stopButton = el('button', { id: 'stop', textContent: 'Stop', disabled: true });
const resumeButton = el('button', { id: 'resume', textContent: 'Resume', disabled: true });
const downloadButton = el('button', { id: 'download', textContent: 'Download weights', disabled: true });
const stats = el('p', { id: 'train-stats', className: 'stats', textContent: 'not started' });
const status = el('p', { id: 'status' });
const lossChart = el('div', { id: 'loss-chart', className: 'map' });
const validLine = el('p', { id: 'valid', className: 'stats' });
const attentionMap = el('div', { id: 'train-attention', className: 'map' });
const translateInput = el('input', { id: 'translate-input', type: 'text', placeholder: 'type an input once a few steps have run', disabled: true });
const translateOutput = el('p', { id: 'translate-output', className: 'output' });
const translateMap = el('div', { id: 'translate-attention', className: 'map' });
const bertFiles = el('input', { id: 'bert-files', type: 'file', multiple: true });
bertFiles.setAttribute('webkitdirectory', '');
const bertUrl = el('input', { id: 'bert-url', type: 'text', placeholder: 'or a folder URL, e.g. ./models/bert-tiny/' });
const bertTsv = el('textarea', { id: 'bert-tsv', rows: 6, spellcheck: false, placeholder: 'text<TAB>label, one example per line' });
const bertEpochs = el('input', { id: 'bert-epochs', type: 'number', value: '3', min: '1', max: '50' });
const bertLr = el('input', { id: 'bert-lr', type: 'text', value: '1e-4', size: 6 });
const bertButton = el('button', { id: 'bert-finetune', textContent: 'Fine-tune' });
const bertDownload = el('button', { id: 'bert-download', textContent: 'Download HF folder', disabled: true });
const bertStatus = el('p', { id: 'bert-status', className: 'stats' });

if (!isolated) threadsSelect.disabled = true;
else threadsSelect.value = String(cores);
if (!('gpu' in navigator)) (epSelect.options[1] as HTMLOptionElement).disabled = true;

const runtimeNote = `${isolated ? `cross-origin isolated: WASM threads available (${cores} cores)` : 'not cross-origin isolated: one WASM thread (serve with COOP/COEP headers, as zhuyi serve does, for more)'}; WebGPU ${'gpu' in navigator ? 'exposed by this browser (used if it has an adapter)' : 'not available'}`;

document.body.append(
  el('header', {}, el('h1', { textContent: 'zhuyi: train in the browser', title: 'zhuyi 注意: attention' }),
    el('nav', { className: 'tabs' }, el('a', { href: './index.html', textContent: 'Explore' }), ' · ', el('strong', { textContent: 'Train' })),
    el('p', { className: 'model', id: 'runtime', textContent: runtimeNote })),
  el('main', {},
    el('div', { className: 'controls' }, el('label', { htmlFor: 'task', textContent: 'Task' }), taskSelect, el('label', { htmlFor: 'model-kind', textContent: 'Model' }), modelSelect,
      el('label', { htmlFor: 'ep', textContent: 'Runs on' }), epSelect, threadsSelect),
    el('div', { className: 'controls' }, trainButton, stopButton, resumeButton, downloadButton),
    stats, status,
    el('section', { id: 'loss-section' }, el('h2', { textContent: 'Training loss' }), lossChart),
    el('section', { id: 'valid-section' }, el('h2', { textContent: 'Validation' }), validLine, attentionMap),
    el('section', { id: 'translate-section' }, el('h2', { textContent: 'Translate' }), translateInput, translateOutput, translateMap),
    el('section', { id: 'bert-section' }, el('h2', { textContent: 'Fine-tune a BERT classifier' }),
      el('p', { className: 'note', textContent: 'An HF folder (config.json, model.safetensors, vocab.txt or tokenizer.json: pick the folder, or give its URL) and pasted text<TAB>label lines; 80% trains, 20% is held out.' }),
      el('div', { className: 'controls' }, bertFiles, bertUrl), bertTsv,
      el('div', { className: 'controls' }, el('label', { htmlFor: 'bert-epochs', textContent: 'Epochs' }), bertEpochs, el('label', { htmlFor: 'bert-lr', textContent: 'lr' }), bertLr, bertButton, bertDownload), bertStatus)),
);

const data = document.body.dataset;
data.state = 'idle';
let worker: Worker | null = null;
let losses: Array<[number, number]> = [];
let validPoints: Array<[number, number]> = [];

function setState(state: 'idle' | 'training' | 'paused' | 'done' | 'error'): void {
  data.state = state;
  trainButton.disabled = state === 'training';
  stopButton.disabled = state !== 'training';
  resumeButton.disabled = state !== 'paused';
  downloadButton.disabled = state === 'idle' || state === 'error' || !worker;
  translateInput.disabled = state === 'idle' || !worker;
}

function drawLoss(): void {
  // At most ~400 points: the mean of each run of steps.
  const every = Math.max(1, Math.ceil(losses.length / 400));
  const points: Array<[number, number]> = [];
  for (let i = 0; i < losses.length; i += every) {
    const run = losses.slice(i, i + every);
    points.push([run[run.length - 1]![0], run.reduce((s, p) => s + p[1], 0) / run.length]);
  }
  lossChart.innerHTML = lineChart([{ name: 'train loss', points }], { title: 'cross-entropy (label smoothing 0.1)', xLabel: 'step', yLabel: 'loss', width: 640, height: 260, logY: true });
}

function drawAttention(target: HTMLElement, a: { rows: string[]; cols: string[]; weights: number[][]; text: string; translation: string } | null, id: string): void {
  target.innerHTML = a ? heatmap(a.weights, a.rows, a.cols, `${a.text} → ${a.translation}`, { id, cellData: true }) : '<p class="note">The plain Seq2Seq has no attention to show.</p>';
}

function download(bytes: Uint8Array, name: string): void {
  const a = el('a', { href: URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

interface FromWorker {
  type: string; message?: string; step?: number; totalSteps?: number; epoch?: number; loss?: number; tokensPerSecond?: number; stepsPerSecond?: number;
  exactMatch?: number; count?: number; testExactMatch?: number; testCount?: number; attention?: { rows: string[]; cols: string[]; weights: number[][]; text: string; translation: string } | null;
  text?: string; input?: string; zip?: Uint8Array; name?: string;
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      data.totalSteps = String(m.totalSteps);
      status.textContent = `training ${modelSelect.selectedOptions[0]!.text} on ${taskSelect.value}: ${m.totalSteps} steps`;
      break;
    case 'step':
      losses.push([m.step!, m.loss!]);
      data.step = String(m.step);
      data.loss = m.loss!.toFixed(4);
      data.stepsPerSecond = m.stepsPerSecond!.toFixed(3);
      stats.textContent = `step ${m.step} / ${m.totalSteps} · epoch ${m.epoch! + 1} · loss ${m.loss!.toFixed(3)} · ${Math.round(m.tokensPerSecond!)} tokens/s · ${m.stepsPerSecond!.toFixed(2)} steps/s`;
      if (m.step! % 5 === 0 || m.step === m.totalSteps) drawLoss();
      if (m.step! >= 1) translateInput.disabled = false;
      break;
    case 'validation':
      validPoints.push([m.step!, 100 * m.exactMatch!]);
      data.validExactMatch = m.exactMatch!.toFixed(4);
      validLine.textContent = `validation exact match ${(100 * m.exactMatch!).toFixed(1)}% of ${m.count} at step ${m.step} (${validPoints.map((p) => `${p[1].toFixed(0)}%`).join(' → ')})`;
      drawAttention(attentionMap, m.attention ?? null, 'valid-heatmap');
      break;
    case 'paused':
      setState('paused');
      status.textContent = `stopped at step ${m.step}: Resume continues from there`;
      break;
    case 'done':
      drawLoss();
      setState('done');
      data.testExactMatch = m.testExactMatch!.toFixed(4);
      status.textContent = `done: held-out exact match ${(100 * m.testExactMatch!).toFixed(2)}% of ${m.testCount} (greedy, as zhuyi translate eval)`;
      break;
    case 'translation':
      translateOutput.textContent = m.text ?? '';
      translateOutput.dataset.input = m.input;
      drawAttention(translateMap, m.attention ?? null, 'translate-heatmap');
      break;
    case 'files':
      download(m.zip!, m.name!);
      data.downloadedStep = String(m.step);
      break;
    case 'error':
      status.textContent = m.message ?? 'error';
      status.classList.add('error');
      data.error = m.message;
      setState('error');
      break;
  }
}

function send(m: ToWorker): void {
  worker?.postMessage(m);
}

function start(): void {
  worker?.terminate();
  losses = [];
  validPoints = [];
  lossChart.innerHTML = '';
  attentionMap.innerHTML = '';
  validLine.textContent = '';
  status.classList.remove('error');
  delete data.error;
  delete data.testExactMatch;
  worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: 'error', message: e.message });
  setState('training');
  send({ type: 'start', config: { task: taskSelect.value as TaskName, model: modelSelect.value as ModelKind }, runtime: runtimeChoice() });
}

let bertWorker: Worker | null = null;

function runtimeChoice(): RuntimeChoice {
  return { wasmPaths: new URL('./ort/', document.baseURI).href, threads: Number(threadsSelect.value), executionProvider: epSelect.value as 'wasm' | 'webgpu' };
}

async function finetune(): Promise<void> {
  bertWorker?.terminate();
  bertWorker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
  data.bertState = 'training';
  delete data.bertAccuracy;
  bertButton.disabled = true;
  bertDownload.disabled = true;
  bertStatus.classList.remove('error');
  bertStatus.textContent = 'reading the folder…';
  bertWorker.onmessage = (e: MessageEvent<FromWorker & { epochs?: number; heldOut?: number; accuracy?: number; labels?: string[] }>) => {
    const m = e.data;
    if (m.type === 'bert-epoch') {
      bertStatus.textContent = `epoch ${m.epoch} / ${m.epochs}: loss ${m.loss!.toFixed(4)}, held-out accuracy ${(100 * m.accuracy!).toFixed(1)}% of ${m.heldOut} (labels ${m.labels!.join(', ')})`;
      data.bertEpoch = String(m.epoch);
    } else if (m.type === 'bert-done') {
      data.bertState = 'done';
      data.bertAccuracy = m.accuracy!.toFixed(4);
      bertButton.disabled = false;
      bertDownload.disabled = false;
    } else if (m.type === 'files') download(m.zip!, m.name!);
    else if (m.type === 'error') {
      bertStatus.textContent = m.message ?? 'error';
      bertStatus.classList.add('error');
      data.bertState = 'error';
      data.bertError = m.message;
      bertButton.disabled = false;
    }
  };
  const files: Record<string, Uint8Array> = {};
  for (const f of Array.from(bertFiles.files ?? [])) files[f.name] = new Uint8Array(await f.arrayBuffer());
  const url = bertUrl.value.trim() ? new URL(bertUrl.value.trim(), document.baseURI).href : undefined;
  bertWorker.postMessage({ type: 'finetune', files, ...(url && { url }), tsv: bertTsv.value, config: { epochs: Number(bertEpochs.value) || 3, lr: Number(bertLr.value) || 1e-4 }, runtime: runtimeChoice() } satisfies ToWorker);
}

bertButton.addEventListener('click', () => void finetune());
bertDownload.addEventListener('click', () => bertWorker?.postMessage({ type: 'download-bert' } satisfies ToWorker));
trainButton.addEventListener('click', start);
stopButton.addEventListener('click', () => send({ type: 'stop' }));
resumeButton.addEventListener('click', () => {
  setState('training');
  status.textContent = `training resumed at step ${data.step ?? 0}`;
  send({ type: 'resume' });
});
downloadButton.addEventListener('click', () => send({ type: 'download' }));
let timer: ReturnType<typeof setTimeout> | undefined;
translateInput.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => send({ type: 'translate', text: translateInput.value }), 200);
});

const params = new URL(location.href).searchParams;
if (params.get('task')) taskSelect.value = params.get('task')!;
if (params.get('model')) modelSelect.value = params.get('model')!;
if (params.get('threads') && isolated) threadsSelect.value = params.get('threads')!;
if (params.get('autostart') === '1') start();
