/**
 * The explorer's attention views, drawn with zhuyi viz's SVG functions (src/viz/svg.ts, pure string
 * builders that run in the browser as they do in `zhuyi viz`), plus the controls around them:
 *
 * - alignment: the cross-attention matrix of a translation (rows = output tokens, columns = source
 *   tokens) for one layer and one head, or the average over heads (and over layers).
 * - head view: one layer's heads as lines between two columns of tokens (after BertViz); heads can
 *   be switched off, and hovering a token keeps only its lines.
 * - model view: every layer x head as a small map; clicking one opens it in the head view.
 *
 * Attention arrays are [layers][heads][query][key], as ExportedTranslator and ExportedBert give them.
 */
import { escapeXml, headColor, headView, heatmap } from '../../src/viz/svg.js';

/** Attention weights of every layer and head: [layers][heads][query][key]. */
export type Attention = number[][][][];

/** The mean of equally shaped matrices. */
export function meanOf(maps: readonly (readonly (readonly number[])[])[]): number[][] {
  const first = maps[0];
  if (!first) return [];
  return first.map((row, i) => row.map((_, j) => maps.reduce((s, m) => s + m[i]![j]!, 0) / maps.length));
}

/** The map a layer/head choice selects; -1 means "average over all". */
export function selectMap(attention: Attention, layer: number, head: number): number[][] {
  const layers = layer < 0 ? attention : [attention[layer]!];
  const perLayer = layers.map((heads) => (head < 0 ? meanOf(heads) : heads[head]!));
  return meanOf(perLayer);
}

function options(select: HTMLSelectElement, labels: readonly string[], values: readonly number[], chosen: number): void {
  const before = select.value;
  select.replaceChildren(...labels.map((label, k) => new Option(label, String(values[k]))));
  // Keep the user's choice across results when it still exists.
  select.value = values.map(String).includes(before) ? before : String(chosen);
}

function layerLabels(n: number): { labels: string[]; values: number[] } {
  const idx = [...Array(n).keys()];
  return { labels: [...idx.map((l) => `layer ${l + 1}`), 'all layers (average)'], values: [...idx, -1] };
}

function headLabels(n: number): { labels: string[]; values: number[] } {
  const idx = [...Array(n).keys()];
  return { labels: ['average of heads', ...idx.map((h) => `head ${h + 1}`)], values: [-1, ...idx] };
}

/** The translation alignment panel: a layer and a head selector over one heatmap. */
export class AlignmentView {
  private attention: Attention = [];
  private rows: string[] = [];
  private cols: string[] = [];
  readonly layer = document.createElement('select');
  readonly head = document.createElement('select');
  private readonly map = document.createElement('div');

  constructor(readonly root: HTMLElement) {
    this.layer.id = 'alignment-layer';
    this.head.id = 'alignment-head';
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(this.layer, this.head);
    this.map.id = 'alignment';
    this.map.className = 'map';
    root.append(controls, this.map);
    this.layer.addEventListener('change', () => this.draw());
    this.head.addEventListener('change', () => this.draw());
  }

  /** outputTokens x sourceTokens maps, one per layer and head. */
  show(attention: Attention, outputTokens: string[], sourceTokens: string[]): void {
    this.attention = attention;
    this.rows = outputTokens;
    this.cols = sourceTokens;
    const L = attention.length;
    const H = attention[0]?.length ?? 0;
    const l = layerLabels(L);
    options(this.layer, l.labels, l.values, L - 1);
    const h = headLabels(H);
    options(this.head, h.labels, h.values, -1);
    // One layer or one head leaves nothing to choose.
    this.layer.hidden = L <= 1;
    this.head.hidden = H <= 1;
    this.draw();
  }

  private draw(): void {
    if (this.attention.length === 0) {
      this.map.innerHTML = '<p class="note">This model has no attention (a plain RNN encoder-decoder): nothing to align.</p>';
      return;
    }
    const layer = Number(this.layer.value);
    const head = Number(this.head.value);
    const H = this.attention[0]!.length;
    const where = `${layer < 0 ? 'all layers' : `layer ${layer + 1}`}, ${head < 0 ? `average of ${H} head${H > 1 ? 's' : ''}` : `head ${head + 1}`}`;
    // Cells as large as fit a ~480 px square; the caption sits outside the SVG, which is only as
    // wide as the map (a title inside would be clipped on short sentences).
    const cell = Math.max(14, Math.min(36, Math.floor(480 / Math.max(1, this.rows.length, this.cols.length))));
    const svg = heatmap(selectMap(this.attention, layer, head), this.rows, this.cols, '', { id: 'alignment-map', cellData: true, cell });
    this.map.innerHTML = `<p class="caption">${escapeXml(where)}</p>${svg}`;
  }
}

/** The head view (one layer, all heads as coloured lines) with layer selector and head toggles. */
export class HeadView {
  private attention: Attention = [];
  private tokens: string[] = [];
  private hiddenHeads = new Set<number>();
  readonly layer = document.createElement('select');
  private readonly heads = document.createElement('span');
  private readonly lines = document.createElement('div');

  constructor(readonly root: HTMLElement) {
    this.layer.id = 'head-view-layer';
    this.heads.className = 'head-toggles';
    const controls = document.createElement('div');
    controls.className = 'controls';
    controls.append(this.layer, this.heads);
    this.lines.id = 'head-view';
    this.lines.className = 'map';
    root.append(controls, this.lines);
    this.layer.addEventListener('change', () => this.draw());
    // Hovering a token keeps only the lines that leave it (left column) or reach it (right column).
    this.lines.addEventListener('mouseover', (e) => {
      const t = (e.target as Element).closest('text.token');
      if (!t) return;
      const [attr, key] = t.classList.contains('left') ? ['data-i', t.getAttribute('data-i')] : ['data-j', t.getAttribute('data-j')];
      for (const line of this.lines.querySelectorAll('line')) line.style.display = line.getAttribute(attr) === key ? '' : 'none';
    });
    this.lines.addEventListener('mouseout', () => {
      for (const line of this.lines.querySelectorAll('line')) line.style.display = '';
    });
  }

  show(attention: Attention, tokens: string[]): void {
    this.attention = attention;
    this.tokens = tokens;
    const L = attention.length;
    const idx = [...Array(L).keys()];
    options(this.layer, idx.map((l) => `layer ${l + 1}`), idx, 0);
    this.draw();
  }

  /** Opens a layer with only one head shown (the model view's click). */
  focus(layer: number, head: number): void {
    this.layer.value = String(layer);
    const H = this.attention[0]?.length ?? 0;
    this.hiddenHeads = new Set([...Array(H).keys()].filter((h) => h !== head));
    this.draw();
    this.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  private draw(): void {
    const weights = this.attention[Number(this.layer.value)];
    if (!weights) { this.lines.replaceChildren(); return; }
    const H = weights.length;
    this.heads.replaceChildren(...weights.map((_, h) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'head-toggle';
      b.textContent = String(h + 1);
      b.title = `head ${h + 1}: click to show or hide`;
      b.style.background = this.hiddenHeads.has(h) ? '#fff' : headColor(h, H);
      b.style.borderColor = headColor(h, H);
      b.addEventListener('click', () => {
        if (this.hiddenHeads.has(h)) this.hiddenHeads.delete(h); else this.hiddenHeads.add(h);
        this.draw();
      });
      return b;
    }));
    this.lines.innerHTML = headView(this.tokens, weights, { id: 'head-view-map' });
    for (const g of this.lines.querySelectorAll<SVGGElement>('g.head')) g.style.display = this.hiddenHeads.has(Number(g.dataset.head)) ? 'none' : '';
  }
}

/** The model view: a layers x heads grid of small maps. */
export class ModelView {
  private readonly grid = document.createElement('div');

  constructor(readonly root: HTMLElement, private readonly onPick: (layer: number, head: number) => void) {
    this.grid.id = 'model-view';
    root.append(this.grid);
  }

  show(attention: Attention, tokens: string[]): void {
    const H = attention[0]?.length ?? 0;
    // Thumbnails about 100 px wide whatever the sentence length.
    const cell = Math.max(2, Math.min(10, Math.floor(100 / Math.max(1, tokens.length))));
    const header = `<div></div>${[...Array(H).keys()].map((h) => `<div class="grid-label">head ${h + 1}</div>`).join('')}`;
    const rows = attention.map((heads, l) => `<div class="grid-label">layer ${l + 1}</div>${heads.map((w, h) =>
      `<button type="button" class="thumb" data-layer="${l}" data-head="${h}" title="${escapeXml(`layer ${l + 1}, head ${h + 1}: open in the head view`)}">${heatmap(w, tokens, tokens, `layer ${l + 1}, head ${h + 1}`, { cell, labels: false })}</button>`).join('')}`);
    this.grid.style.gridTemplateColumns = `auto repeat(${H}, auto)`;
    this.grid.innerHTML = header + rows.join('');
    for (const b of this.grid.querySelectorAll<HTMLButtonElement>('button.thumb')) {
      b.addEventListener('click', () => this.onPick(Number(b.dataset.layer), Number(b.dataset.head)));
    }
  }
}

/** A bar list of (label, score) pairs, best first, scores in [0, 1]. */
export function scoreBars(items: ReadonlyArray<{ label: string; score: number }>, id: string): string {
  const rows = items.map((it) => `<li><span class="label">${escapeXml(it.label)}</span><span class="track"><span class="bar" style="width:${(100 * Math.max(0, Math.min(1, it.score))).toFixed(1)}%"></span></span><span class="score">${it.score.toFixed(3)}</span></li>`);
  return `<ol class="scores" id="${escapeXml(id)}">${rows.join('')}</ol>`;
}
