/**
 * zhuyi viz pages: the maps a page carries are the model's own attention (checked against a
 * forward pass run here), rows sum to 1, labels are escaped, each folder kind gives its sections,
 * and bad folders give errors that name them.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BertModel, BertTokenizer, noGrad, Tensor, type AttentionSeq2Seq, type TransformerSeq2Seq } from '../../src/index.js';
import { loadTranslator } from '../../src/translate/translator.js';
import { readTrainingLog } from '../../src/viz/curves.js';
import { vizFolder } from '../../src/viz/folder.js';
import { vizHtml } from '../../src/viz/page.js';
import { headView, heatmap } from '../../src/viz/svg.js';
import { bertFolder, pageData, TEXT, translationFolder } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'zhuyi-viz-'));
after(() => rmSync(root, { recursive: true, force: true }));
const folders: Record<string, string> = {};
before(async () => {
  folders.transformer = await translationFolder(root, 'transformer', { numDecoderLayers: 2 });
  folders.attention = await translationFolder(root, 'attention');
  folders.seq2seq = await translationFolder(root, 'seq2seq');
  folders.bert = await bertFolder(root);
});

/** (L, H, T, S) nested arrays vs L tensors (1, H, T, S): same shape, every weight within 1e-6 (the page keeps 6 decimals). */
async function assertMapsEqual(actual: number[][][][], expected: Tensor[]): Promise<void> {
  assert.equal(actual.length, expected.length, 'layers');
  for (let l = 0; l < expected.length; l++) {
    const [, H, T, S] = expected[l]!.shape as number[];
    const flat = await expected[l]!.data();
    assert.deepEqual([actual[l]!.length, actual[l]![0]!.length, actual[l]![0]![0]!.length], [H, T, S], `layer ${l} shape`);
    for (let h = 0; h < H!; h++) for (let t = 0; t < T!; t++) for (let s = 0; s < S!; s++) {
      const want = flat[(h * T! + t) * S! + s]!;
      assert.ok(Math.abs(actual[l]![h]![t]![s]! - want) <= 1e-6, `layer ${l} head ${h} [${t}][${s}]: page ${actual[l]![h]![t]![s]} vs model ${want}`);
    }
  }
}

function assertRowsSumToOne(maps: number[][][][]): void {
  for (const layer of maps) for (const head of layer) for (const row of head) {
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row sums to ${row.reduce((a, b) => a + b, 0)}`);
  }
}

/** data-v of the translation heatmap's cells, as rows. */
function cellValues(html: string): number[][] {
  const svg = /<svg[^>]*id="translation-map"[\s\S]*?<\/svg>/.exec(html)![0];
  const rows: number[][] = [];
  for (const m of svg.matchAll(/<rect class="cell" data-i="(\d+)" data-j="(\d+)" data-v="([^"]+)"/g)) (rows[Number(m[1])] ??= [])[Number(m[2])] = Number(m[3]);
  return rows;
}

describe('translation models', () => {
  test('Transformer: every decoder layer and head of the cross-attention, as the model computes it on its own greedy output', async () => {
    const r = await vizFolder(folders.transformer!, { text: TEXT });
    assert.equal(r.kind, 'translation');
    const tr = pageData(r.html).translation!;
    const translator = await loadTranslator(folders.transformer!);
    assert.deepEqual(await translator.translate([TEXT]), [tr.translation], 'the page shows what translate run prints');
    assert.deepEqual(tr.sourceTokens, ['<b>&', 'red', 'cat', 'dog']);
    // The oracle: a teacher-forced forward over [BOS, the page's output tokens] (EOS last, not fed).
    const v = translator.target.vocab;
    const outIds = tr.outputTokens.map((t) => v.id(t));
    assert.equal(outIds[outIds.length - 1], v.eosId, 'the model ended the sentence: EOS is the last row');
    const src = Tensor.fromBuffer(Int32Array.from(translator.source.encode(TEXT)), [1, 4]);
    const tgtIn = Tensor.fromBuffer(Int32Array.from([v.bosId, ...outIds.slice(0, -1)]), [1, outIds.length]);
    const model = translator.model as unknown as TransformerSeq2Seq;
    const expected = noGrad(() => model.forwardWithAttention(src, [4], tgtIn).decoderCrossAttentions);
    assert.equal(expected.length, 2);
    assert.equal(expected[0]!.shape[1], 4, 'heads');
    await assertMapsEqual(tr.maps, expected);
    assertRowsSumToOne(tr.maps);
    // First view: the last layer, mean of the heads; one cell per (output, source) token pair.
    const cells = cellValues(r.html);
    assert.equal(cells.length, outIds.length);
    const last = tr.maps[1]!;
    cells.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - last.reduce((s, h) => s + h[i]![j]!, 0) / 4) < 1e-9)));
    assert.match(r.html, /<select id="translation-layer">.*<option value="1" selected>2 of 2<\/option>/s);
    assert.match(r.html, /<option value="avg" selected>average of 4 heads<\/option>/);
    assert.match(r.html, /id="curves"/, 'the folder has a log.jsonl: curves too');
  });

  test('labels are escaped: a source word <b>& is drawn as text, never as markup', async () => {
    const { html } = await vizFolder(folders.transformer!, { text: TEXT });
    assert.ok(!html.includes('<b>&'), 'the raw token must not appear anywhere (labels, title, tooltips, JSON)');
    assert.match(html, /rotate\(-60[^>]*>&lt;b&gt;&amp;<\/text>/, 'the column label');
    assert.match(html, /<b>Source:<\/b> &lt;b&gt;&amp; red cat dog/);
    assert.match(html, /&lt;b&gt;&amp;: 0\.\d{3}<\/title>/, 'tooltips');
  });

  test('--layer picks the first layer shown; out of range names the range', async () => {
    const r = await vizFolder(folders.transformer!, { text: TEXT, layer: 0 });
    const tr = pageData(r.html).translation!;
    const first = tr.maps[0]!;
    cellValues(r.html).forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - first.reduce((s, h) => s + h[i]![j]!, 0) / 4) < 1e-9)));
    await assert.rejects(vizFolder(folders.transformer!, { text: TEXT, layer: 2 }), /layer 3 is out of range: the decoder has layers 1\.\.2/);
  });

  test('RNN with attention: its one alignment matrix, no selectors', async () => {
    const r = await vizFolder(folders.attention!, { text: TEXT });
    const tr = pageData(r.html).translation!;
    assert.equal(tr.kind, 'attention');
    const translator = await loadTranslator(folders.attention!);
    const v = translator.target.vocab;
    const outIds = tr.outputTokens.map((t) => v.id(t));
    const src = Tensor.fromBuffer(Int32Array.from(translator.source.encode(TEXT)), [1, 4]);
    const tgtIn = Tensor.fromBuffer(Int32Array.from([v.bosId, ...outIds.slice(0, -1)]), [1, outIds.length]);
    const att = noGrad(() => (translator.model as unknown as AttentionSeq2Seq).forwardWithAttention(src, [4], tgtIn).attention); // (1, T, S)
    await assertMapsEqual(tr.maps, [att.reshape(1, 1, outIds.length, 4)]);
    assertRowsSumToOne(tr.maps);
    assert.equal(cellValues(r.html).flat().length, outIds.length * 4);
    assert.doesNotMatch(r.html, /id="translation-layer"|id="translation-head"/);
    await assert.rejects(vizFolder(folders.attention!, { text: TEXT, layer: 0 }), /--layer is for Transformers/);
  });

  test('plain Seq2Seq: no attention, the page says why instead of failing', async () => {
    const r = await vizFolder(folders.seq2seq!, { text: TEXT });
    assert.equal(r.kind, 'translation');
    assert.equal(pageData(r.html).translation!.maps.length, 0);
    assert.match(r.html, /has no attention/);
    assert.match(r.html, /one fixed-size vector/);
    assert.doesNotMatch(r.html, /id="translation-map"/);
    assert.match(r.html, /Greedy translation:/);
  });
});

describe('BERT', () => {
  test('head view and model view carry every layer and head of the model\'s attention; pairs get token_type_ids', async () => {
    const dir = folders.bert!;
    const r = await vizFolder(dir, { text: 'the cat <b>& sat', pair: 'it was happy' });
    assert.equal(r.kind, 'bert');
    const b = pageData(r.html).bert!;
    const tok = BertTokenizer.fromPretrained(dir);
    const enc = tok.encode('the cat <b>& sat', 'it was happy');
    assert.deepEqual(b.tokens, enc.tokens);
    assert.deepEqual(b.tokens, ['[CLS]', 'the', 'cat', '<', 'b', '>', '&', 'sat', '[SEP]', 'it', 'was', 'happy', '[SEP]']);
    assert.deepEqual(b.tokenTypeIds, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const model = await BertModel.fromPretrained(dir, { warn: () => {} });
    const T = enc.inputIds.length;
    const expected = noGrad(() => model.forward(Tensor.fromBuffer(Int32Array.from(enc.inputIds), [1, T]), {
      tokenTypeIds: Tensor.fromBuffer(Int32Array.from(enc.tokenTypeIds), [1, T]), outputAttentions: true,
    }).attentions!);
    await assertMapsEqual(b.maps, expected);
    assertRowsSumToOne(b.maps);
    // Without the pair, sentence B's tokens and their type ids are gone: the maps differ.
    const single = pageData((await vizFolder(dir, { text: 'the cat <b>& sat' })).html).bert!;
    assert.equal(single.tokens.length, 9);
    // Head view: one line per head and token pair, drawn with the first layer's weights.
    const lines = [...r.html.matchAll(/<g class="head" data-head="(\d)"[^>]*>([\s\S]*?)<\/g>/g)];
    assert.equal(lines.length, 3);
    for (const [, h, body] of lines) {
      const vs = [...body!.matchAll(/<line data-i="(\d+)" data-j="(\d+)" data-v="([^"]+)"/g)];
      assert.equal(vs.length, T * T);
      for (const [, i, j, x] of vs) assert.equal(Number(x), b.maps[0]![Number(h)]![Number(i)]![Number(j)]);
    }
    // Model view: layers x heads thumbnails.
    assert.equal((r.html.match(/<td class="thumb"/g) ?? []).length, 2 * 3);
    assert.match(r.html, /Tokens of sentence B are brown/);
  });

  test('a `zhuyi bert` run folder: the model from hf/, the curves from log.jsonl', async () => {
    const run = join(root, 'bert-run');
    mkdirSync(join(run, 'hf'), { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) copyFileSync(join(folders.bert!, f), join(run, 'hf', f));
    copyFileSync(join(folders.transformer!, 'log.jsonl'), join(run, 'log.jsonl'));
    const r = await vizFolder(run, { text: 'the cat sat' });
    assert.equal(r.kind, 'bert');
    assert.equal(pageData(r.html).bert!.tokens.length, 5);
    assert.match(r.html, /id="head-view".*id="model-view".*id="curves"/s);
  });

  test('BERT labels are escaped', async () => {
    const { html } = await vizFolder(folders.bert!, { text: 'the cat <b>& sat' });
    assert.match(html, /text-anchor="end">&lt;<\/text>/);
    assert.match(html, />&amp;<\/text>/);
    assert.doesNotMatch(html, />[<&]<\/text>/);
    assert.match(html, /tokens in order: \[CLS\] the cat &lt; b &gt; &amp; sat \[SEP\]/);
  });

  test('--layer chooses the head view\'s layer', async () => {
    const r = await vizFolder(folders.bert!, { text: 'the cat sat', layer: 1 });
    const b = pageData(r.html).bert!;
    assert.match(r.html, /<option value="1" selected>2 of 2<\/option>/);
    const first = /<g class="head" data-head="0"[^>]*><line data-i="0" data-j="0" data-v="([^"]+)"/.exec(r.html)!;
    assert.equal(Number(first[1]), b.maps[1]![0]![0]![0]);
    assert.notEqual(b.maps[1]![0]![0]![0], b.maps[0]![0]![0]![0]);
    await assert.rejects(vizFolder(folders.bert!, { text: 'the cat', layer: 7 }), /layer 8 is out of range: the BERT model has layers 1\.\.2/);
  });
});

describe('training curves', () => {
  test('a folder with only log.jsonl: loss, BLEU, accuracy and learning-rate charts, one point per logged value', async () => {
    const run = join(root, 'run-only');
    mkdirSync(run, { recursive: true });
    copyFileSync(join(folders.transformer!, 'log.jsonl'), join(run, 'log.jsonl'));
    const r = await vizFolder(run, { text: 'ignored' });
    assert.equal(r.kind, 'curves');
    assert.deepEqual(r.notes, [`--text ignored: ${run} holds no model, only log.jsonl`]);
    assert.doesNotMatch(r.html, /id="translation"|id="head-view"/);
    const log = readTrainingLog(join(run, 'log.jsonl'));
    const trainLines = log.filter((e) => e.train_loss !== undefined).length;
    const validLines = log.filter((e) => e.valid_loss !== undefined).length;
    assert.ok(trainLines >= 2 && validLines >= 2, `${trainLines} train and ${validLines} validation lines`);
    const chart = (name: string): string => new RegExp(`<figure class="chart" data-chart="${name}">([\\s\\S]*?)</figure>`).exec(r.html)?.[1] ?? '';
    const dots = (svg: string): number => (svg.match(/<circle /g) ?? []).length;
    assert.equal(dots(chart('loss')), trainLines + validLines);
    assert.equal(dots(chart('bleu')), 2 * validLines, 'BLEU and chrF');
    assert.equal(dots(chart('accuracy')), validLines, 'exact match');
    assert.equal(dots(chart('lr')), trainLines);
    assert.match(chart('loss'), /train loss.*valid loss/s);
  });

  test('a half-written last line is skipped; a broken line elsewhere names file and line', async () => {
    const run = join(root, 'run-broken');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'log.jsonl'), '{"step":1,"train_loss":2,"lr":0.001}\n{"step":2,"train_loss":1.5,"lr":0.0');
    assert.equal(readTrainingLog(join(run, 'log.jsonl')).length, 1);
    writeFileSync(join(run, 'log.jsonl'), '{"step":1,"train_loss":2}\nnot json\n{"step":2,"train_loss":1}\n');
    await assert.rejects(vizFolder(run), /run-broken\/log\.jsonl:2: not a JSON line/);
    writeFileSync(join(run, 'log.jsonl'), '');
    assert.match((await vizFolder(run)).html, /log\.jsonl has no entries yet/);
  });
});

describe('bad input', () => {
  test('errors name the folder or the flag', async () => {
    await assert.rejects(vizFolder(join(root, 'nope')), /nope: no such directory/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await assert.rejects(vizFolder(empty), /empty is neither a model folder \(zhuyi-translate\.json, or a BERT config\.json\) nor a run folder \(log\.jsonl\)/);
    await assert.rejects(vizFolder(folders.transformer!), /is a translation model: give the sentence to look at with --text/);
    await assert.rejects(vizFolder(folders.bert!, { text: '  ' }), /is a BERT model: give the sentence to look at with --text/);
    await assert.rejects(vizFolder(folders.transformer!, { text: TEXT, pair: 'x' }), /--pair is for BERT models/);
    const noVocab = join(root, 'bert-no-vocab');
    mkdirSync(noVocab);
    copyFileSync(join(folders.bert!, 'config.json'), join(noVocab, 'config.json'));
    copyFileSync(join(folders.bert!, 'model.safetensors'), join(noVocab, 'model.safetensors'));
    await assert.rejects(vizFolder(noVocab, { text: 'the cat' }), /bert-no-vocab has no tokenizer \(vocab\.txt or tokenizer\.json\)/);
  });
});

describe('page and charts', () => {
  test('the data script cannot be closed by a token, and the page needs nothing from the network', () => {
    const html = vizHtml({
      title: 'a </script> title', translation: {
        kind: 'attention', text: '</script><b>&', translation: 'x', sourceTokens: ['</script>', '&'], outputTokens: ['x', '<eos>'],
        maps: [[[[0.25, 0.75], [1, 0]]]],
      },
    });
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'only the two script tags close');
    assert.equal(pageData(html).translation!.sourceTokens[0], '</script>', 'the JSON round-trips');
    assert.doesNotMatch(html, /\s(src|href)=|url\(|@import/, 'no external resources');
  });

  test('heatmap thumbnails leave out white cells; head view escapes tokens and draws H x T x T lines', () => {
    const thumb = heatmap([[1, 0], [0.5, 0.5]], ['a', 'b'], ['a', 'b'], 'layer 1, head 1', { labels: false, cell: 4 });
    assert.equal((thumb.match(/<rect /g) ?? []).length, 1 + 3, 'background + the three non-white cells');
    const full = heatmap([[1, 0], [0.5, 0.5]], ['a', 'b'], ['a', 'b'], 't', { cellData: true });
    assert.equal((full.match(/<rect class="cell"/g) ?? []).length, 4);
    const hv = headView(['<s>', '&'], [[[1, 0], [0.5, 0.5]], [[0, 1], [1, 0]]]);
    assert.equal((hv.match(/<line /g) ?? []).length, 2 * 2 * 2);
    assert.match(hv, />&lt;s&gt;<\/text>/);
    assert.match(hv, /stroke-opacity="0\.5"/);
  });
});
