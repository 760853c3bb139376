import { checkOptions } from '../tensor/options.js';
/**
 * Self-contained SVG charts for reports and `zhuyi viz` (no network, no scripts): line charts (loss
 * curves, accuracy by length), attention heatmaps with token labels, and the head view's lines
 * between two columns of tokens (after BertViz, Vig 2019).
 *
 * Interactive pages (src/viz/page.ts) change these charts in place: cells and lines carry their
 * position and weight as data-i / data-j / data-v attributes, so a script only sets attributes.
 */

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed y range (default: the data's). */
  yMin?: number;
  yMax?: number;
  /** Log-scale y (loss curves). */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis (lo, hi are log10 values): 1-2-5 per decade, whole decades when that is too many, round values when too few. */
function logTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const ticks: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const t = Math.log10(m) + k;
      if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
    }
  }
  if (ticks.length >= 2 && ticks.length <= 8) return ticks;
  const decades = ticks.filter((t) => Math.abs(t - Math.round(t)) < 1e-9);
  if (ticks.length > 8 && decades.length >= 2) return decades;
  // Within about a decade: round values (2.5, 3, 3.5 ...) at their log positions.
  return niceTicks(10 ** lo, 10 ** hi, 8).filter((v) => v > 0).map(Math.log10);
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1).replace('.0e', 'e') : String(Number(v.toPrecision(3))));

/** A line chart with axes, ticks, a legend and one polyline (with dots) per series. */
export function lineChart(series: readonly Series[], o: LineChartOptions): string {
  o = checkOptions('lineChart', o, { title: 1, xLabel: 1, yLabel: 1, width: 1, height: 1, yMin: 1, yMax: 1, logY: 1 });
  const W = o.width ?? 560;
  const H = o.height ?? 320;
  const m = { l: 56, r: 130, t: 30, b: 44 };
  const all = series.flatMap((s) => s.points);
  const tx = (v: number): number => v;
  const ty = (v: number): number => (o.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const xs = all.map((p) => tx(p[0]));
  const ys = all.map((p) => ty(p[1]));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = o.yMin !== undefined ? ty(o.yMin) : Math.min(...ys);
  const y1 = o.yMax !== undefined ? ty(o.yMax) : Math.max(...ys, y0 + 1e-6);
  const px = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((v - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${W / 2 - m.r / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  for (const t of niceTicks(x0, x1)) parts.push(`<line x1="${px(t)}" y1="${H - m.b}" x2="${px(t)}" y2="${H - m.b + 4}" stroke="#333"/><text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of o.logY ? logTicks(y0, y1) : niceTicks(y0, y1)) {
    const label = o.logY ? fmt(10 ** t) : fmt(t);
    parts.push(`<line x1="${m.l}" y1="${py(t)}" x2="${W - m.r}" y2="${py(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${escapeXml(o.yLabel)}${o.logY ? ' (log)' : ''}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.map((p) => `${px(tx(p[0])).toFixed(1)},${py(ty(p[1])).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`);
    if (s.points.length <= 40) for (const p of pts) { const [a, b] = p.split(','); parts.push(`<circle cx="${a}" cy="${b}" r="2.5" fill="${c}"/>`); }
    parts.push(`<rect x="${W - m.r + 10}" y="${m.t + i * 18}" width="12" height="3" fill="${c}"/><text x="${W - m.r + 28}" y="${m.t + i * 18 + 5}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * The colour of an attention weight: white at 0, black at 1. Self-contained (no imports, no
 * closures): the viz page's inline script embeds its source text, so both paint alike.
 */
export function attentionFill(weight: number): string {
  const shade = Math.round(255 * (1 - Math.max(0, Math.min(1, weight))));
  return `rgb(${shade},${shade},${shade})`;
}

export interface HeatmapOptions {
  /** Side of one cell, px (default 22). */
  cell?: number;
  /** Token labels on both axes and the title line (default true); off for the model view's thumbnails. */
  labels?: boolean;
  /** id of the <svg>. */
  id?: string;
  /** Tag cells with class="cell" data-i data-j data-v (row, column, weight) for scripts and tests. */
  cellData?: boolean;
}

/**
 * A heatmap of `weights` (rows = output tokens, columns = source tokens), darker = more attention,
 * with the tokens as labels (the layout of Bahdanau et al. 2014, Fig. 3).
 */
export function heatmap(weights: readonly (readonly number[])[], rowLabels: readonly string[], colLabels: readonly string[], title: string, o: HeatmapOptions = {}): string {
  o = checkOptions('heatmap', o, { cell: 1, labels: 1, id: 1, cellData: 1 });
  const cell = o.cell ?? 22;
  const labels = o.labels ?? true;
  const R = weights.length;
  const C = weights[0]?.length ?? 0;
  const labelW = labels ? Math.max(40, 7 * Math.max(0, ...rowLabels.map((l) => l.length)) + 10) : 0;
  const labelH = labels ? Math.max(40, 7 * Math.max(0, ...colLabels.map((l) => l.length)) + 10) : 0;
  const top = labels ? 24 + labelH : 0;
  const W = labelW + C * cell + (labels ? 10 : 0);
  const H = top + R * cell + (labels ? 10 : 0);
  const id = o.id ? ` id="${escapeXml(o.id)}"` : '';
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg"${id} width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  if (labels) {
    parts.push(`<text x="4" y="14" font-size="12" font-weight="bold">${escapeXml(title)}</text>`);
    colLabels.forEach((l, j) => {
      const x = labelW + j * cell + cell / 2 + 4;
      parts.push(`<text x="${x}" y="${top - 4}" transform="rotate(-60 ${x} ${top - 4})">${escapeXml(l)}</text>`);
    });
  } else {
    if (title) parts.push(`<title>${escapeXml(title)}</title>`);
    parts.push(`<rect width="${W}" height="${H}" fill="#fff" stroke="#ccc"/>`);
  }
  // Unlabelled maps without cell data (the model view's thumbnails) leave out the cells that paint
  // white: the picture is the same and a 12 x 12-head grid stays a few hundred kB, not megabytes.
  const sparse = !labels && !o.cellData;
  for (let i = 0; i < R; i++) {
    if (labels) parts.push(`<text x="${labelW - 4}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(rowLabels[i] ?? '')}</text>`);
    for (let j = 0; j < C; j++) {
      const v = weights[i]![j]!;
      const fill = attentionFill(v);
      if (sparse && fill === 'rgb(255,255,255)') continue;
      const data = o.cellData ? ` class="cell" data-i="${i}" data-j="${j}" data-v="${v}"` : '';
      const stroke = !sparse && cell >= 6 ? ' stroke="#ddd"' : '';
      const tip = labels ? `<title>${escapeXml(`${rowLabels[i]} <- ${colLabels[j]}: ${v.toFixed(3)}`)}</title>` : '';
      parts.push(`<rect${data} x="${labelW + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}"${stroke}${tip ? `>${tip}</rect>` : '/>'}`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** One colour per attention head, evenly spaced around the hue circle (any number of heads). */
export function headColor(head: number, heads: number): string {
  return `hsl(${Math.round((360 * head) / Math.max(1, heads))},70%,42%)`;
}

export interface HeadViewOptions {
  id?: string;
  /** Vertical distance between tokens, px (default 20). */
  rowHeight?: number;
  /** Width of the band the lines cross, px (default 220). */
  gap?: number;
  /** Per token: 0 (sentence A) or 1 (sentence B, drawn in another colour). */
  tokenTypeIds?: readonly number[];
}

/**
 * The head view of one layer: the tokens twice, attending (left) and attended to (right), and for
 * each head h and pair (i, j) a line in the head's colour whose opacity is weights[h][i][j].
 * weights: (H, T, T) of one layer. Lines of head h sit in <g class="head" data-head="h">.
 */
export function headView(tokens: readonly string[], weights: readonly (readonly (readonly number[])[])[], o: HeadViewOptions = {}): string {
  o = checkOptions('headView', o, { id: 1, rowHeight: 1, gap: 1, tokenTypeIds: 1 });
  const T = tokens.length;
  const H = weights.length;
  const rowH = o.rowHeight ?? 20;
  const gap = o.gap ?? 220;
  const labelW = Math.max(50, 7 * Math.max(0, ...tokens.map((t) => t.length)) + 12);
  const xl = labelW;
  const xr = labelW + gap;
  const W = xr + labelW;
  const Ht = 10 + T * rowH + 10;
  const y = (i: number): number => 10 + i * rowH + rowH / 2;
  const id = o.id ? ` id="${escapeXml(o.id)}"` : '';
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg"${id} width="${W}" height="${Ht}" viewBox="0 0 ${W} ${Ht}" font-family="sans-serif" font-size="12">`];
  for (let h = 0; h < H; h++) {
    parts.push(`<g class="head" data-head="${h}" stroke="${headColor(h, H)}" stroke-width="2">`);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const v = weights[h]![i]![j]!;
        parts.push(`<line data-i="${i}" data-j="${j}" data-v="${v}" x1="${xl + 4}" y1="${y(i)}" x2="${xr - 4}" y2="${y(j)}" stroke-opacity="${v}"/>`);
      }
    }
    parts.push('</g>');
  }
  tokens.forEach((t, i) => {
    const fill = o.tokenTypeIds?.[i] === 1 ? ' fill="#8c564b"' : '';
    parts.push(`<text class="token left" data-i="${i}" x="${xl - 4}" y="${y(i) + 4}" text-anchor="end"${fill}>${escapeXml(t)}</text>`);
    parts.push(`<text class="token right" data-j="${i}" x="${xr + 4}" y="${y(i) + 4}"${fill}>${escapeXml(t)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
