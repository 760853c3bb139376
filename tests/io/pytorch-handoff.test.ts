/**
 * The hand-off to PyTorch of docs/pytorch.md, both ways, with the very Python files the page quotes
 * (docs/pytorch/*.py):
 *   zhuyi -> PyTorch   a folder `translate train` wrote (and a BERT folder savePretrained wrote) loads
 *                      into the PyTorch modules, which give zhuyi's logits (1e-4);
 *   PyTorch -> zhuyi   train_ddp.py trains a few steps there (torchrun, 2 processes, gloo, for the
 *                      Transformer and BERT; one process for the RNNs) and writes a folder that
 *                      loadTranslator / fromPretrained read back, with PyTorch's logits (1e-4), which
 *                      moved away from the ones before training.
 * Needs /usr/bin/python3 with torch (Debian's python3-torch); skips and says why without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { BertConfig } from '../../src/models/bert/config.js';
import { BertForSequenceClassification } from '../../src/models/bert/heads.js';
import { noGrad } from '../../src/tensor/grad-mode.js';
import { manualSeed } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { type ModelKind, type Translator, encodeForTraining, loadTranslator, trainTranslator } from '../../src/translate/translator.js';
import { ROOT, assertClose, zhuyi } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import torch and numpy (${(probe.error?.message ?? probe.stderr.trim().split('\n').pop()) || 'unknown'}); install Debian's python3-torch to run the PyTorch hand-off`;

const DOCS = join(ROOT, 'docs', 'pytorch');
const HELPER = join(ROOT, 'tests', 'golden', 'pytorch_handoff.py');
const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };

const root = mkdtempSync(join(tmpdir(), 'zhuyi-pytorch-'));
after(() => rmSync(root, { recursive: true, force: true }));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** PyTorch's logits for `inputs`, from the folder loaded with docs/pytorch's modules. */
function torchLogits(folder: string, inputs: object, name: string): Float32Array {
  const inPath = join(root, `${name}-inputs.json`);
  const outPath = join(root, `${name}-logits.safetensors`);
  writeFileSync(inPath, JSON.stringify(inputs));
  run(PYTHON, [HELPER, folder, inPath, outPath]);
  return loadSafetensors(outPath).tensors.get('logits')!.buffer as Float32Array;
}

/** Continues training in PyTorch with the documented script: torchrun with 2 processes, or a plain single process. */
function trainInTorch(model: string, data: string, out: string, distributed: boolean): string {
  const script = [join(DOCS, 'train_ddp.py'), '--model', model, '--data', data, '--out', out, '--steps', '3', '--batch-size', '4', '--lr', '0.01'];
  // --redirects/--tee: torch 1.13's torchrun on Python 3.11 fails with their default 0 (docs/pytorch.md).
  return distributed ? run(TORCHRUN, ['--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2', ...script]) : run(PYTHON, script);
}

/** The largest |a - b|, to show that training moved the logits. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));

const WORDS = ['ich', 'du', 'wir', 'sehe', 'hause', 'gerne', 'rot', 'blau', 'das', 'haus'];
const PAIRS = Array.from({ length: 24 }, (_, i) => {
  const w = Array.from({ length: 2 + (i % 4) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]!);
  return { source: w.join(' '), target: [...w].reverse().map((x) => x.toUpperCase()).join(' ') };
});

/** A padded teacher-forcing batch of three pairs of different lengths, as zhuyi's and PyTorch's forward take it. */
function batchOf(t: Translator): { src: number[][]; srcLengths: number[]; tgtIn: number[][] } {
  const { examples } = encodeForTraining(t, [PAIRS[1]!, PAIRS[2]!, PAIRS[0]!]);
  const { padId, bosId } = t.model.config;
  const S = Math.max(...examples.map((e) => e.src.length));
  const T = Math.max(...examples.map((e) => e.tgt.length));
  return {
    src: examples.map((e) => [...e.src, ...Array<number>(S - e.src.length).fill(padId)]),
    srcLengths: examples.map((e) => e.src.length),
    tgtIn: examples.map((e) => [bosId, ...e.tgt.slice(0, -1), ...Array<number>(T - e.tgt.length).fill(padId)]),
  };
}

async function zhuyiLogits(t: Translator, b: ReturnType<typeof batchOf>): Promise<Float32Array> {
  const [B, S, T] = [b.src.length, b.src[0]!.length, b.tgtIn[0]!.length];
  const logits = noGrad(() => t.model.forward(Tensor.fromBuffer(Int32Array.from(b.src.flat()), [B, S]), b.srcLengths, Tensor.fromBuffer(Int32Array.from(b.tgtIn.flat()), [B, T])));
  return (await logits.data()) as Float32Array;
}

test('docs/pytorch.md quotes docs/pytorch/*.py as they are', () => {
  const page = readFileSync(join(ROOT, 'docs', 'pytorch.md'), 'utf8');
  const quotes = [...page.matchAll(/<!-- quoted from (docs\/pytorch\/[\w.]+) -->\n```python\n([\s\S]*?)\n```/g)];
  assert.ok(quotes.length >= 5, `expected the page to quote its Python files, found ${quotes.length} quoted blocks`);
  for (const [, file, code] of quotes) {
    assert.ok(readFileSync(join(ROOT, file!), 'utf8').includes(code!), `docs/pytorch.md quotes a block that is no longer in ${file}: ${code!.split('\n')[0]}`);
  }
});

describe('the hand-off to PyTorch (docs/pytorch.md)', { skip }, () => {
  before(() => {
    writeFileSync(join(root, 'pairs.tsv'), PAIRS.map((p) => `${p.source}\t${p.target}\n`).join(''));
  });

  const cases: Array<[ModelKind, Record<string, unknown>, boolean]> = [
    ['seq2seq', { numLayers: 2 }, false], // a 2-layer GRU: the states of both layers cross over
    ['seq2seq', { cell: 'lstm', feedContext: true, maxout: 8, reverseSource: true }, false], // the base preset's options
    ['attention', {}, false],
    ['attention', { maxout: 8, attentionDim: 16 }, false],
    ['transformer', { numEncoderLayers: 2 }, true],
  ];
  for (const [kind, modelOptions, distributed] of cases) {
    const name = `${kind}${Object.keys(modelOptions).length ? ` ${JSON.stringify(modelOptions)}` : ''}`;
    test(`${name}: zhuyi -> PyTorch -> ${distributed ? 'torchrun (2 processes, DDP)' : 'one process'} -> zhuyi, equal logits`, async () => {
      const tag = `${kind}-${cases.findIndex((c) => c[1] === modelOptions)}`;
      const dir = join(root, tag);
      await trainTranslator({
        model: kind, size: 'tiny', modelOptions, train: join(root, 'pairs.tsv'), valid: join(root, 'pairs.tsv'), outDir: dir,
        maxSteps: 2, batchTokens: 64, seed: 1, validDecode: 0, progress: false,
      });
      const before = await loadTranslator(dir);
      const batch = batchOf(before);
      const ours = await zhuyiLogits(before, batch);
      assertClose(torchLogits(dir, batch, `${tag}-before`), ours, { ...TOLERANCE, what: `${name}: PyTorch's logits of the zhuyi folder` });

      const data = join(root, `${tag}-ids.jsonl`);
      const lines = encodeForTraining(before, PAIRS).examples.map((e) => `${JSON.stringify(e)}\n`).join('');
      if (distributed) { // the documented command writes the same file
        const r = zhuyi(['translate', 'encode', dir, join(root, 'pairs.tsv'), '--out', data]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(readFileSync(data, 'utf8'), lines);
      } else writeFileSync(data, lines);
      const out = join(root, `${tag}-torch`);
      const log = trainInTorch(dir, data, out, distributed);
      assert.match(log, /step 3 loss/);
      assert.ok(!existsSync(join(out, 'best.safetensors')) && existsSync(join(out, 'model.safetensors')), 'PyTorch writes plain weights');

      const back = await loadTranslator(out);
      const theirs = torchLogits(out, batch, `${tag}-after`);
      const trained = await zhuyiLogits(back, batch);
      assertClose(trained, theirs, { ...TOLERANCE, what: `${name}: zhuyi's logits of the folder PyTorch trained` });
      assert.ok(maxDiff(trained, ours) > 1e-2, `${name}: three PyTorch steps at lr 0.01 should move the logits (moved ${maxDiff(trained, ours)})`);
    });
  }

  test('BERT sequence classifier: zhuyi -> PyTorch -> torchrun (2 processes, DDP) -> fromPretrained, equal logits', async () => {
    manualSeed(5);
    const config = new BertConfig({
      vocab_size: 50, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16,
      hidden_act: 'gelu', id2label: { 0: 'neg', 1: 'pos', 2: 'neutral' },
    });
    const model = new BertForSequenceClassification(config);
    const dir = join(root, 'bert');
    await model.savePretrained(dir);
    writeFileSync(join(dir, 'vocab.txt'), Array.from({ length: 50 }, (_, i) => (i === 0 ? '[PAD]' : `tok${i}`)).join('\n'));
    const ids = [[2, 11, 12, 13, 14, 3], [2, 21, 22, 3, 0, 0], [2, 31, 3, 0, 0, 0]];
    const mask = ids.map((r) => r.map((x) => (x === 0 ? 0 : 1)));
    const forward = async (m: BertForSequenceClassification): Promise<Float32Array> => {
      const t = (rows: number[][]): Tensor => Tensor.fromBuffer(Int32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
      return (await noGrad(() => m.eval().forward(t(ids), { attentionMask: t(mask) }).logits).data()) as Float32Array;
    };
    const ours = await forward(model);
    assertClose(torchLogits(dir, { inputIds: ids, attentionMask: mask }, 'bert-before'), ours, { ...TOLERANCE, what: 'BERT: PyTorch\'s logits of the zhuyi folder' });

    const data = join(root, 'bert-ids.jsonl');
    const rows = Array.from({ length: 16 }, (_, i) => ({ input_ids: [2, ...Array.from({ length: 2 + (i % 5) }, (_, k) => 5 + ((i * 7 + k * 11) % 40)), 3], label: i % 3 }));
    writeFileSync(data, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const out = join(root, 'bert-torch');
    assert.match(trainInTorch(dir, data, out, true), /step 3 loss/);
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures[0], 'BertForSequenceClassification');
    assert.equal(readFileSync(join(out, 'vocab.txt'), 'utf8'), readFileSync(join(dir, 'vocab.txt'), 'utf8'), 'the tokenizer files travel with the weights');

    const back = await BertForSequenceClassification.fromPretrained(out, { warn: (m) => assert.fail(`fromPretrained warned: ${m}`) });
    const theirs = torchLogits(out, { inputIds: ids, attentionMask: mask }, 'bert-after');
    const trained = await forward(back);
    assertClose(trained, theirs, { ...TOLERANCE, what: 'BERT: zhuyi\'s logits of the folder PyTorch trained' });
    assert.ok(maxDiff(trained, ours) > 1e-2, `BERT: three PyTorch steps should move the logits (moved ${maxDiff(trained, ours)})`);
  });
});
