/**
 * `exportOnnx` for BERT folders: the exported model.onnx runs in plain onnxruntime-node (imported
 * directly, not through zhuyi) and gives zhuyi's logits and attentions within 1e-4 at two batch
 * sizes and two sequence lengths from the same file (the axes are dynamic), with padding; the
 * isomorphic runner's pipelines give zhuyi's pipeline results. zhuyi's side runs on the js
 * reference backend, so ONNX Runtime is checked against an independent implementation.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as z from '../../src/index.js';
import {
  BertConfig, BertForMaskedLM, BertForMultipleChoice, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, BertModel,
  type BertPreTrainedModel, BertTokenizer, Generator, type Tensor, answer, classify, fillMask, tokenClassify,
} from '../../src/index.js';
import { exportOnnx } from '../../src/export/export.js';
import { ExportedBert, loadExport } from '../../src/export/runner.js';
import { assertClose, sharedDataOrSkip } from '../helpers.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  'the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', '##s', 'run', 'hello',
  'world', ',', '!', '.', '?', 'john', 'smith', 'lives', 'in', 'paris',
];
const dir = mkdtempSync(join(tmpdir(), 'zhuyi-export-bert-'));
let prevBackend = '';
before(() => {
  prevBackend = z.getBackend();
  z.setBackend('js');
});
after(() => {
  z.setBackend(prevBackend);
  rmSync(dir, { recursive: true, force: true });
});

const config = (extra: Record<string, unknown> = {}): BertConfig => new BertConfig({
  vocab_size: VOCAB.length, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32,
  max_position_embeddings: 40, initializer_range: 0.3, ...extra,
});

/** Saves model + tokenizer as an HF folder, exports it; returns the export folder. */
async function saved(name: string, model: BertPreTrainedModel): Promise<string> {
  const folder = join(dir, name);
  await model.savePretrained(folder);
  new BertTokenizer(VOCAB).savePretrained(folder);
  const out = join(dir, `${name}-onnx`);
  await exportOnnx(folder, out);
  return out;
}

/** A padded batch: B rows of length T, row b with T - b real tokens, the second half segment B. */
function batch(B: number, T: number, seed: number): { ids: number[][]; mask: number[][]; types: number[][] } {
  const g = new Generator(seed);
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t < T - b ? g.randint(5, VOCAB.length) : 0)));
  ids.forEach((row, b) => { row[0] = 2; row[T - b - 1] = 3; });
  const mask = ids.map((row, b) => row.map((_, t) => (t < T - b ? 1 : 0)));
  const types = ids.map((row, b) => row.map((_, t) => (t >= (T - b) / 2 && t < T - b ? 1 : 0)));
  return { ids, mask, types };
}

const i64 = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [rows.length, rows[0]!.length]);
const i32 = (rows: number[][]): Tensor => z.tensor(rows, { dtype: 'int32' });

/** Runs the export and zhuyi on the same batches; compares each named output and every attention. */
type Forward = { logits?: Tensor; startLogits?: Tensor; endLogits?: Tensor; lastHiddenState?: Tensor; poolerOutput?: Tensor | null; attentions?: Tensor[] };

async function compare(out: string, model: BertPreTrainedModel, zhuyiOutputs: (o: Forward) => Record<string, Tensor>,
  shapes: [number, number][] = [[2, 7], [3, 12]], seed = 1): Promise<void> {
  const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const L = model.config.numHiddenLayers;
  for (const [B, T] of shapes) {
    const { ids, mask, types } = batch(B, T, seed + B);
    const got = await session.run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(types) });
    const forward = (model as unknown as { forward(x: Tensor, o: object): Forward }).forward(i32(ids), {
      attentionMask: i32(mask), tokenTypeIds: i32(types), outputAttentions: true,
    });
    const head = z.noGrad(() => zhuyiOutputs(forward));
    for (const [name, t] of Object.entries(head)) {
      assert.deepEqual(got[name]!.dims, t.shape, `${name} shape at B=${B} T=${T}`);
      assertClose(got[name]!.data as Float32Array, await t.data(), { atol: 1e-4, rtol: 1e-4, what: `${name} B=${B} T=${T}` });
    }
    const attentions = forward.attentions!;
    for (let l = 0; l < L; l++) {
      const a = got[`attention_${l}`]!;
      assert.deepEqual(a.dims, [B, model.config.numAttentionHeads, T, T]);
      assertClose(a.data as Float32Array, await attentions[l]!.data(), { atol: 1e-4, rtol: 1e-4, what: `attention_${l} B=${B} T=${T}` });
    }
  }
}

describe('BERT export runs in onnxruntime-node', () => {
  test('BertForSequenceClassification: logits and attentions at two batch sizes and lengths', async () => {
    const model = new BertForSequenceClassification(config({ num_labels: 3, id2label: { 0: 'neg', 1: 'mid', 2: 'pos' } }), { generator: new Generator(1) }).eval();
    const out = await saved('cls', model);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'zhuyi-onnx');
    assert.equal(manifest.kind, 'bert');
    assert.equal(manifest.architecture, 'BertForSequenceClassification');
    assert.deepEqual(manifest.graphs.model.inputs.map((i: { name: string; axes: string[] }) => [i.name, i.axes]), [
      ['input_ids', ['batch_size', 'sequence_length']], ['attention_mask', ['batch_size', 'sequence_length']], ['token_type_ids', ['batch_size', 'sequence_length']],
    ]);
    assert.deepEqual(manifest.graphs.model.outputs.map((o: { name: string }) => o.name), ['logits', 'attention_0', 'attention_1']);
    assert.deepEqual(manifest.config.id2label, { 0: 'neg', 1: 'mid', 2: 'pos' });
    assert.deepEqual(manifest.tokenizer.files.sort(), ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    // zhuyi's layout (model.onnx, tokenizer/) and the Hugging Face one transformers.js reads (config.json, the tokenizer files, onnx/model.onnx).
    const tokenizerFiles: string[] = manifest.tokenizer.files;
    assert.deepEqual(manifest.files, ['config.json', 'model.onnx', 'onnx/model.onnx', ...tokenizerFiles, ...tokenizerFiles.map((f) => `tokenizer/${f}`)].sort());
    await compare(out, model, (o) => ({ logits: o.logits! }));
  });

  test('BertForMaskedLM (tied decoder) and BertForTokenClassification', async () => {
    const mlm = new BertForMaskedLM(config({ hidden_act: 'gelu_new' }), { generator: new Generator(2) }).eval();
    await compare(await saved('mlm', mlm), mlm, (o) => ({ logits: o.logits! }));
    const ner = new BertForTokenClassification(config({ num_labels: 5, id2label: { 0: 'O', 1: 'B-PER', 2: 'I-PER', 3: 'B-LOC', 4: 'I-LOC' } }), { generator: new Generator(3) }).eval();
    await compare(await saved('ner', ner), ner, (o) => ({ logits: o.logits! }));
  });

  test('BertModel (pooler) and BertForQuestionAnswering', async () => {
    const base = new BertModel(config({ hidden_act: 'relu' }), { generator: new Generator(4) }).eval();
    await compare(await saved('base', base), base, (o) => ({ last_hidden_state: o.lastHiddenState!, pooler_output: o.poolerOutput! }));
    const qa = new BertForQuestionAnswering(config(), { generator: new Generator(5) }).eval();
    await compare(await saved('qa', qa), qa, (o) => ({ start_logits: o.startLogits!, end_logits: o.endLogits! }));
  });

  test('BertForMultipleChoice: (batch_size, num_choices, sequence_length) inputs, logits at two shapes from one file', async () => {
    const model = new BertForMultipleChoice(config(), { generator: new Generator(10) }).eval();
    const out = await saved('mc', model);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.graphs.model.inputs[0].axes, ['batch_size', 'num_choices', 'sequence_length']);
    assert.deepEqual(manifest.graphs.model.outputs[0], { name: 'logits', dtype: 'float32', axes: ['batch_size', 'num_choices'], doc: 'a score per choice' });
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
    for (const [B, N, T] of [[2, 3, 7], [1, 4, 12]] as const) {
      const { ids, mask, types } = batch(B * N, T, 20 + B);
      const i64of = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [B, N, T]);
      const got = await session.run({ input_ids: i64of(ids), attention_mask: i64of(mask), token_type_ids: i64of(types) });
      const i32of = (rows: number[][]): Tensor => z.tensor(rows.flat(), { dtype: 'int32' }).reshape([B, N, T]);
      const want = model.forward(i32of(ids), { attentionMask: i32of(mask), tokenTypeIds: i32of(types), outputAttentions: true });
      assert.deepEqual(got.logits!.dims, [B, N]);
      assertClose(got.logits!.data as Float32Array, await want.logits.data(), { atol: 1e-4, rtol: 1e-4, what: `multiple-choice logits B=${B} N=${N} T=${T}` });
      assertClose(got.attention_1!.data as Float32Array, await want.attentions![1]!.data(), { atol: 1e-4, rtol: 1e-4, what: `multiple-choice attention_1 B=${B} N=${N} T=${T}` });
    }
  });

  test('the real tiny checkpoints in ../shared/data', async (t) => {
    const root = sharedDataOrSkip('tiny-bert-checkpoints');
    if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent (the shared data folder is not on this machine)'); return; }
    for (const name of readdirSync(root).filter((n) => existsSync(join(root, n, 'config.json')))) {
      const folder = join(root, name);
      const out = join(dir, `real-${name}`);
      const manifest = await exportOnnx(folder, out, { log: () => {} });
      const cfg = new BertConfig(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')));
      const Cls = manifest.kind === 'bert' && manifest.architecture === 'BertForTokenClassification' ? BertForTokenClassification : BertModel;
      const model = await (Cls as typeof BertModel).fromPretrained(folder, { warn: () => {} });
      const T = Math.min(12, cfg.maxPositionEmbeddings);
      await compare(out, model, (o): Record<string, Tensor> => (o.logits ? { logits: o.logits } : { last_hidden_state: o.lastHiddenState!, ...(o.poolerOutput ? { pooler_output: o.poolerOutput } : {}) }),
        [[2, T - 3], [3, T]], 7);
    }
  });
});

describe('the runner on onnxruntime-node gives zhuyi\'s pipeline results', () => {
  const runtime = (out: string) => ({
    Tensor: ort.Tensor,
    createSession: (bytes: Uint8Array) => ort.InferenceSession.create(bytes),
    loadFile: async (name: string) => new Uint8Array(readFileSync(join(out, name))),
  });
  const tok = new BertTokenizer(VOCAB);

  test('fillMask, attentions', async () => {
    const model = new BertForMaskedLM(config(), { generator: new Generator(6) }).eval();
    const out = await saved('run-mlm', model);
    const exported = await loadExport(runtime(out));
    assert.ok(exported instanceof ExportedBert);
    for (const [text, options] of [['the cat [MASK] on the mat .', { topK: 4 }], ['[MASK] dogs run , [MASK] !', { topK: 4 }], ['the [MASK] sat', { topK: 2, targets: ['cat', 'dog', 'mat'] }]] as const) {
      const want = await fillMask(model, tok, text, options);
      const got = await exported.fillMask(text, options);
      if ('targets' in options) assert.ok(got[0]!.length === 2 && got[0]!.every((p) => options.targets.includes(p.token as never)), 'only the targets are ranked');
      assert.deepEqual(got.map((l) => l.map((p) => [p.tokenId, p.token, p.sequence])), want.map((l) => l.map((p) => [p.tokenId, p.token, p.sequence])));
      assertClose(got.flat().map((p) => p.score), want.flat().map((p) => p.score), { atol: 1e-5, rtol: 1e-4, what: 'fill-mask scores' });
    }
    // One forward serves fillMask and attentions of the same text.
    let runs = 0;
    const counted = await loadExport({
      ...runtime(out),
      createSession: async (bytes: Uint8Array) => {
        const session = await ort.InferenceSession.create(bytes);
        const run = session.run.bind(session);
        Object.assign(session, { run: (...args: Parameters<typeof run>) => { runs++; return run(...args); } });
        return session;
      },
    }) as ExportedBert;
    await counted.fillMask('the [MASK] sat');
    await counted.attentions('the [MASK] sat');
    assert.equal(runs, 1);
    await counted.attentions('the dog sat');
    assert.equal(runs, 2);

    const { tokens, attention } = await exported.attentions('hello world , the cat sat');
    assert.deepEqual(tokens, ['[CLS]', 'hello', 'world', ',', 'the', 'cat', 'sat', '[SEP]']);
    assert.deepEqual([attention.length, attention[0]!.length, attention[0]![0]!.length, attention[0]![0]![0]!.length], [2, 4, 8, 8]);
    const enc = tok.encode('hello world , the cat sat');
    const zo = model.forward(i32([enc.inputIds]), { tokenTypeIds: i32([enc.tokenTypeIds]), outputAttentions: true });
    for (let l = 0; l < 2; l++) assertClose(attention[l]!.flat(2), await zo.attentions![l]!.data(), { atol: 1e-5, rtol: 1e-4, what: `runner attention ${l}` });
  });

  test('classify and tokenClassify; errors name the pipeline and the architecture', async () => {
    const cls = new BertForSequenceClassification(config({ num_labels: 3, id2label: { 0: 'neg', 1: 'mid', 2: 'pos' } }), { generator: new Generator(7) }).eval();
    const exportedCls = await loadExport(runtime(await saved('run-cls', cls))) as ExportedBert;
    for (const text of ['a dog sat on the mat', 'hello !']) {
      const want = await classify(cls, tok, text, { topK: null });
      const got = await exportedCls.classify(text, { topK: null });
      assert.deepEqual(got.map((s) => s.label), want.map((s) => s.label));
      assertClose(got.map((s) => s.score), want.map((s) => s.score), { atol: 1e-5, what: 'classify scores' });
    }
    assert.deepEqual(exportedCls.labels, ['neg', 'mid', 'pos']);
    await assert.rejects(exportedCls.fillMask('the [MASK]'), /fillMask: needs a BertForMaskedLM or BertForPreTraining export, this one is BertForSequenceClassification/);

    const ner = new BertForTokenClassification(config({ num_labels: 5, id2label: { 0: 'O', 1: 'B-PER', 2: 'I-PER', 3: 'B-LOC', 4: 'I-LOC' } }), { generator: new Generator(8) }).eval();
    const exportedNer = await loadExport(runtime(await saved('run-ner', ner))) as ExportedBert;
    const text = 'john smith lives in paris , hello world';
    for (const aggregation of ['none', 'simple', 'first'] as const) {
      const want = await tokenClassify(ner, tok, text, { aggregation, ignoreLabels: [] });
      const got = await exportedNer.tokenClassify(text, { aggregation, ignoreLabels: [] });
      const strip = (es: object[]) => es.map((e) => ({ ...e, score: 0 }));
      assert.deepEqual(strip(got), strip(want), aggregation);
      assertClose(got.map((e) => e.score), want.map((e) => e.score), { atol: 1e-5, what: `tokenClassify ${aggregation} scores` });
    }
    // Longer than the 40 positions: windows overlapping by 4 tokens, run as one batch, merged as the pipeline merges them.
    const long = Array.from({ length: 6 }, () => text).join(' . ');
    const want = await tokenClassify(ner, tok, long, { aggregation: 'simple', ignoreLabels: [], stride: 4 });
    const got = await exportedNer.tokenClassify(long, { aggregation: 'simple', ignoreLabels: [], stride: 4 });
    assert.ok(want.length > 0 && want[want.length - 1]!.end > 200, 'the entities reach past the first window');
    assert.deepEqual(got.map((e) => [e.word, e.start, e.end]), want.map((e) => [e.word, e.start, e.end]));
    assertClose(got.map((e) => e.score), want.map((e) => e.score), { atol: 1e-5, what: 'tokenClassify with stride' });
  });
});

describe('the runner answers questions as zhuyi\'s answer pipeline', () => {
  test('answer: best span and topK over overlapping windows', async () => {
    const qa = new BertForQuestionAnswering(config(), { generator: new Generator(11) }).eval();
    const out = await saved('run-qa', qa);
    const exported = await loadExport({
      Tensor: ort.Tensor, createSession: (bytes: Uint8Array) => ort.InferenceSession.create(bytes),
      loadFile: async (name: string) => new Uint8Array(readFileSync(join(out, name))),
    }) as ExportedBert;
    const tok = new BertTokenizer(VOCAB);
    const question = 'who lives in paris ?';
    const context = 'john smith lives in paris , the cat sat on the mat . hello world ! a dog runs on the mat , the dogs sat .';
    for (const options of [{}, { topK: 3 }, { topK: 2, maxSeqLength: 16, docStride: 3 }, { handleImpossibleAnswer: true, topK: 2 }]) {
      const want = [await answer(qa, tok, question, context, options as { topK: number })].flat();
      const got = [await exported.answer(question, context, options)].flat();
      assert.deepEqual(got.map((a) => [a.answer, a.start, a.end]), want.map((a) => [a.answer, a.start, a.end]), JSON.stringify(options));
      assertClose(got.map((a) => a.score), want.map((a) => a.score), { atol: 1e-5, rtol: 1e-4, what: `answer scores ${JSON.stringify(options)}` });
    }
    assert.ok(!Array.isArray(await exported.answer(question, context)));
    await assert.rejects(exported.classify('a'), /classify: needs a BertForSequenceClassification export, this one is BertForQuestionAnswering/);
  });
});

describe('export errors', () => {
  test('not a model folder, a non-empty OUT, an architecture it cannot export, a bad opset', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    await assert.rejects(exportOnnx(empty, join(dir, 'x')), /is not a model folder \(expected zhuyi-translate.json .*config.json\)/);
    await assert.rejects(exportOnnx(join(dir, 'nope'), join(dir, 'x')), /nope is not a folder/);
    const model = new BertForSequenceClassification(config(), { generator: new Generator(9) });
    const folder = join(dir, 'err-cls');
    await model.savePretrained(folder);
    const out = join(dir, 'err-out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'keep.txt'), 'x');
    await assert.rejects(exportOnnx(folder, out), /err-out exists and is not empty \(pass --force to write into it\)/);
    const m = await exportOnnx(folder, out, { force: true, log: () => {} });
    assert.ok(m.files.includes('model.onnx') && m.files.includes('keep.txt'));
    await assert.rejects(exportOnnx(folder, join(dir, 'o2'), { opset: 12 }), /opset must be an integer from 18 to 21, got 12/);
    const odd = join(dir, 'err-odd');
    await model.savePretrained(odd);
    const cfg = JSON.parse(readFileSync(join(odd, 'config.json'), 'utf8'));
    writeFileSync(join(odd, 'config.json'), JSON.stringify({ ...cfg, architectures: ['BertLMHeadModel'] }));
    await assert.rejects(exportOnnx(odd, join(dir, 'o3')), /architecture 'BertLMHeadModel' cannot be exported \(supported: BertModel, /);
  });
});
