/**
 * `zhuyi bert finetune --task qa` end to end on tiny generated SQuAD files: a run from random init
 * prints the best exact match and F1 and writes the HF folder; --resume of the finished run is
 * refused for another task; bad input gives errors naming the file and the JSON path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Generator } from '../../src/index.js';
import { zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-qa-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const g = new Generator(3);
const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
const WORDS = ['river', 'cold', 'we', 'walked', 'home', 'birds', 'sang', 'old', 'roofs'];
/** SQuAD v1.1 JSON: "river cold . the code is kalofa . birds sang ." / "what is the code ?" -> "kalofa". */
function squad(n: number): string {
  const paragraphs = Array.from({ length: n }, (_, i) => {
    const before = `${Array.from({ length: g.randint(2, 6) }, () => pick(WORDS)).join(' ')} . the code is `;
    const value = ['ka', 'lo', 'fa', 'rin', 'do'].sort(() => g.random() - 0.5).slice(0, 2).join('');
    return { context: `${before}${value} . ${pick(WORDS)} .`, qas: [{ id: `q${i}`, question: 'what is the code ?', answers: [{ text: value, answer_start: before.length }] }] };
  });
  return JSON.stringify({ version: '1.1', data: [{ title: 'generated', paragraphs }] });
}
const train = join(dir, 'train.json');
const valid = join(dir, 'valid.json');
writeFileSync(train, squad(80));
writeFileSync(valid, squad(20));
const FAST = ['--epochs', '2', '--batch-tokens', '256', '--lr', '3e-3', '--max-seq-length', '24', '--doc-stride', '8', '--vocab-size', '60'];

describe('zhuyi bert finetune --task qa', () => {
  test('from random init: the best exact match and F1, and the Hugging Face folder', () => {
    const out = join(dir, 'qa');
    const r = zhuyi(['bert', 'finetune', '--task', 'qa', '--init', 'random', '--train', train, '--valid', valid, '--out', out, ...FAST]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^data: 80 training questions on 80 contexts -> \d+ windows \(\d+ without the answer, labelled \[CLS\]\); 20 validation questions on 20 contexts -> \d+ windows; max 24 tokens, doc stride 8; vocab \d+$/m);
    assert.match(r.stdout, /^validation: loss [\d.]+, exact match [\d.]+, F1 [\d.]+$/m);
    assert.match(r.stdout, /^fine-tuned \d+ steps in [\d.]+ s \(\d+ ONNX Runtime sessions? compiled in [\d.]+ s\)$/m);
    assert.match(r.stdout, /^best f1 [\d.]+ at step \d+: exact match [\d.]+, F1 [\d.]+, loss [\d.]+$/m);
    assert.match(r.stdout, /^Hugging Face folder \(best checkpoint\): .*qa\/hf$/m);
    const config = JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')) as { architectures: string[]; num_labels?: number; id2label: object };
    assert.deepEqual(config.architectures, ['BertForQuestionAnswering']);
    assert.deepEqual(config.id2label, { 0: 'LABEL_0', 1: 'LABEL_1' });
    const other = zhuyi(['bert', 'finetune', '--task', 'ner', '--resume', '--out', out]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /this folder holds a 'qa' run, not named-entity recognition/);
  });

  test('bad input names the file and the JSON path; options of other tasks are refused', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ data: [{ title: 't', paragraphs: [{ context: 'the code is kalo .', qas: [{ id: 'a', question: 'what is the code ?', answers: [{ text: 'kalo', answer_start: 3 }] }] }] }] }));
    const r = zhuyi(['bert', 'finetune', '--task', 'qa', '--init', 'random', '--train', train, '--valid', bad, '--out', join(dir, 'o-bad'), ...FAST]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]\.answer_start: 3 does not point at the answer: the context has " cod" there, the answer is "kalo"/);
    const other = zhuyi(['bert', 'finetune', '--task', 'qa', '--init', 'random', '--token-column', '1', '--train', train, '--valid', valid, '--out', join(dir, 'o-other')]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /--token-column and --label-column are not for --task qa/);
  });
});
