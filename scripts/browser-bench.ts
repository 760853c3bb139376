/**
 * Steps per second of the Train tab's Transformer step (tests/web/pages/bench.ts) in Chromium on
 * onnxruntime-web with 1 and 2 WASM threads (a cross-origin-isolated page) and in Node with 1 and 2
 * threads: `node --import tsx scripts/browser-bench.ts [steps]`. One run each; README quotes it.
 */
import { join } from 'node:path';
import { ROOT } from '../tests/helpers.js';
import * as z from '../src/index.js';
import { bundlePage, servePage, openPage, callPage } from '../tests/web/harness.js';
import { launchChromium } from '../tests/web/browser.js';
import { transformerStepsPerSecond } from '../tests/web/pages/bench.js';
const steps = Number(process.argv[2] ?? 10);
const srv = await servePage(await bundlePage(join(ROOT, 'tests/web/pages/bench-page.ts')), { isolated: true });
const browser = await launchChromium();
for (const threads of [1, 2]) {
  const page = await browser.newPage(); await openPage(page, `${srv.url}?threads=${threads}`);
  console.log('page', threads, await callPage(page, 'isolated'), JSON.stringify(await callPage(page, 'transformerStepsPerSecond', steps)));
  await page.close();
}
await browser.close(); await srv.close();
for (const threads of [1, 2]) { z.configureOrt({ threads }); console.log('node', threads, JSON.stringify(await transformerStepsPerSecond(steps))); }
