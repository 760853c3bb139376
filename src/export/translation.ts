import type { TranslationManifest } from './manifest.js';
import { ExportError } from './weights.js';

export async function exportTranslation(dir: string, _out: string, _opset: number): Promise<Omit<TranslationManifest, 'files'>> {
  throw new ExportError(`export: ${dir}: translation export is not written yet`);
}
