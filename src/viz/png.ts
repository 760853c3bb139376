/**
 * PNG screenshots of viz pages with a headless Chromium driven by playwright-core (an optional
 * dependency: only `--png` needs it). The page is opened from disk with every non-file request
 * refused, so the picture is what an offline reader sees.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ZhuyiError } from '../tensor/errors.js';
import { checkOptions } from '../tensor/options.js';

export interface ScreenshotOptions {
  /** Only this element (a CSS selector), else the whole page. */
  selector?: string;
  /** Viewport width, px (default 1240). */
  width?: number;
  /** The Chromium binary (default $ZHUYI_CHROMIUM, else /usr/bin/chromium). */
  executablePath?: string;
}

/** Chromium's flags for a container without a display or GPU. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu'];

export function chromiumPath(): string {
  return process.env.ZHUYI_CHROMIUM ?? '/usr/bin/chromium';
}

/** Writes a PNG of `htmlFile` (or of one element of it) to `pngFile`. */
export async function screenshotHtml(htmlFile: string, pngFile: string, o: ScreenshotOptions = {}): Promise<void> {
  o = checkOptions('screenshotHtml', o, { selector: 1, width: 1, executablePath: 1 });
  const executablePath = o.executablePath ?? chromiumPath();
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new ZhuyiError(`--png needs playwright-core (npm install playwright-core) and Chromium at ${executablePath}; the HTML was written, the PNG not`);
  }
  if (!existsSync(executablePath)) {
    throw new ZhuyiError(`--png needs Chromium: no executable at ${executablePath} (install Debian's chromium package, or set ZHUYI_CHROMIUM); the HTML was written, the PNG not`);
  }
  const browser = await playwright.chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: o.width ?? 1240, height: 800 } });
    await page.route('**', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(resolve(htmlFile)).href);
    if (o.selector) await page.locator(o.selector).first().screenshot({ path: pngFile });
    else await page.screenshot({ path: pngFile, fullPage: true });
  } finally {
    await browser.close();
  }
}
