/** The BERT demo end to end on smaller settings: data, pretraining, two fine-tunings, bag of words, table and report. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/index.js';
import { BagOfWords, KINDS, MODEL_NAMES, bertDemoTable, mirror, runBertDemo, sentimentData } from '../../src/demo/bert.js';

test('sentimentData: balanced test subsets, mirrored pairs with the same words and opposite labels, no test sentence in training', () => {
  const d = sentimentData(3, { documents: 50, train: 200, valid: 50, testPerKind: 40 });
  assert.equal(d.corpus.length, 50);
  assert.ok(d.corpus.every((doc) => doc.length >= 3 && doc.length <= 6));
  for (const k of KINDS) assert.equal(d.test.filter((e) => e.kind === k).length, 40, k);
  const seen = new Set([...d.train, ...d.valid].map((e) => e.text));
  assert.ok(d.test.every((e) => !seen.has(e.text)));
  assert.equal(new Set(d.test.map((e) => e.text)).size, d.test.length, 'test sentences are distinct');
  // Word order and "X , not Y": consecutive mirrored pairs (same bag of words, opposite labels).
  const bag = (t: string): string => t.split(' ').sort().join(' ');
  const paired = d.test.filter((e) => e.kind === 'order' || e.text.includes(','));
  assert.equal(paired.length, 40 + 20);
  for (let i = 0; i < paired.length; i += 2) {
    const [a, b] = [paired[i]!, paired[i + 1]!];
    assert.equal(bag(a.text), bag(b.text));
    assert.notEqual(a.label, b.label);
    assert.equal(mirror(a).text, b.text);
  }
  assert.deepEqual(mirror({ text: 'the hero easily beat the villain', label: 1, kind: 'order' }), { text: 'the villain easily beat the hero', label: 0, kind: 'order' });
  assert.deepEqual(mirror({ text: 'the room was nice , not bad', label: 1, kind: 'negation' }), { text: 'the room was bad , not nice', label: 0, kind: 'negation' });
});

test('BagOfWords: the same words get the same prediction', async () => {
  const d = sentimentData(0, { documents: 1, train: 200, valid: 1, testPerKind: 20 });
  const bow = new BagOfWords(d.train);
  await bow.fit(d.train, { steps: 100 });
  const texts = ['the hero beat the villain', 'the villain beat the hero', 'the food was good , not bad', 'the food was bad , not good'];
  const p = await bow.predict(texts);
  assert.equal(p[0], p[1]);
  assert.equal(p[2], p[3]);
});

test('runBertDemo: pretrain, fine-tune twice, bag of words; table and a self-contained report.html', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-demo-'));
  try {
    const lines: string[] = [];
    const r = await runBertDemo({
      outDir: dir, seed: 0, progress: false, log: (s) => lines.push(s),
      data: { documents: 1500, train: 200, valid: 60, testPerKind: 100 }, pretrainSteps: 400, finetuneEpochs: 40,
    });
    assert.deepEqual(r.models.map((m) => m.name), [MODEL_NAMES.pretrained, MODEL_NAMES.random, MODEL_NAMES.bow]);
    assert.equal(r.data.test.length, 300);
    assert.equal(r.pretrain.steps, 400);
    assert.ok(r.pretrain.mlmAccuracy! > 0.2, `MLM accuracy ${r.pretrain.mlmAccuracy}`);
    for (const sub of ['pretrain', 'finetune-pretrained', 'finetune-random']) assert.ok(existsSync(join(dir, sub, 'hf', 'model.safetensors')), sub);
    for (const f of ['corpus.txt', 'vocab.txt', 'train.tsv', 'valid.tsv', 'test.tsv']) assert.ok(existsSync(join(dir, 'data', f)), f);
    assert.ok(!lines.some((l) => l.startsWith('validation:')), 'per-epoch validation lines are not printed');

    // Bag of words: exactly chance on word order (mirrored pairs, by construction); measured ~30% on negation, ~87% on plain.
    const [pre, rnd, bow] = r.models as [typeof r.models[0], typeof r.models[0], typeof r.models[0]];
    assert.equal(bow.byKind.order, 0.5);
    const contrast = r.data.test.flatMap((e, i) => (e.kind === 'negation' && e.text.includes(',') ? [i] : []));
    assert.equal(contrast.filter((i) => bow.predictions[i] === r.data.test[i]!.label).length, contrast.length / 2, 'right on exactly half of the "X , not Y" pairs');
    assert.ok(bow.byKind.negation <= 0.55, `bag of words negation ${bow.byKind.negation}`);
    // Both BERTs beat it on negation by a wide margin (measured: 92% and 98% vs 30%) and on word order (100%, 99% vs 50%).
    for (const m of [pre, rnd]) {
      assert.ok(m.byKind.negation >= bow.byKind.negation + 0.25, `${m.name}: negation ${m.byKind.negation} vs bag of words ${bow.byKind.negation}`);
      assert.ok(m.byKind.order >= 0.8, `${m.name}: word order ${m.byKind.order}`);
      assert.ok(m.overall >= 0.8, `${m.name}: overall ${m.overall}`);
    }

    const table = bertDemoTable(r).split('\n');
    assert.equal(table.length, 4);
    assert.match(table[0]!, /overall.*plain \(100\).*negation \(100\).*word order \(100\)/);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.equal(r.reportPath, join(dir, 'report.html'));
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<table><tr><th>model<\/th>.*MLM-pretrained.*random init.*bag of words.*<\/table>/s);
    assert.equal(r.attention.svgs.length, 4, 'every head of the 2-layer, 2-head model');
    assert.equal((html.match(/<svg /g) ?? []).length, 1 + 1 + 4, 'accuracy bars, loss curves, four heatmaps');
    assert.match(html, /the food was not very good<\/code>: P\(positive\) = [\d.]+ for the pretrained/);
    // Heatmaps carry the tokens of the negation example.
    for (const t of ['[CLS]', 'not', 'very', 'good', '[SEP]']) assert.ok(r.attention.svgs.every((s) => s.includes(`>${t}<`)), t);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, no network');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
