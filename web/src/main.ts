/**
 * The zhuyi explorer: type a sentence, see what an exported model makes of it and where it looked.
 * Everything runs in this page with onnxruntime-web (WASM); `zhuyi serve` only serves files.
 *
 * Timing: when the first result is on screen the page records the time since navigation started
 * (module load + runtime + model download + session creation + the first run) in
 * document.body.dataset.firstResultMs and in the status line.
 */
import './style.css';
import { type BertResult, type Engine, type TranslationResult, loadEngine } from './engine.js';
import { escapeXml } from '../../src/viz/svg.js';
import { AlignmentView, HeadView, ModelView, scoreBars } from './views.js';

const DEBOUNCE_MS = 150;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function section(title: string, id: string): HTMLElement {
  return el('section', { id }, el('h2', { textContent: title }));
}

const status = el('p', { id: 'status', textContent: 'loading the model…' });
const input = el('textarea', { id: 'text', rows: 2, spellcheck: false, placeholder: 'type a sentence', disabled: true });
// 注意 (zhuyi, "attention") stays in the tooltip: headless Chromium and many Linux boxes lack a CJK font.
const header = el('header', {}, el('h1', { textContent: 'zhuyi explorer', title: 'zhuyi 注意: attention' }),
  el('nav', { className: 'tabs' }, el('strong', { textContent: 'Explore' }), ' · ', el('a', { href: './train.html', textContent: 'Train' })),
  el('p', { id: 'model', className: 'model' }));
const main = el('main', {}, el('label', { htmlFor: 'text', textContent: 'Input' }), input, status);
document.body.append(header, main);

/** Shows one result; the views are created on first use so each model kind gets only its own. */
function makeRenderer(engine: Engine): (result: TranslationResult | BertResult) => void {
  if (engine.task === 'translation') {
    const outSection = section('Output', 'translation');
    const output = el('p', { id: 'output', className: 'output' });
    outSection.append(output);
    const alignSection = section('Cross-attention (output token ← source token)', 'cross-attention');
    const alignment = new AlignmentView(alignSection);
    main.append(outSection, alignSection);
    return (r) => {
      const t = r as TranslationResult;
      output.textContent = t.text;
      output.dataset.tokens = String(t.outputTokens.length);
      alignment.show(t.crossAttention, t.outputTokens, t.sourceTokens);
    };
  }
  const predSection = section(engine.head === 'masked-lm' ? 'Fill-mask predictions' : engine.head === 'token-classification' ? 'Token labels' : 'Scores', 'predictions');
  const predictions = el('div', { id: 'prediction-list' });
  predSection.append(predictions);
  const headSection = section('Head view', 'head-view-section');
  const heads = new HeadView(headSection);
  const modelSection = section('Model view (layers × heads; click a map to open it in the head view)', 'model-view-section');
  const model = new ModelView(modelSection, (l, h) => heads.focus(l, h));
  main.append(predSection, headSection, modelSection);
  return (r) => {
    const b = r as BertResult;
    predictions.innerHTML = bertPredictions(b);
    heads.show(b.attentions, b.tokens);
    model.show(b.attentions, b.tokens);
  };
}

function bertPredictions(b: BertResult): string {
  if (b.fillMask) {
    if (b.fillMask.length === 0) return '<p class="note">Write [MASK] in the text to see the model fill it in.</p>';
    return b.fillMask.map((candidates, k) => `<h3>[MASK] ${k + 1}</h3>${scoreBars(candidates, `fill-mask-${k}`)}`).join('');
  }
  if (b.classes) return scoreBars(b.classes, 'classes');
  if (b.tokenLabels) {
    const words = b.tokenLabels.map((t) => `<span class="tagged" title="${escapeXml(`${t.label} ${t.score.toFixed(3)}`)}"><span class="word">${escapeXml(t.word)}</span><span class="tag">${escapeXml(t.label)}</span></span>`);
    return `<p class="token-labels" id="token-labels">${words.join(' ')}</p>`;
  }
  return '';
}

async function start(): Promise<void> {
  const engine = await loadEngine(new URL('./model/', document.baseURI));
  document.getElementById('model')!.textContent = engine.description;
  document.title = `zhuyi explorer — ${engine.description}`;
  const render = makeRenderer(engine);
  const fromUrl = new URL(location.href).searchParams.get('text');
  input.value = fromUrl ?? engine.example;
  input.disabled = false;
  input.focus();

  // One run at a time (a session runs one request); while it runs, only the latest text waits.
  let running = false;
  let pending: string | null = null;
  let first = true;
  const run = async (text: string): Promise<void> => {
    if (running) { pending = text; return; }
    running = true;
    try {
      const t0 = performance.now();
      const result = await engine.run(text);
      render(result);
      const ms = performance.now() - t0;
      if (first) {
        first = false;
        const total = performance.now();
        document.body.dataset.firstResultMs = total.toFixed(0);
        status.textContent = `first result ${total.toFixed(0)} ms after opening the page (this run ${ms.toFixed(0)} ms)`;
      } else status.textContent = `ran in ${ms.toFixed(0)} ms`;
      status.classList.remove('error');
      document.body.dataset.resultText = text;
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
      status.classList.add('error');
    } finally {
      running = false;
    }
    if (pending !== null) {
      const next = pending;
      pending = null;
      await run(next);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void run(input.value), DEBOUNCE_MS);
  });
  await run(input.value);
}

start().catch((e: unknown) => {
  status.textContent = `could not load the model: ${e instanceof Error ? e.message : String(e)}`;
  status.classList.add('error');
  document.body.dataset.error = status.textContent;
});
