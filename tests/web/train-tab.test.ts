/**
 * The Train tab end to end: `zhuyi serve` (no model folder; COOP/COEP headers, so WASM may use
 * threads) serves the page, Chromium trains the numbers task's RNN-with-attention model in the page's
 * Web Worker, unattended. While it trains: the page answers typed input, Stop halts the steps and
 * Resume continues them. At the end the held-out exact match must be >= 95%; the page's download
 * (a zip of the model folder) is unpacked and `zhuyi translate eval` in Node must report the same
 * exact match on the same held-out split.
 *
 * The screenshot of the tab mid-training is written to docs/img/train-tab.png when missing (or with
 * UPDATE_DOCS_IMG=1). Without /usr/bin/chromium or playwright-core the test skips with the reason printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { serveExplorer } from '../../src/cli/serve.js';
import { ZipReader } from '../../src/io/zip.js';
import { modelPreset } from '../../src/translate/translator.js';
import { ROOT } from '../helpers.js';
import { MODEL_PRESETS, type ModelKind } from '../../web/src/presets.js';
import { WEB_DIST, browserSkipReason, ensureWebBuild, launchChromium } from './browser.js';

const skip = await browserSkipReason();
const tmp = mkdtempSync(join(tmpdir(), 'zhuyi-train-tab-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const DOCS_SHOT = join(ROOT, 'docs', 'img', 'train-tab.png');

test('the Train tab\'s models are the demo\'s (modelPreset small)', () => {
  for (const kind of ['seq2seq', 'attention', 'transformer'] as ModelKind[]) assert.deepEqual(MODEL_PRESETS[kind], modelPreset(kind, 'small'), kind);
});

test('Train tab: the numbers task trained in Chromium reaches >= 95% held-out exact match, and zhuyi translate eval agrees on the downloaded weights', { skip: skip ?? undefined, timeout: 3_600_000 }, async () => {
  await ensureWebBuild();
  const server = await serveExplorer(null, { webDir: WEB_DIST, port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 900, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?task=numbers&model=attention&autostart=1`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'zhuyi serve makes the page cross-origin isolated (COOP/COEP)');
    const data = async (): Promise<Record<string, string | undefined>> => page.evaluate(() => ({ ...document.body.dataset }));
    const waitFor = (js: string, timeout: number) => page.waitForFunction(js, undefined, { timeout, polling: 1000 }).catch(async (e: Error) => {
      assert.fail(`${js}: ${e.message}; page: ${JSON.stringify(await data())}; ${errors.join('; ')}`);
    });

    // Typed input is translated while the worker trains (the page stays responsive).
    await waitFor('Number(document.body.dataset.step) >= 3', 900_000);
    await page.fill('#translate-input', '12,345');
    await waitFor('document.getElementById("translate-output").dataset.input === "12,345"', 600_000);
    assert.equal((await data()).state, 'training');

    // Stop: no step after the pause; Resume: steps again.
    await page.click('#stop');
    await waitFor('document.body.dataset.state === "paused"', 600_000);
    const stoppedAt = Number((await data()).step);
    await page.waitForTimeout(3000);
    assert.equal(Number((await data()).step), stoppedAt, 'a step ran after Stop');
    await page.click('#resume');
    await waitFor(`Number(document.body.dataset.step) > ${stoppedAt}`, 600_000);

    // Mid-training, with a validation drawn: the README's screenshot.
    await waitFor('document.body.dataset.validExactMatch !== undefined && Number(document.body.dataset.step) >= 60', 1_800_000);
    // The top of the page (controls, rates, loss curve, validation and its heatmap), kept small for the README.
    const shot = await page.screenshot({ clip: { x: 0, y: 0, width: 900, height: 860 } });
    writeFileSync(join(tmp, 'train-tab.png'), shot);
    if (!existsSync(DOCS_SHOT) || process.env.UPDATE_DOCS_IMG === '1') {
      mkdirSync(dirname(DOCS_SHOT), { recursive: true });
      writeFileSync(DOCS_SHOT, shot);
    }

    await waitFor('document.body.dataset.state === "done" || document.body.dataset.state === "error"', 3_000_000);
    const done = await data();
    assert.equal(done.state, 'done', done.error);
    const pageExact = Number(done.testExactMatch);
    console.log(`Train tab: ${done.totalSteps} steps, held-out exact match ${(100 * pageExact).toFixed(2)}% (last ${done.stepsPerSecond} steps/s)`);
    assert.ok(pageExact >= 0.95, `held-out exact match ${pageExact} < 0.95`);

    // The downloaded folder in Node.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#download')]);
    const zipPath = join(tmp, download.suggestedFilename());
    await download.saveAs(zipPath);
    const zip = new ZipReader(new Uint8Array(readFileSync(zipPath)), zipPath);
    const dir = join(tmp, 'model');
    for (const name of zip.entries.keys()) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), zip.read(name));
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'translate', 'eval', dir, '--checkpoint', 'last'], { encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, `zhuyi translate eval:\n${r.stdout}\n${r.stderr}`);
    const m = /exact match ([\d.]+)% of (\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    console.log(`zhuyi translate eval on the page's weights: exact match ${m[1]}% of ${m[2]}`);
    assert.equal(m[1], (100 * pageExact).toFixed(2), 'Node\'s exact match on the downloaded weights');
  } finally {
    await browser.close();
    await server.close();
  }
});
