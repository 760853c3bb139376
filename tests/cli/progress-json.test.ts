/**
 * Progress bars (src/io/progress.ts) draw on stderr in a terminal only, never with --json, and
 * ZHUYI_PROGRESS=1 forces them (how these tests see them, stderr being a pipe here); `translate eval
 * --json` and `bert eval --json` print one JSON object on stdout and nothing else, with the metrics
 * the API computes for the same folder and file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatBytes, progressBar, progressEnabled, setProgress, withProgress } from '../../src/io/progress.js';
import { BertConfig, BertForSequenceClassification, BertTokenizer, Generator, classify, getBackend, setBackend } from '../../src/index.js';
import { evaluate, loadTranslator, trainTranslator } from '../../src/translate/translator.js';
import { CLI } from '../helpers.js';
import { exportOnnx } from '../../src/export/export.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `zhuyi ...args` on the js backend with extra environment; stderr and stdout are pipes, not terminals. */
function run(args: string[], env: Record<string, string | undefined> = {}): { status: number | null; stdout: string; stderr: string } {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, [...CLI, ...args, '--backend', 'js'], { encoding: 'utf8', timeout: 240_000, env: childEnv as NodeJS.ProcessEnv });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Captures what `fn` writes to this process's stderr. */
function stderrOf(fn: () => void): string {
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return err;
}

describe('the progress helper', () => {
  test('draws in a terminal, or when forced; never when set off (--json), which beats everything', () => {
    assert.equal(progressEnabled(undefined, {}, true), true, 'a terminal');
    assert.equal(progressEnabled(undefined, {}, false), false, 'a pipe');
    assert.equal(progressEnabled(undefined, { ZHUYI_PROGRESS: '1' }, false), true);
    assert.equal(progressEnabled(undefined, { ZHUYI_PROGRESS: '0' }, true), false);
    assert.equal(progressEnabled(false, { ZHUYI_PROGRESS: '1' }, true), false, 'the caller decides over the environment');
    assert.equal(progressEnabled(true, {}, false), true);
    setProgress('off');
    try {
      assert.equal(progressEnabled(true, { ZHUYI_PROGRESS: '1' }, true), false);
      assert.equal(stderrOf(() => progressBar({ label: 'x', total: 3, enabled: true }).stop()), '');
    } finally {
      setProgress('auto');
    }
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1536), '1.54 kB');
    assert.equal(formatBytes(12_345_678), '12.3 MB');
  });

  test('a bar counts to its total; a bar inside another shows in the outer line, not as a second bar', () => {
    const err = stderrOf(() => {
      const outer = progressBar({ label: 'outer', total: 4, enabled: true });
      outer.increment(2);
      const inner = progressBar({ label: 'inner', total: 10, enabled: true });
      inner.increment(7);
      inner.stop();
      outer.increment(2);
      outer.stop();
    });
    const lines = err.split('\n').filter(Boolean);
    assert.ok(lines.every((l) => l.startsWith('outer |')), `only the outer bar draws lines:\n${err}`);
    assert.match(err, /outer \|.*\| 2\/4 \| ETA \S+ \| inner 7\/10/);
    assert.match(lines.at(-1)!, /outer \|.*\| 4\/4 \| ETA \S+$/, 'the inner part is cleared at its stop');
    const items = stderrOf(() => { for (const _ of withProgress([5, 6, 7], { label: 'items', total: 18, size: (n) => n, enabled: true })); });
    assert.match(items, /items \|.*\| 18\/18/);
  });
});

const PAIRS = Array.from({ length: 12 }, (_, i) => {
  const words = ['ich', 'du', 'wir', 'sehe', 'hause', 'gerne', 'rot', 'blau'];
  const w = Array.from({ length: 2 + (i % 3) }, (_, k) => words[(i * 5 + k * 3) % words.length]!);
  return `${w.join(' ')}\t${[...w].reverse().join(' ')}`;
});

describe('translate eval', () => {
  const model = join(dir, 'tr');
  const pairs = join(dir, 'pairs.tsv');
  before(async () => {
    writeFileSync(pairs, `${PAIRS.join('\n')}\n`);
    const backend = getBackend();
    setBackend('js');
    try {
      await trainTranslator({ model: 'attention', size: 'tiny', train: pairs, valid: pairs, outDir: model, maxSteps: 3, batchTokens: 64, seed: 2, validDecode: 0, progress: false });
    } finally {
      setBackend(backend);
    }
  });

  test('--json: one JSON object on stdout with the API\'s metrics, and no bar even when forced', async () => {
    const output = join(dir, 'hyps.txt');
    const r = run(['translate', 'eval', model, '--test', pairs, '--json', '--output', output], { ZHUYI_PROGRESS: '1' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stdout:\n${r.stdout}`);
    const got = JSON.parse(lines[0]!) as Record<string, unknown>;
    const backend = getBackend();
    setBackend('js');
    let want;
    try {
      const t = await loadTranslator(model);
      want = await evaluate(t, { pairs: PAIRS.map((l) => { const [source, target] = l.split('\t') as [string, string]; return { source, target, length: source.split(' ').length }; }) }, { progress: false });
    } finally {
      setBackend(backend);
    }
    for (const k of ['bleu', 'bleuSignature', 'chrf', 'exactMatch', 'count'] as const) assert.deepEqual(got[k], want[k], k);
    assert.equal(got.count, 12);
    assert.equal(got.beam, 1);
    assert.ok(Array.isArray(got.byLength));
    // --output: every translation the metrics scored, one line each, in test order; three of them in the JSON.
    assert.deepEqual(readFileSync(output, 'utf8').split('\n').slice(0, -1), want.hypotheses);
    assert.equal(got.output, output);
    assert.equal(got.hypotheses, undefined, 'the JSON carries samples, not every translation');
    const [source, reference] = PAIRS[0]!.split('\t');
    assert.deepEqual((got.samples as unknown[])[0], { source, reference, translation: want.hypotheses[0] });
    assert.equal((got.samples as unknown[]).length, 3);
    // --limit below three: as many samples as translations, each with its translation.
    const limited = run(['translate', 'eval', model, '--test', pairs, '--json', '--limit', '2']);
    assert.equal(limited.status, 0, limited.stderr);
    assert.deepEqual((JSON.parse(limited.stdout) as { samples: { translation: string }[] }).samples.map((x) => x.translation), want.hypotheses.slice(0, 2));
    assert.doesNotMatch(r.stderr, /translating/);
  });

  test('validation decoding during training shows inside the training bar\'s line', async () => {
    const backend = getBackend();
    setBackend('js');
    let err = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
    try {
      await trainTranslator({ model: 'seq2seq', size: 'tiny', train: pairs, valid: pairs, outDir: join(dir, 'tr-valid'), epochs: 1, batchTokens: 64, seed: 2, validDecode: 12, progress: true });
    } finally {
      process.stderr.write = write;
      setBackend(backend);
    }
    assert.match(err, /^epoch 1 \|.*steps \| loss .* \| translating \d+\/12$/m, err);
    assert.doesNotMatch(err, /^translating/m, 'no second bar');
  });

  test('export: its stages on the bar when forced, nothing when stderr is not a terminal', async () => {
    const exported = async (env: string | undefined, out: string): Promise<string> => {
      const saved = process.env.ZHUYI_PROGRESS;
      if (env === undefined) delete process.env.ZHUYI_PROGRESS;
      else process.env.ZHUYI_PROGRESS = env;
      let err = '';
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
      try {
        await exportOnnx(model, join(dir, out));
      } finally {
        process.stderr.write = write;
        if (saved === undefined) delete process.env.ZHUYI_PROGRESS;
        else process.env.ZHUYI_PROGRESS = saved;
      }
      return err;
    };
    const forced = await exported('1', 'onnx-forced');
    assert.match(forced, /^exporting \|.*\| 1\/3 \| tracing the graphs$/m);
    assert.match(forced, /^exporting \|.*\| 3\/3 \| done$/m);
    assert.equal(await exported(undefined, 'onnx-piped'), '');
  });

  test('the bar: drawn on stderr when forced, absent when stderr is not a terminal', () => {
    const forced = run(['translate', 'eval', model, '--test', pairs], { ZHUYI_PROGRESS: '1' });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /translating \|.*\| 12\/12/);
    assert.doesNotMatch(forced.stdout, /translating/, 'never on stdout');
    const piped = run(['translate', 'eval', model, '--test', pairs], { ZHUYI_PROGRESS: undefined });
    assert.equal(piped.status, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /translating/);
    assert.match(piped.stdout, /^BLEU [\d.]+/m);
  });
});

describe('bert eval', () => {
  const cls = join(dir, 'cls');
  const testFile = join(dir, 'test.tsv');
  const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'film', 'was', 'good', 'bad', 'a', 'dog'];
  const texts = Array.from({ length: 20 }, (_, i) => ['the film was good', 'a bad dog', 'the dog was bad', 'a good film'][i % 4]!);
  before(async () => {
    const model = new BertForSequenceClassification(new BertConfig({
      vocab_size: VOCAB.length, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32,
      initializer_range: 0.5, id2label: { 0: 'neg', 1: 'pos' },
    }), { generator: new Generator(7) });
    await model.savePretrained(cls);
    new BertTokenizer(VOCAB).savePretrained(cls);
    writeFileSync(testFile, ['text\tlabel', ...texts.map((t, i) => `${t}\t${i % 3 ? 'pos' : 'neg'}`)].join('\n'));
  });

  test('--json: one JSON object on stdout with the accuracy of the API\'s predictions, and no bar even when forced', async () => {
    const r = run(['bert', 'eval', cls, '--test', testFile, '--json'], { ZHUYI_PROGRESS: '1' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stdout:\n${r.stdout}`);
    const got = JSON.parse(lines[0]!) as Record<string, number>;
    const backend = getBackend();
    setBackend('js');
    let right = 0;
    try {
      const predicted = await classify(await BertForSequenceClassification.fromPretrained(cls, { warn: () => {} }), BertTokenizer.fromPretrained(cls), texts);
      right = predicted.filter((p, i) => p[0]!.label === (i % 3 ? 'pos' : 'neg')).length;
    } finally {
      setBackend(backend);
    }
    assert.equal(got.examples, 20);
    assert.equal(got.correct, right);
    assert.equal(got.accuracy, right / 20);
    assert.doesNotMatch(r.stderr, /scoring/);
  });

  test('the bar: drawn on stderr when forced, absent when stderr is not a terminal', () => {
    const forced = run(['bert', 'eval', cls, '--test', testFile], { ZHUYI_PROGRESS: '1' });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /scoring texts \|.*\| 20\/20/);
    const piped = run(['bert', 'eval', cls, '--test', testFile], { ZHUYI_PROGRESS: undefined });
    assert.equal(piped.status, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /scoring/);
    assert.match(piped.stdout, /^test accuracy /m);
  });
});
