/**
 * README.md's TypeScript blocks run as written against the built package (`import ... from 'zhuyi'`
 * resolves to dist/ through the package's own name), each in its own process and folder, and print
 * what their comments show. A `console.log(...)` line's trailing `// comment` is its expected output:
 * compared without whitespace and with ' and " alike; `...` in the comment stands for anything.
 *
 * The placeholders the blocks name exist in each block's folder: `path/to/bert-dir` (a small BERT
 * made here), the Hub id (a Hugging Face cache with HF_HUB_OFFLINE=1), `exported/tr` (a tiny trained
 * translator, exported) and `pytorch_model.bin` (torch.save of nn.Linear(4, 2), tests/golden/readme).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BertConfig, BertForMaskedLM } from '../../src/index.js';
import { trainTranslator } from '../../src/translate/translator.js';
import { exportOnnx } from '../../src/export/export.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = import.meta.resolve('tsx');
const HUB_ID = 'google/bert_uncased_L-2_H-128_A-2';

export interface Block { line: number; code: string; expectations: { line: number; expected: string }[] }

/** The ```ts blocks of a markdown text, with the expected output of each commented console.log. */
export function tsBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    const body: string[] = [];
    for (i = start; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    const expectations: Block['expectations'] = [];
    body.forEach((l, k) => {
      const m = /^\s*console\.log\(.*\);\s*\/\/\s?(.*)$/.exec(l);
      if (m) expectations.push({ line: start + k + 1, expected: m[1]!.trim() });
    });
    blocks.push({ line: start, code: body.join('\n'), expectations });
  }
  return blocks;
}

const norm = (s: string): string => s.replace(/\s+/g, '').replace(/"/g, "'");

/** Whether `actual` is what the comment `expected` shows (`...` matches anything). */
export function shows(actual: string, expected: string): boolean {
  const pieces = norm(expected).split('...');
  const a = norm(actual);
  if (pieces.length === 1) return a === pieces[0];
  if (!a.startsWith(pieces[0]!) || !a.endsWith(pieces[pieces.length - 1]!)) return false;
  let at = pieces[0]!.length;
  for (const p of pieces.slice(1, -1)) {
    const k = a.indexOf(p, at);
    if (k < 0) return false;
    at = k + p.length;
  }
  return at <= a.length - pieces[pieces.length - 1]!.length;
}

/** The block with each commented console.log printing one JSON line the test can read. */
function instrument(b: Block): string {
  const prelude = `import { inspect as __inspect } from 'node:util';
const __show = (k: number, ...args: unknown[]): void => {
  const out = args.map((a) => (typeof a === 'string' ? a : __inspect(a, { breakLength: Infinity, depth: 8 }))).join(' ');
  process.stdout.write('\\n' + JSON.stringify({ __readme: k, out }) + '\\n');
};
`;
  const lines = b.code.split('\n');
  b.expectations.forEach((e, k) => {
    const i = e.line - b.line - 1;
    lines[i] = lines[i]!.replace('console.log(', `__show(${k}, `);
  });
  return prelude + lines.join('\n') + '\n';
}

const work = mkdtempSync(join(tmpdir(), 'zhuyi-readme-'));
after(() => rmSync(work, { recursive: true, force: true }));
const fixtures = join(work, 'fixtures');

/** A small uncased BERT whose vocabulary covers the README's sentences. */
async function bertDir(dir: string): Promise<void> {
  const words = ['the', 'cat', 'sat', 'on', 'mat', 'it', 'was', 'happy', 'capital', 'of', 'france', 'is', 'paris', 'a', 'day', '.', ','];
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
  const config = new BertConfig({ vocab_size: vocab.length, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 });
  await new BertForMaskedLM(config).savePretrained(dir);
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
}

before(async () => {
  await bertDir(join(fixtures, 'path', 'to', 'bert-dir'));
  // The Hub id, as Python's huggingface_hub leaves it in its cache.
  const commit = 'a'.repeat(40);
  const repo = join(fixtures, 'hub', `models--${HUB_ID.replace('/', '--')}`);
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
  cpSync(join(fixtures, 'path', 'to', 'bert-dir'), join(repo, 'snapshots', commit), { recursive: true });
  // A tiny translator of digits, trained a moment and exported.
  const rows = Array.from({ length: 40 }, (_, i) => `${1000 + 37 * i}\t${String(1000 + 37 * i).split('').join(' ')}`);
  writeFileSync(join(work, 'digits.tsv'), `${rows.join('\n')}\n`);
  const trained = join(work, 'tr');
  await trainTranslator({
    model: 'attention', size: 'tiny', train: join(work, 'digits.tsv'), valid: join(work, 'digits.tsv'), sourceTokenizer: 'char',
    outDir: trained, epochs: 1, batchTokens: 256, seed: 1, validDecode: 0, progress: false,
  });
  await exportOnnx(trained, join(fixtures, 'exported', 'tr'));
  cpSync(join(ROOT, 'tests', 'golden', 'readme', 'linear.bin'), join(fixtures, 'pytorch_model.bin'));
});

describe('README.md code blocks', () => {
  const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  test('the README has TypeScript blocks and commented outputs to check', () => {
    assert.ok(blocks.length >= 10, `${blocks.length} blocks`);
    assert.ok(blocks.reduce((n, b) => n + b.expectations.length, 0) >= 5);
  });
  for (const [n, b] of blocks.entries()) {
    test(`block ${n + 1} (README.md line ${b.line}) runs and prints what its comments show`, (t) => {
      if (!existsSync(join(ROOT, 'dist', 'index.js'))) return t.skip('dist/ is not built (npm run build)');
      // A page's code (DOM inputs, same-origin URLs) runs in a browser: tests/web/bundler-consumer.test.ts
      // builds and runs a page importing zhuyi/browser, and tests/web/* the entry's API.
      if (/from 'zhuyi\/browser'/.test(b.code)) return t.skip('a browser block (zhuyi/browser): run in Chromium by tests/web/, not here');
      const dir = join(work, `block-${n + 1}`);
      cpSync(fixtures, dir, { recursive: true });
      writeFileSync(join(dir, 'block.mts'), instrument(b));
      // `zhuyi` is the package itself (package.json exports -> dist/), as after `npm install zhuyi`.
      mkdirSync(join(dir, 'node_modules'), { recursive: true });
      symlinkSync(ROOT, join(dir, 'node_modules', 'zhuyi'), 'dir');
      symlinkSync(join(ROOT, 'node_modules', 'onnxruntime-node'), join(dir, 'node_modules', 'onnxruntime-node'), 'dir');
      const r = spawnSync(process.execPath, ['--import', TSX, 'block.mts'], {
        cwd: dir, encoding: 'utf8', timeout: 120_000,
        env: { ...process.env, HF_HUB_CACHE: join(dir, 'hub'), HF_HUB_OFFLINE: '1', ZHUYI_TUNED_HEAP: '0' },
      });
      assert.equal(r.status, 0, `README.md line ${b.line}: exit ${r.status}\n${r.stderr}`);
      const shown = new Map<number, string>();
      for (const l of r.stdout.split('\n')) {
        if (!l.startsWith('{"__readme":')) continue;
        const o = JSON.parse(l) as { __readme: number; out: string };
        shown.set(o.__readme, o.out);
      }
      b.expectations.forEach((e, k) => {
        const out = shown.get(k);
        assert.ok(out !== undefined, `README.md line ${e.line}: printed nothing`);
        assert.ok(shows(out, e.expected), `README.md line ${e.line}: prints\n  ${out}\nbut its comment shows\n  ${e.expected}`);
      });
    });
  }
});

test('an expected-output comment can fail', () => {
  assert.ok(shows("[ 2, 10, 64 ] [ 2, 8, 10, 10 ]", '[2,10,64] [2,8,10,10]'));
  assert.ok(shows("[ 'fc1.weight', 'fc1.bias', 'norm.weight', 'norm.bias' ]", "['fc1.weight', 'fc1.bias', 'norm.weight', ...]"));
  assert.ok(!shows("{ source: '448652325' }", "{ source: '8592801' }"));
  assert.ok(!shows("['a', 'b']", "['b', ...]"));
  const [b] = tsBlocks('x\n```ts\nconsole.log(1 + 1);   // 2\nconst y = 3; // not an output\n```\n');
  assert.deepEqual(b!.expectations, [{ line: 3, expected: '2' }]);
});
