/**
 * zhuyi/browser reaches no Node module: src/browser.ts bundled by esbuild for the browser platform
 * (what Vite and other bundlers do) must resolve every import without a Node built-in, `node:`
 * prefixed or not, and pull in only browser-safe packages. package.json exposes it as a subpath with
 * types, and onnxruntime-web is an optional peer dependency.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers.js';

/** Packages the browser bundle may contain (onnxruntime-web stays external: an optional peer dependency). */
const ALLOWED_PACKAGES = ['@huggingface/tokenizers'];
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

test('src/browser.ts bundles for the browser with no Node built-in and only browser-safe packages', async () => {
  const esbuild = await import('esbuild');
  const seen: string[] = [];
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'browser.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
    external: ['onnxruntime-web'],
    plugins: [{
      name: 'record-builtins',
      setup(b) {
        // Record (and let esbuild fail on) every import of a Node built-in, with its importer.
        b.onResolve({ filter: /.*/ }, (args) => {
          if (BUILTINS.has(args.path)) seen.push(`${args.importer.slice(ROOT.length + 1)} imports ${args.path}`);
          return undefined;
        });
      },
    }],
  }).catch((e: { errors?: { text: string; location?: { file: string } }[] }) => {
    assert.fail(`esbuild could not bundle src/browser.ts for the browser:\n${(e.errors ?? []).map((x) => `${x.location?.file ?? ''}: ${x.text}`).join('\n')}\n${seen.join('\n')}`);
  });
  assert.deepEqual(seen, [], 'Node built-ins reachable from src/browser.ts');
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m) packages.add(m[1]!);
  }
  assert.deepEqual([...packages].filter((p) => !ALLOWED_PACKAGES.includes(p)), [], 'packages in the browser bundle');
  const text = result.outputFiles[0]!.text;
  // Globals that exist only in Node would fail at run time, not at bundling.
  for (const global of ['process.env', 'process.argv', 'Buffer.from', 'Buffer.byteLength', '__dirname']) {
    assert.ok(!text.includes(global), `the browser bundle uses ${global}`);
  }
  // The imports left for the page to resolve: onnxruntime-web only (relative ones marked external
  // are type-only imports esbuild dropped).
  const externals = new Set(Object.values(result.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external && !x.path.startsWith('.')).map((x) => x.path)));
  assert.deepEqual([...externals], ['onnxruntime-web']);
});

test('package.json exports zhuyi/browser with types; onnxruntime-web is an optional peer dependency', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, Record<string, string>>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  assert.deepEqual(pkg.exports['./browser'], { types: './dist/browser.d.ts', import: './dist/browser.js' });
  assert.ok(pkg.peerDependencies?.['onnxruntime-web'], 'onnxruntime-web in peerDependencies');
  assert.equal(pkg.peerDependenciesMeta?.['onnxruntime-web']?.optional, true);
});

test('the browser entry exports the Node entry\'s tensor, nn, optim, model, tokenizer, decoding and metric API', () => {
  const names = (file: string): Set<string> => {
    const src = readFileSync(join(ROOT, 'src', file), 'utf8');
    const out = new Set<string>();
    // The API both entries share (src/api.ts) counts for each of them.
    for (const m of src.matchAll(/export \* from '\.\/(\w+)\.js'/g)) for (const n of names(`${m[1]}.ts`)) out.add(n);
    for (const m of src.matchAll(/export\s+(?:\*\s+as\s+(\w+)|\{([^}]*)\})/g)) {
      if (m[1]) out.add(m[1]);
      for (const part of (m[2] ?? '').split(',')) {
        const n = part.trim();
        if (!n || n.startsWith('type ')) continue;
        out.add(n.split(/\s+as\s+/).pop()!.trim());
      }
    }
    return out;
  };
  const browser = names('browser.ts');
  // A sample across the layers; the whole-module `export *` lines (creation ops, translation models) are the same files.
  for (const n of ['tensor', 'Tensor', 'grad', 'noGrad', 'realize', 'manualSeed', 'matmul', 'softmax', 'Module', 'Linear', 'LayerNorm', 'GRU',
    'MultiheadAttention', 'Transformer', 'optim', 'clipGradNorm', 'crossEntropy', 'BertForSequenceClassification', 'BertModel', 'fillMask', 'classify',
    'BertTokenizer', 'CharTokenizer', 'WordTokenizer', 'BpeTokenizer', 'Vocab', 'builtinTask', 'corpusBleu', 'exactMatch', 'greedySearch', 'beamSearch',
    'parseSafetensors', 'serializeSafetensors', 'loadExport', 'configureOrt', 'setBackend']) {
    assert.ok(browser.has(n), `zhuyi/browser lacks ${n}`);
  }
  const node = names('index.ts');
  // Everything exported by both must be the same kind of API: the Node-only names are the file-path ones.
  const nodeOnly = [...node].filter((n) => !browser.has(n));
  const pathBound = /^(load|save|read|write|vizFolder|vizHtml|screenshotHtml|downloadModel|ensureModelFolder|localModelFolder|cachedSnapshot|hub|isHubId|HubError|exportOnnx|ExportError|endOrtProfiling|pretrainBert|finetune|createNspInstances|MlmMasker|PretrainingDataset|bertPreset|BertTaskError|cmnEngPath|splitCmnEng|DataFormatError|FileWriteError|parseTorchBin|trainWordPiece|tokenizerFiles|BERT_TOKENIZER_FILES|BertTokenizerCore|trainingCurves|bertAttentionMaps|averageHeads|seqevalScores|getEntities|squadScores|normalizeAnswer|UnsafePickleError|BertTokenizerError)/;
  assert.deepEqual(nodeOnly.filter((n) => !pathBound.test(n)), [], 'Node-entry names missing from zhuyi/browser that take no path');
});
