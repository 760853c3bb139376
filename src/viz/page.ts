/**
 * The `zhuyi viz` page: one self-contained HTML file (inline SVG, CSS and script; no network, no
 * other files) with any of
 *   - a translation model's cross-attention on one sentence: a heatmap (output tokens x source
 *     tokens) with a layer and a head selector and the average of the heads;
 *   - BERT's attention: the head view (tokens in two columns, one line per head and token pair,
 *     opacity = weight; a layer selector, head toggles, hover a token to see only its lines) and
 *     the model view (layers x heads grid of small heatmaps; click one to open it in the head view);
 *   - training curves from log.jsonl.
 *
 * The server draws every chart in its first state with src/viz/svg.ts; the maps travel as JSON in
 * <script type="application/json" id="zhuyi-viz-data">, and the inline script only re-weights the
 * existing cells and lines (their data-i / data-j / data-v attributes) when a selector changes.
 */
import { type LayerHeadMaps, type BertAttentionMaps, type TranslationAttentionMaps, averageHeads } from './attention.js';
import { type LogEntry, trainingCurves } from './curves.js';
import { ArgumentError } from '../tensor/errors.js';
import { attentionFill, escapeXml, headColor, headView, heatmap } from './svg.js';

export interface VizPage {
  /** Page title and heading. */
  title: string;
  /** A line under the heading (plain text): what was loaded. */
  subtitle?: string;
  translation?: TranslationAttentionMaps;
  bert?: BertAttentionMaps;
  /** log.jsonl entries: the training curves. */
  log?: LogEntry[];
  /** The layer shown first, 0-based (default: the last for translation, the first for BERT's head view). */
  layer?: number;
}

/** Six decimals: the page stays small and every weight is within 5e-7 of the model's. */
const round = (v: number): number => Math.round(v * 1e6) / 1e6;
const roundMaps = (m: LayerHeadMaps): LayerHeadMaps => m.map((l) => l.map((h) => h.map((r) => r.map(round))));

/** JSON that can sit inside <script>: no "</script>", no "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const options = (n: number, label: (i: number) => string, selected: number): string =>
  Array.from({ length: n }, (_, i) => `<option value="${i}"${i === selected ? ' selected' : ''}>${escapeXml(label(i))}</option>`).join('');

function checkLayer(layer: number | undefined, layers: number, what: string): number | undefined {
  if (layer === undefined) return undefined;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < layers)) throw new ArgumentError(`viz: layer ${layer + 1} is out of range: the ${what} has layers 1..${layers}`);
  return layer;
}

/** Character-level vocabularies have a space token: draw it as ␣, not as nothing. */
const visible = (token: string): string => (token.trim() === '' ? '␣'.repeat(Math.max(1, token.length)) : token);

function translationSection(tr: TranslationAttentionMaps, maps: LayerHeadMaps, layerOption: number | undefined): string {
  const said = `<p class="sentence"><b>Source:</b> ${escapeXml(tr.text)}<br><b>Greedy translation:</b> ${escapeXml(tr.translation)}</p>`;
  if (tr.kind === 'seq2seq') {
    return `<section id="translation"><h2>Alignment</h2>${said}
<p class="note">This model is the plain RNN Seq2Seq: it has no attention, so there is no alignment to show. Its encoder squeezes the
whole source sentence into one fixed-size vector (its last hidden state) and the decoder writes every word from that vector alone —
the bottleneck that attention (Bahdanau et al. 2014) removes by letting each output word look back at every source word.</p></section>`;
  }
  const L = maps.length;
  const H = maps[0]!.length;
  const layer = checkLayer(layerOption, L, 'decoder') ?? L - 1;
  const controls = tr.kind === 'transformer'
    ? `<div class="controls"><label>decoder layer <select id="translation-layer">${options(L, (i) => `${i + 1} of ${L}`, layer)}</select></label>
<label>head <select id="translation-head"><option value="avg" selected>average of ${H} heads</option>${options(H, (h) => `head ${h + 1}`, -1)}</select></label></div>`
    : '';
  const what = tr.kind === 'transformer'
    ? 'the decoder\'s cross-attention (encoder-decoder attention) in the chosen layer, one head or the mean of the heads'
    : 'the additive attention weights α (Bahdanau et al. 2014, eq. 6) at each decoder step';
  const map = heatmap(averageHeads(maps[layer]!), tr.outputTokens.map(visible), tr.sourceTokens.map(visible), '', { id: 'translation-map', cellData: true });
  return `<section id="translation"><h2>Alignment</h2>${said}
<p>Rows: the tokens the model wrote; columns: the source tokens; darker = more attention. Shown: ${what}. Each row sums to 1.</p>
${controls}<figure>${map}</figure></section>`;
}

function bertSections(b: BertAttentionMaps, maps: LayerHeadMaps, layerOption: number | undefined): string {
  const L = maps.length;
  const H = maps[0]!.length;
  const T = b.tokens.length;
  const layer = checkLayer(layerOption, L, 'BERT model') ?? 0;
  const toggles = Array.from({ length: H }, (_, h) =>
    `<label class="toggle"><input type="checkbox" class="head-toggle" data-head="${h}" checked><span class="swatch" style="background:${headColor(h, H)}"></span>${h + 1}</label>`).join('');
  const pair = b.tokenTypeIds.includes(1) ? ' Tokens of sentence B are brown.' : '';
  const head = `<section id="head-view"><h2>Head view</h2>
<p>Left: each token attending; right: the tokens it attends to. One colour per head; a line's opacity is the attention weight.
Hover a token to see only its lines.${pair}</p>
<div class="controls"><label>layer <select id="head-view-layer">${options(L, (i) => `${i + 1} of ${L}`, layer)}</select></label>
<span>heads ${toggles}</span> <button type="button" id="heads-all">all</button> <button type="button" id="heads-none">none</button></div>
<figure>${headView(b.tokens, maps[layer]!, { id: 'head-view-svg', tokenTypeIds: b.tokenTypeIds })}</figure></section>`;
  const cell = Math.max(2, Math.min(8, Math.floor(96 / T)));
  const rows = maps.map((layerMaps, l) => `<tr><th>layer ${l + 1}</th>${layerMaps.map((m, h) =>
    `<td class="thumb" data-layer="${l}" data-head="${h}">${heatmap(m, b.tokens, b.tokens, `layer ${l + 1}, head ${h + 1}`, { labels: false, cell })}</td>`).join('')}</tr>`).join('\n');
  const model = `<section id="model-view"><h2>Model view</h2>
<p>Every head of every layer (rows: layers, columns: heads); in each map rows attend to columns, tokens in order: ${escapeXml(b.tokens.join(' '))}.
Click a map to open it in the head view.</p>
<table class="grid"><tr><th></th>${Array.from({ length: H }, (_, h) => `<th>head ${h + 1}</th>`).join('')}</tr>
${rows}</table></section>`;
  return `${head}\n${model}`;
}

function curvesSection(log: readonly LogEntry[]): string {
  const charts = trainingCurves(log);
  const body = charts.length
    ? charts.map((c) => `<figure class="chart" data-chart="${c.name}">${c.svg}</figure>`).join('\n')
    : '<p class="note">log.jsonl has no entries yet.</p>';
  return `<section id="curves"><h2>Training curves</h2>\n${body}</section>`;
}

/** Re-weights cells and lines in place; see the file comment. Plain browser JavaScript. */
const SCRIPT = String.raw`(() => {
  const data = JSON.parse(document.getElementById('zhuyi-viz-data').textContent);
  const attentionFill = ${attentionFill.toString()};
  const visible = ${visible.toString()};
  const $ = (id) => document.getElementById(id);
  const mean = (heads) => heads[0].map((row, i) => row.map((_, j) => heads.reduce((s, h) => s + h[i][j], 0) / heads.length));

  const tr = data.translation;
  if (tr && tr.maps.length && $('translation-layer')) {
    const cells = Array.from(document.querySelectorAll('#translation-map rect.cell'));
    const paint = () => {
      const heads = tr.maps[Number($('translation-layer').value)];
      const head = $('translation-head').value;
      const m = head === 'avg' ? mean(heads) : heads[Number(head)];
      for (const c of cells) {
        const i = Number(c.dataset.i), j = Number(c.dataset.j), v = m[i][j];
        c.dataset.v = String(v);
        c.setAttribute('fill', attentionFill(v));
        const tip = c.querySelector('title');
        if (tip) tip.textContent = visible(tr.outputTokens[i]) + ' <- ' + visible(tr.sourceTokens[j]) + ': ' + v.toFixed(3);
      }
    };
    $('translation-layer').addEventListener('change', paint);
    $('translation-head').addEventListener('change', paint);
  }

  const bert = data.bert;
  if (bert && $('head-view-svg')) {
    const groups = Array.from(document.querySelectorAll('#head-view-svg g.head'));
    const toggles = Array.from(document.querySelectorAll('input.head-toggle'));
    const paint = () => {
      const layer = bert.maps[Number($('head-view-layer').value)];
      for (const g of groups) {
        const m = layer[Number(g.dataset.head)];
        for (const line of g.children) {
          const v = m[Number(line.dataset.i)][Number(line.dataset.j)];
          line.dataset.v = String(v);
          line.setAttribute('stroke-opacity', String(v));
        }
      }
    };
    const showHeads = () => { for (const t of toggles) groups[Number(t.dataset.head)].style.display = t.checked ? '' : 'none'; };
    $('head-view-layer').addEventListener('change', paint);
    for (const t of toggles) t.addEventListener('change', showHeads);
    $('heads-all').addEventListener('click', () => { for (const t of toggles) t.checked = true; showHeads(); });
    $('heads-none').addEventListener('click', () => { for (const t of toggles) t.checked = false; showHeads(); });
    const focus = (key, value) => {
      for (const g of groups) for (const line of g.children) line.style.display = value === null || line.dataset[key] === value ? '' : 'none';
    };
    for (const tok of document.querySelectorAll('#head-view-svg text.token')) {
      const key = tok.classList.contains('left') ? 'i' : 'j';
      tok.addEventListener('mouseenter', () => focus(key, tok.dataset[key]));
      tok.addEventListener('mouseleave', () => focus(key, null));
    }
    for (const td of document.querySelectorAll('td.thumb')) {
      td.addEventListener('click', () => {
        $('head-view-layer').value = td.dataset.layer;
        for (const t of toggles) t.checked = t.dataset.head === td.dataset.head;
        paint();
        showHeads();
        $('head-view').scrollIntoView();
      });
    }
  }
})();`;

const STYLE = `body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
figure{display:inline-block;margin:0.5em 0.5em 0.5em 0}.controls{margin:0.5em 0}.controls label{margin-right:1.5em}
.note{background:#f6f6f6;border-left:4px solid #999;padding:0.5em 1em}.toggle{margin-right:0.6em;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;margin:0 3px 0 2px}table.grid{border-collapse:collapse}
table.grid th{font-weight:normal;font-size:11px;padding:2px 6px}td.thumb{padding:2px;cursor:pointer}td.thumb svg{display:block}
td.thumb:hover{outline:2px solid #1f77b4}text.token{cursor:default}`;

/** The whole page; see the file comment. */
export function vizHtml(page: VizPage): string {
  const data: Record<string, unknown> = {};
  const sections: string[] = [];
  if (page.translation) {
    const maps = roundMaps(page.translation.maps);
    data.translation = { ...page.translation, maps };
    sections.push(translationSection(page.translation, maps, page.layer));
  }
  if (page.bert) {
    const maps = roundMaps(page.bert.maps);
    data.bert = { ...page.bert, maps };
    sections.push(bertSections(page.bert, maps, page.layer));
  }
  if (page.log) sections.push(curvesSection(page.log));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(page.title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeXml(page.title)}</h1>
${page.subtitle ? `<p>${escapeXml(page.subtitle)}</p>` : ''}
${sections.join('\n')}
<script type="application/json" id="zhuyi-viz-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
