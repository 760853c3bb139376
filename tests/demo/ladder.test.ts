/** The ladder demo end to end on a tiny task: three models trained, evaluated, and a self-contained report. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/index.js';
import { DEMO_ZH, runLadder, summaryTable } from '../../src/demo/ladder.js';
import { heatmap, lineChart } from '../../src/viz/svg.js';

test('runLadder: three models, per-length table, report.html with charts and attention heatmaps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-ladder-'));
  try {
    const results = await runLadder({
      outDir: dir, task: 'reverse', taskOptions: { train: 300, valid: 20, test: 40, maxLength: 6 }, size: 'tiny', epochs: 1, batchTokens: 256,
    });
    assert.deepEqual(results.map((r) => r.kind), ['seq2seq', 'attention', 'transformer']);
    for (const r of results) {
      assert.equal(r.report.count, 40);
      assert.ok(r.report.byLength.length >= 3 && r.losses.length > 0);
    }
    assert.equal(results[0]!.heatmaps.length, 0, 'the plain Seq2Seq has no attention to show');
    assert.equal(results[1]!.heatmaps.length, 2);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /<table>.*RNN Seq2Seq.*RNN \+ attention.*Transformer.*<\/table>/s);
    assert.equal((html.match(/<svg /g) ?? []).length, 2 + 4, 'two charts and four heatmaps');
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, no network');
    const table = summaryTable(results);
    assert.equal(table.split('\n').length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runLadder in Chinese (zhuyi demo zh): numbers-zh, report and table labelled in Traditional Chinese, Chinese heatmap rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-ladder-zh-'));
  try {
    const results = await runLadder({
      ...DEMO_ZH, outDir: dir, taskOptions: { train: 300, valid: 20, test: 40, minDigits: 2, maxDigits: 5, commas: true },
      size: 'tiny', epochs: 1, perModel: {}, batchTokens: 256, validDecode: 5,
    });
    assert.deepEqual(results.map((r) => r.kind), ['seq2seq', 'attention', 'transformer']);
    assert.deepEqual(results[0]!.report.byLength.map((x) => x.length), [2, 3, 4, 5], 'graded by number of digits');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /<html lang="zh-Hant">/);
    assert.match(html, /<table><tr><th>模型<\/th><th>完全正確<\/th>.*RNN Seq2Seq \(GRU，無注意力\).*RNN \+ 注意力 \(Bahdanau\).*Transformer.*<\/table>/s);
    assert.match(html, /瓶頸（bottleneck）/);
    assert.match(html, /依輸入長度的完全正確率/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2 + 4, 'two charts and four heatmaps');
    assert.match(html, /<code>numbers-zh<\/code>/);
    const table = summaryTable(results, 'zh').split('\n');
    assert.equal(table.length, 4);
    assert.match(table[0]!, /^模型 +正確率 +BLEU {2} {3}2 {3}3 {3}4 {3}5 {3}（依輸入位數的完全正確 %）$/);
    // Labels are padded by display width (a CJK character takes two columns), so the numbers line up.
    const col = (line: string): number => line.indexOf('%');
    const width = (s: string): number => [...s].reduce((w, ch) => w + (/[\u3000-\u9fff\uff00-\uff60]/u.test(ch) ? 2 : 1), 0);
    const ends = table.slice(1).map((l) => width(l.slice(0, col(l))));
    assert.equal(new Set(ends).size, 1, `exact-match columns end together: ${ends}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('svg: line chart and heatmap escape labels and place every point', () => {
  const svg = lineChart([{ name: 'a<b', points: [[1, 10], [2, 20], [3, 30]] }], { title: 't&t', xLabel: 'x', yLabel: 'y', yMin: 0, yMax: 100 });
  assert.match(svg, /a&lt;b/);
  assert.match(svg, /t&amp;t/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 3);
  const hm = heatmap([[0, 1], [0.5, 0.5]], ['x', 'y'], ['<s>', 'b'], 'h');
  assert.equal((hm.match(/<rect /g) ?? []).length, 4);
  assert.match(hm, /fill="rgb\(0,0,0\)"/); // weight 1 is black
  assert.match(hm, /&lt;s&gt;/);
});
