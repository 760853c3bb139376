/**
 * `zhuyi bert pretrain | finetune` end to end on tiny generated data: pretrain, fine-tune from the
 * pretrained folder and from random init; --help of each command; bad input gives errors naming the
 * file and line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Generator } from '../../src/index.js';
import { zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const g = new Generator(4);
const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
const NOUNS = ['cow', 'ship', 'taxi', 'rocket', 'farmer', 'sailor', 'banker', 'moon'];
const corpus = join(dir, 'corpus.txt');
writeFileSync(corpus, Array.from({ length: 16 }, () => Array.from({ length: 8 }, () => `the ${pick(NOUNS)} sees the ${pick(NOUNS)} .`).join('\n')).join('\n\n'));
const rows = (n: number): Array<[string, string]> => Array.from({ length: n }, () => {
  const good = g.random() < 0.5;
  return [`the ${pick(NOUNS)} was ${good ? pick(['good', 'great']) : pick(['bad', 'awful'])}`, good ? 'pos' : 'neg'];
});
const train = join(dir, 'train.csv');
const valid = join(dir, 'valid.csv');
writeFileSync(train, ['text,label', ...rows(96).map((r) => r.join(','))].join('\n'));
writeFileSync(valid, ['text,label', ...rows(32).map((r) => r.join(','))].join('\n'));
const trainJsonl = join(dir, 'train.jsonl');
writeFileSync(trainJsonl, rows(96).map(([review, stars]) => JSON.stringify({ review, stars })).join('\n'));
const validJsonl = join(dir, 'valid.jsonl');
writeFileSync(validJsonl, rows(32).map(([review, stars]) => JSON.stringify({ review, stars })).join('\n'));
const FAST = ['--epochs', '1', '--batch-tokens', '512', '--lr', '2e-3', '--max-seq-length', '32'];

describe('zhuyi bert', () => {
  test('pretrain, then fine-tune from its Hugging Face folder', () => {
    const pre = join(dir, 'pre');
    const p = zhuyi(['bert', 'pretrain', '--corpus', corpus, '--out', pre, '--vocab-size', '100', '--size', 'tiny', '--whole-word-mask', ...FAST]);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /^data: 128 sentences in 16 documents; \d+ training and \d+ validation instances/m);
    assert.match(p.stdout, /^pretrained \d+ steps in [\d.]+ s \([1-9]\d* ONNX Runtime sessions? compiled in [\d.]+ s\)$/m);
    assert.match(p.stdout, /^best mlm_loss [\d.]+ at step \d+: MLM accuracy [\d.]+%, NSP accuracy [\d.]+%/m);
    assert.match(p.stdout, new RegExp(`^Hugging Face folder \\(best checkpoint\\): ${join(pre, 'hf').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) assert.ok(existsSync(join(pre, 'hf', f)), f);

    const ft = join(dir, 'ft');
    const f = zhuyi(['bert', 'finetune', '--task', 'classify', '--model', join(pre, 'hf'), '--train', train, '--valid', valid, '--out', ft, ...FAST]);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /^init: .*pre\/hf \(2 new: classifier\.weight, classifier\.bias; 7 unused checkpoint keys\)$/m);
    assert.match(f.stdout, /^fine-tuned \d+ steps in [\d.]+ s \(\d+ ONNX Runtime sessions? compiled in [\d.]+ s\)$/m);
    assert.match(f.stdout, /^best accuracy [\d.]+ at step \d+: validation accuracy [\d.]+%, loss [\d.]+$/m);
    const config = JSON.parse(readFileSync(join(ft, 'hf', 'config.json'), 'utf8')) as { id2label: unknown; vocab_size: number };
    assert.deepEqual(config.id2label, { 0: 'neg', 1: 'pos' });
    assert.equal(config.vocab_size, JSON.parse(readFileSync(join(pre, 'hf', 'config.json'), 'utf8')).vocab_size);
  });

  test('fine-tune from random init on JSONL with named fields', () => {
    const out = join(dir, 'random');
    const r = zhuyi(['bert', 'finetune', '--task', 'classify', '--init', 'random', '--size', 'tiny', '--vocab-size', '80', '--train', trainJsonl, '--valid', validJsonl,
      '--text-column', 'review', '--label-column', 'stars', '--out', out, ...FAST]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^init: random, tiny preset \(2 layers, hidden 128\), no pretraining$/m);
    assert.match(r.stdout, /^data: 96 training, 32 validation examples; labels neg \(\d+\), pos \(\d+\); vocab \d+$/m);
    assert.ok(existsSync(join(out, 'hf', 'model.safetensors')));
  });

  test('bad input: errors name the file and line; missing choices are explained', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'text,label\nfine,pos\n"unclosed,neg\n');
    const r = zhuyi(['bert', 'finetune', '--init', 'random', '--train', bad, '--valid', valid, '--out', join(dir, 'o-bad'), ...FAST]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad\.csv:3:1: field 1: quote opened here is never closed/);
    const unknown = join(dir, 'unknown.csv');
    writeFileSync(unknown, 'text,label\nthe cow was good,pos\nthe cow was meh,meh\n');
    const u = zhuyi(['bert', 'finetune', '--init', 'random', '--train', train, '--valid', unknown, '--out', join(dir, 'o-unknown'), ...FAST]);
    assert.notEqual(u.status, 0);
    assert.match(u.stderr, /unknown\.csv:3:1: field "label": label "meh" does not occur in the training data \(labels: neg, pos\)/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n\n');
    const e = zhuyi(['bert', 'pretrain', '--corpus', empty, '--out', join(dir, 'o-empty'), ...FAST]);
    assert.notEqual(e.status, 0);
    assert.match(e.stderr, /empty\.txt: empty corpus/);
    const none = zhuyi(['bert', 'finetune', '--train', train, '--valid', valid, '--out', join(dir, 'o-none')]);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /give --model DIR \(a pretrained folder\) or --init random/);
  });

  test('--help of each command', () => {
    assert.match(zhuyi(['bert', '--help']).stdout, /pretrain \[options\].*finetune \[options\]/s);
    const p = zhuyi(['bert', 'pretrain', '--help']);
    assert.equal(p.status, 0);
    assert.match(p.stdout, /Usage: zhuyi bert pretrain/);
    assert.match(p.stdout, /--corpus.*--vocab .*--vocab-size.*--size.*--max-seq-length.*--whole-word-mask.*--out.*--epochs.*--max-steps.*--batch-tokens.*--lr.*--warmup.*--seed.*--resume.*--backend.*--device.*--threads/s);
    const f = zhuyi(['bert', 'finetune', '--help']);
    assert.equal(f.status, 0);
    assert.match(f.stdout, /Usage: zhuyi bert finetune/);
    assert.match(f.stdout, /--task.*--train.*--valid.*--text-column.*--text-pair-column.*--label-column.*--model.*--init.*--size.*--out.*--epochs.*--resume/s);
  });
});
