/**
 * Shared by the browser tests: Debian's Chromium through playwright-core (or a reason to skip),
 * and a web/dist bundle that is rebuilt when any file it was built from changed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/viz/png.js';
import { ROOT } from '../helpers.js';

/** The Chromium the library's --png uses ($ZHUYI_CHROMIUM, else Debian's). */
export const CHROMIUM = chromiumPath();
export const WEB_DIST = join(ROOT, 'web', 'dist');

/** Why the browser tests cannot run here, or null when they can (printed so a skip is visible). */
export async function browserSkipReason(): Promise<string | null> {
  let reason: string | null = null;
  if (!existsSync(CHROMIUM)) reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  else {
    try {
      await import('playwright-core');
    } catch {
      reason = 'playwright-core is not installed (npm install)';
    }
  }
  if (reason) console.log(`browser tests skipped: ${reason}`);
  return reason;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Files the bundle depends on beyond what it lists: the build setup itself. */
const BUILD_INPUTS = ['web/index.html', 'web/train.html', 'web/vite.config.ts', 'package-lock.json'];

/**
 * Why web/dist must be rebuilt (missing, or a file it was built from is newer), or null.
 * web/dist/sources.json (written by the build) lists the repository files in the bundle.
 */
export function staleReason(): string | null {
  const index = join(WEB_DIST, 'index.html');
  const list = join(WEB_DIST, 'sources.json');
  if (!existsSync(index) || !existsSync(list)) return 'web/dist is missing';
  const built = statSync(index).mtimeMs;
  const sources = [...(JSON.parse(readFileSync(list, 'utf8')) as string[]), ...BUILD_INPUTS];
  for (const f of sources) {
    const path = join(ROOT, f);
    if (!existsSync(path)) return `${f} is gone`;
    if (statSync(path).mtimeMs > built) return `${f} changed`;
  }
  return null;
}

/** Builds web/dist with Vite's JS API (what `npm run build:web` runs) unless it is up to date. */
export async function ensureWebBuild(): Promise<void> {
  const why = staleReason();
  if (!why) return;
  console.log(`building web/dist (${why})`);
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
}
