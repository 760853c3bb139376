/**
 * The viz page in a real browser: Debian's Chromium driven by playwright-core opens the file from
 * disk with the network refused, draws one cell per (output, source) token pair, and its selectors
 * re-weight the cells with the chosen head's and layer's maps, without console errors. Skipped
 * (with the reason) where Chromium or playwright-core is missing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { vizFolder } from '../../src/viz/folder.js';
import { CHROMIUM_ARGS, chromiumPath, screenshotHtml } from '../../src/viz/png.js';
import { bertFolder, pageData, TEXT, translationFolder } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'zhuyi-viz-chromium-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function launch(): Promise<Browser | string> {
  if (!existsSync(chromiumPath())) return `no Chromium at ${chromiumPath()} (apt install chromium)`;
  try {
    const { chromium } = await import('playwright-core');
    return await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  } catch (e) {
    return `playwright-core cannot start Chromium: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Opens a page from disk; every request that is not file: is aborted and recorded, console errors too. */
async function open(browser: Browser, file: string): Promise<{ page: Page; errors: string[]; blocked: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  return { page, errors, blocked };
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

test('translation page in Chromium: T x S cells, head and layer selectors show those maps, offline, no console errors', async (t) => {
  const browser = await launch();
  if (typeof browser === 'string') { t.skip(browser); return; }
  try {
    const folder = await translationFolder(root, 'transformer', { numDecoderLayers: 2 });
    const { html } = await vizFolder(folder, { text: TEXT });
    const file = join(root, 'translation.html');
    writeFileSync(file, html);
    const tr = pageData(html).translation!;
    const [T, S] = [tr.outputTokens.length, tr.sourceTokens.length];
    const { page, errors, blocked } = await open(browser, file);
    const cells = page.locator('#translation-map rect');
    assert.equal(await cells.count(), T * S);
    const read = async (): Promise<number[][]> => {
      const flat = await cells.evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-i')), Number(r.getAttribute('data-j')), Number(r.getAttribute('data-v')), r.getAttribute('fill')] as const));
      const m: number[][] = Array.from({ length: T }, () => []);
      for (const [i, j, v] of flat) m[i]![j] = v;
      return m;
    };
    const mean = (heads: number[][][]): number[][] => heads[0]!.map((row, i) => row.map((_, j) => heads.reduce((s, h) => s + h[i]![j]!, 0) / heads.length));
    const assertShows = (got: number[][], want: number[][], what: string): void => {
      got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-9, `${what} [${i}][${j}]: ${v} vs ${want[i]![j]}`)));
    };
    assertShows(await read(), mean(tr.maps[1]!), 'first view: last layer, average');
    await page.selectOption('#translation-head', '2');
    const head2 = await read();
    assertShows(head2, tr.maps[1]![2]!, 'layer 2, head 3');
    assert.notDeepEqual(head2, mean(tr.maps[1]!), 'switching the head changes the cells');
    await page.selectOption('#translation-layer', '0');
    assertShows(await read(), tr.maps[0]![2]!, 'layer 1, head 3');
    // The fill follows the weight (white 0 .. black 1), and the tooltip names the tokens.
    const [fill, tip] = await cells.first().evaluate((r) => [r.getAttribute('fill'), r.querySelector('title')!.textContent]);
    const shade = Math.round(255 * (1 - round6(tr.maps[0]![2]![0]![0]!)));
    assert.equal(fill, `rgb(${shade},${shade},${shade})`);
    assert.match(tip!, new RegExp(`^${tr.outputTokens[0]} <- <b>&: 0\\.\\d{3}$`));
    assert.equal(await page.locator('#curves svg').count(), 4, 'loss, BLEU, accuracy, learning rate');
    assert.deepEqual(errors, [], 'console errors');
    assert.deepEqual(blocked, [], 'the page asked for nothing outside the file');
  } finally {
    await browser.close();
  }
});

test('BERT page in Chromium: layer selector re-weights the lines, head toggles and thumbnails work; PNG screenshot', async (t) => {
  const browser = await launch();
  if (typeof browser === 'string') { t.skip(browser); return; }
  try {
    const dir = await bertFolder(root);
    const { html } = await vizFolder(dir, { text: 'the cat sat', pair: 'it was happy' });
    const file = join(root, 'bert.html');
    writeFileSync(file, html);
    const b = pageData(html).bert!;
    const T = b.tokens.length;
    const { page, errors, blocked } = await open(browser, file);
    const lines = page.locator('#head-view-svg g.head[data-head="1"] line');
    assert.equal(await lines.count(), T * T);
    const opacities = async (): Promise<number[]> => lines.evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('stroke-opacity'))));
    assert.deepEqual(await opacities(), b.maps[0]![1]!.flat());
    await page.selectOption('#head-view-layer', '1');
    assert.deepEqual(await opacities(), b.maps[1]![1]!.flat(), 'layer 2, head 2');
    await page.locator('input.head-toggle[data-head="1"]').uncheck();
    assert.equal(await page.locator('#head-view-svg g.head[data-head="1"]').isVisible(), false);
    // A thumbnail of the model view opens its map in the head view, that head alone.
    await page.locator('td.thumb[data-layer="0"][data-head="2"]').click();
    assert.equal(await page.locator('#head-view-layer').inputValue(), '0');
    const visible = await page.locator('#head-view-svg g.head').evaluateAll((gs) => gs.map((g) => (g as SVGGElement).style.display !== 'none'));
    assert.deepEqual(visible, [false, false, true]);
    assert.deepEqual(await page.locator('#head-view-svg g.head[data-head="2"] line').evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('stroke-opacity')))), b.maps[0]![2]!.flat());
    assert.equal(await page.locator('td.thumb').count(), 2 * 3);
    assert.deepEqual(errors, [], 'console errors');
    assert.deepEqual(blocked, []);
    const png = join(root, 'bert.png');
    await screenshotHtml(file, png, { selector: '#head-view' });
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  } finally {
    await browser.close();
  }
});
