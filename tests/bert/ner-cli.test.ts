/**
 * `zhuyi bert finetune --task ner` end to end on tiny generated CoNLL files: a run from random init
 * prints the best entity F1 and writes the HF folder; bad input gives errors naming the file and
 * line; options of other tasks are refused; --help lists the tasks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Generator } from '../../src/index.js';
import { zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-ner-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const g = new Generator(7);
const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
const NAMES = ['Kalo', 'Varin', 'Dosa', 'Miter', 'Bonel', 'Zufa', 'Grito', 'Lentas'];
/** "mr Kalo saw the baker in Varin ." as tab-separated "token<TAB>tag" lines (BIO). */
const sentences = (n: number): string => Array.from({ length: n }, () => {
  const rows: string[] = [];
  rows.push('mr\tO', `${pick(NAMES)}\tB-PER`, `${pick(['saw', 'met'])}\tO`, 'the\tO', `${pick(['baker', 'team'])}\tO`);
  if (g.random() < 0.6) rows.push(`${pick(['in', 'near'])}\tO`, `${pick(NAMES)}\tB-LOC`);
  rows.push('.\tO');
  return rows.join('\n');
}).join('\n\n');
const train = join(dir, 'train.conll');
const valid = join(dir, 'valid.conll');
writeFileSync(train, sentences(80));
writeFileSync(valid, sentences(20));
const FAST = ['--epochs', '2', '--batch-tokens', '256', '--lr', '3e-3', '--max-seq-length', '32', '--vocab-size', '80'];

describe('zhuyi bert finetune --task ner', () => {
  test('from random init: the best entity F1 and the Hugging Face folder', () => {
    const out = join(dir, 'ner');
    const r = zhuyi(['bert', 'finetune', '--task', 'ner', '--init', 'random', '--cased', '--train', train, '--valid', valid, '--out', out, ...FAST]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^init: random, tiny preset \(2 layers, hidden 128\), no pretraining$/m);
    assert.match(r.stdout, /^data: 80 training sentences \(\d+ words; entities LOC \d+, PER 80\), 20 validation sentences \(\d+ words; entities LOC \d+, PER 20\); labels O B-LOC I-LOC B-PER I-PER; vocab \d+$/m);
    assert.match(r.stdout, /^validation: loss [\d.]+, entity F1 [\d.]+% \(precision [\d.]+%, recall [\d.]+%; LOC [\d.]+, PER [\d.]+\), token accuracy [\d.]+%$/m);
    assert.match(r.stdout, /^fine-tuned \d+ steps in [\d.]+ s \(\d+ ONNX Runtime sessions? compiled in [\d.]+ s\)$/m);
    assert.match(r.stdout, /^best f1 [\d.]+ at step \d+: entity F1 [\d.]+% \(precision [\d.]+%, recall [\d.]+%\), token accuracy [\d.]+%, loss [\d.]+$/m);
    assert.match(r.stdout, /^Hugging Face folder \(best checkpoint\): .*ner\/hf$/m);
    const config = JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')) as { architectures: string[]; label2id: Record<string, number> };
    assert.deepEqual(config.architectures, ['BertForTokenClassification']);
    assert.deepEqual(config.label2id, { O: 0, 'B-LOC': 1, 'I-LOC': 2, 'B-PER': 3, 'I-PER': 4 });
  });

  test('bad input names the file and line; options of other tasks are refused', () => {
    const bad = join(dir, 'bad.conll');
    writeFileSync(bad, 'mr\tO\nKalo\tB-PERSON\n\nthe\tO\nteam\tPER\n');
    const r = zhuyi(['bert', 'finetune', '--task', 'ner', '--init', 'random', '--train', bad, '--valid', valid, '--out', join(dir, 'o-bad'), ...FAST]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad\.conll:5:6: label "PER" is not a BIO or IOB1 tag \(O, B-TYPE or I-TYPE\)/);
    const unknown = join(dir, 'unknown.conll');
    writeFileSync(unknown, 'mr\tO\nKalo\tB-ORG\n');
    const u = zhuyi(['bert', 'finetune', '--task', 'ner', '--init', 'random', '--train', train, '--valid', unknown, '--out', join(dir, 'o-unknown'), ...FAST]);
    assert.notEqual(u.status, 0);
    assert.match(u.stderr, /unknown\.conll:2:1: label "B-ORG" does not occur in the training data \(labels: O, B-LOC, I-LOC, B-PER, I-PER\)/);
    const other = zhuyi(['bert', 'finetune', '--task', 'ner', '--init', 'random', '--doc-stride', '64', '--train', train, '--valid', valid, '--out', join(dir, 'o-other')]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /--doc-stride and --max-answer-length are for --task qa/);
  });

  test('--help lists the tasks and their options', () => {
    const h = zhuyi(['bert', 'finetune', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--task <name>.*\(choices:\s+"classify",\s+"ner",\s+"qa",\s+"multiple-choice",\s+default:\s+"classify"\)/s);
    assert.match(h.stdout, /--token-column.*--doc-stride.*--max-answer-length/s);
  });
});
