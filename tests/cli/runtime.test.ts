/**
 * Devices and threads: `--device` and `--threads` on every command that runs a model, a clear error
 * naming the installer when the CUDA provider is not installed, and `zhuyi info [--json]`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configureOrt, ortConfig } from '../../src/backends/ort/index.js';
import { applyRuntimeFlags, listProviders, providersFor, type ProviderInfo } from '../../src/cli/runtime.js';
import { hubCacheDir } from '../../src/io/hub.js';
import { ROOT, zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CPU_ONLY: ProviderInfo[] = [
  { name: 'cpu', bundled: true, available: true },
  { name: 'cuda', bundled: false, available: false },
];

describe('--device', () => {
  test('cpu runs on cpu; an available device comes first with cpu after it for the ops it lacks', () => {
    assert.deepEqual(providersFor('cpu', CPU_ONLY), ['cpu']);
    assert.deepEqual(providersFor('cuda', [CPU_ONLY[0]!, { name: 'cuda', bundled: false, available: true }]), ['cuda', 'cpu']);
  });

  test('a provider that is not installed: the error names the installer and its flag', () => {
    assert.throws(() => providersFor('cuda', CPU_ONLY), (e: Error) => {
      assert.match(e.message, /--device cuda: the cuda execution provider is not installed/);
      assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
      assert.match(e.message, /--onnxruntime-node-install=cuda12/);
      return true;
    });
    assert.throws(() => providersFor('tpu', CPU_ONLY), /'tpu' is not an execution provider of this onnxruntime-node build; choose one of cpu, cuda/);
  });

  test('the CUDA provider counts as installed when its library is in onnxruntime-node\'s binary folder', { skip: process.platform !== 'linux' && 'the library names checked here are Linux\'s' }, async () => {
    const empty = await listProviders(dir);
    assert.equal(empty.find((p) => p.name === 'cpu')?.available, true);
    const cuda = empty.find((p) => p.name === 'cuda');
    if (!cuda) return; // a build without CUDA support at all
    assert.equal(cuda.available, false);
    writeFileSync(join(dir, 'libonnxruntime_providers_cuda.so'), '');
    assert.equal((await listProviders(dir)).find((p) => p.name === 'cuda')?.available, true);
  });

  test('applyRuntimeFlags sets the providers and the threads; bad values are refused', async () => {
    try {
      await applyRuntimeFlags({ device: 'cpu', threads: '1' });
      assert.deepEqual([ortConfig().executionProviders, ortConfig().threads], [['cpu'], 1]);
      await assert.rejects(applyRuntimeFlags({ threads: '0' }), /--threads: expected a positive integer, got '0'/);
      await assert.rejects(applyRuntimeFlags({ threads: 'two' }), /--threads/);
    } finally {
      configureOrt({ threads: undefined, executionProviders: undefined });
    }
  });
});

describe('the CLI', () => {
  test('every command that runs a model has --device and --threads; serve and info do not', () => {
    const commands = [
      ['demo'], ['translate', 'train'], ['translate', 'run'], ['translate', 'eval'], ['bert', 'pretrain'], ['bert', 'finetune'], ['bert', 'fill-mask'],
      ['bert', 'classify'], ['bert', 'ner'], ['bert', 'answer'], ['bert', 'embed'], ['bert', 'eval'], ['bert', 'demo'], ['viz'], ['export'],
    ];
    for (const c of commands) {
      const help = zhuyi([...c, '--help']).stdout;
      assert.match(help, /--device <name>.*--threads <n>/s, `zhuyi ${c.join(' ')} --help`);
    }
    for (const c of [['serve'], ['info']]) assert.doesNotMatch(zhuyi([...c, '--help']).stdout, /--device/, c.join(' '));
  });

  test('--device cuda without the CUDA provider fails before any work, naming the installer', async (t) => {
    if ((await listProviders()).find((p) => p.name === 'cuda')?.available) return t.skip('the CUDA provider is installed here');
    const r = zhuyi(['demo', 'spirals', '--device', 'cuda']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /zhuyi: --device cuda: the cuda execution provider is not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.equal(r.stdout, '', 'nothing ran');
    assert.match(zhuyi(['demo', 'spirals', '--threads', '0']).stderr, /--threads: expected a positive integer/);
  });

  test('zhuyi info --json: versions, providers, threads', () => {
    const r = zhuyi(['info', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { hub: { cache: string; endpoint: string; offline: boolean }; zhuyi: string; node: string; onnxruntime: Record<string, string>; providers: ProviderInfo[]; executionProviders: string[]; threads: number; cores: number; backend: string };
    const pkg = (path: string): string => (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
    assert.equal(info.zhuyi, pkg(join(ROOT, 'package.json')));
    assert.equal(info.node, process.versions.node);
    const ortPackage = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    assert.equal(info.onnxruntime.node, pkg(ortPackage));
    assert.deepEqual(info.providers.find((p) => p.name === 'cpu'), { name: 'cpu', bundled: true, available: true });
    assert.deepEqual(info.executionProviders, ['cpu']);
    assert.deepEqual([info.threads, info.cores, info.backend], [Number(process.env.ZHUYI_THREADS ?? cpus().length), cpus().length, 'ort']);
    const saved = process.env.ZHUYI_THREADS;
    process.env.ZHUYI_THREADS = '1';
    try {
      assert.equal((JSON.parse(zhuyi(['info', '--json']).stdout) as typeof info).threads, 1, 'ZHUYI_THREADS shows');
    } finally {
      if (saved === undefined) delete process.env.ZHUYI_THREADS; else process.env.ZHUYI_THREADS = saved;
    }
    const text = zhuyi(['info']).stdout;
    assert.match(text, new RegExp(`^zhuyi ${info.zhuyi}\\nnode ${info.node}\\nonnxruntime .*node ${info.onnxruntime.node}`));
    assert.match(text, /providers: cpu.*\nusing: cpu \(--device\), \d+ threads of \d+ cores/);
    assert.deepEqual(info.hub, { cache: hubCacheDir(), endpoint: (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''), offline: ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase()) });
    assert.match(text, new RegExp(`Hugging Face cache: ${info.hub.cache}`));
  });
});
