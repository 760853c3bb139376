/**
 * The export cache of `zhuyi serve`: several processes exporting the same trained folder at once
 * leave one whole export (never a manifest beside a half-written model.onnx, never files of two
 * exports mixed), and no temp folders.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BertConfig, BertForSequenceClassification, BertTokenizer, Generator } from '../../src/index.js';
import { exportedModelDir } from '../../src/cli/serve.js';
import { ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-serve-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SERVE_TS = join(ROOT, 'src', 'cli', 'serve.ts');

async function bertFolder(name: string): Promise<string> {
  const folder = join(dir, name);
  // A 3,000-word vocabulary: model.onnx of about 1.5 MB, so writing it takes long enough to be seen.
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 2995 }, (_, i) => `w${i}`)];
  const config = new BertConfig({ vocab_size: vocab.length, hidden_size: 128, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16, num_labels: 2 });
  await new BertForSequenceClassification(config, { generator: new Generator(1) }).savePretrained(folder);
  new BertTokenizer(vocab).savePretrained(folder);
  return folder;
}

/** Runs exportedModelDir(folder, {exportTo}) in another process; resolves with its exit code. */
function exportIn(folder: string, exportTo: string): Promise<number | null> {
  const code = `const { exportedModelDir } = await import(${JSON.stringify(SERVE_TS)}); await exportedModelDir(${JSON.stringify(folder)}, { exportTo: ${JSON.stringify(exportTo)} });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((res) => child.once('exit', (c) => res(c)));
}

/** Every file the manifest lists is there, and model.onnx is byte for byte the expected one. */
function assertWholeExport(out: string, expectedModel: Buffer): void {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: string[] };
  for (const f of manifest.files) assert.ok(existsSync(join(out, f)), `${f} listed but missing`);
  assert.ok(readFileSync(join(out, 'model.onnx')).equals(expectedModel), 'model.onnx differs from a lone export');
}

test('three processes export one folder into one cache at once, fresh and over a stale export: always one whole export, no temp folders', async () => {
  const folder = await bertFolder('bert');
  const reference = await exportedModelDir(folder, { exportTo: join(dir, 'reference') });
  const expected = readFileSync(join(reference, 'model.onnx'));
  const manifest = readFileSync(join(reference, 'manifest.json'), 'utf8');
  const cacheRoot = join(dir, 'cache');
  mkdirSync(cacheRoot);
  const out = join(cacheRoot, 'export');
  // Watch the cache while they export: whenever a manifest is there, the export must be whole.
  let checks = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      try {
        if (existsSync(join(out, 'manifest.json'))) { assertWholeExport(out, expected); checks++; }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // replaced between two reads: fine
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    for (let round = 0; round < 3; round++) {
      if (round > 0) {
        // The model changed after the export: each of the three sees a stale export and replaces it.
        const later = new Date(Date.now() + 5000 * round);
        utimesSync(join(folder, 'config.json'), later, later);
      }
      assert.deepEqual(await Promise.all([exportIn(folder, out), exportIn(folder, out), exportIn(folder, out)]), [0, 0, 0]);
      assertWholeExport(out, expected);
      assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), manifest);
      assert.deepEqual(readdirSync(cacheRoot), ['export']);
    }
  } finally {
    watching = false;
    await watcher;
  }
  assert.ok(checks > 0, 'the watcher saw the export');
});

test('an --export-to folder holding other files is written into, never moved aside', async () => {
  const folder = await bertFolder('bert2');
  const out = join(dir, 'mine');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'keep me');
  await exportedModelDir(folder, { exportTo: out });
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'keep me');
  assert.ok(existsSync(join(out, 'manifest.json')));
});
