/**
 * `zhuyi export` folders run in @huggingface/transformers (transformers.js) as they are, offline:
 * `pipeline(task, OUT, { local_files_only: true })` for BertModel (feature-extraction), masked LM
 * (fill-mask), sequence classification, token classification and QA, each built here as a tiny
 * random BERT. transformers.js's results are compared with zhuyi's pipelines: the runner on the same
 * export folder (fill-mask, classification, token classification), the library pipelines on the
 * folder it was exported from (QA and embeddings, which the runner does not offer).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  BertConfig, BertForMaskedLM, BertForMultipleChoice, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, BertModel, BertTokenizer,
  answer, embed, manualSeed, tensor, trainWordPiece, type BertConfigJSON,
} from '../../src/index.js';
import { exportOnnx } from '../../src/export/export.js';
import { ExportedBert, loadExport, type TokenEntity } from '../../src/export/runner.js';
import type { BertManifest } from '../../src/export/manifest.js';
import { sharedDataOrSkip } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-tjs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Transformers = typeof import('@huggingface/transformers');
let tjs: Transformers;

before(async () => {
  tjs = await import('@huggingface/transformers');
  // Offline and stateless: no Hub requests, no copies in transformers.js's file cache.
  tjs.env.allowRemoteModels = false;
  tjs.env.useFSCache = false;
  tjs.env.useBrowserCache = false;
  tjs.env.logLevel = tjs.LogLevel?.ERROR ?? tjs.env.logLevel;
});

const TEXTS = ['paris is the capital of france', 'berlin is the capital of germany', 'the cat sat on the mat', 'a dog ran in the park', 'john lives in london'];
const tokenizer = new BertTokenizer(trainWordPiece(TEXTS, { vocabSize: 90 }), { modelMaxLength: 64 });
// A wide init (0.3 instead of 0.02) so a random model's scores are far apart and rankings stable.
const base: BertConfigJSON = {
  vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64,
  max_position_embeddings: 64, initializer_range: 0.3, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
};

/** Saves a fresh model as a Hugging Face folder, exports it, returns the export folder. */
async function exported(name: string, model: { savePretrained(dir: string): Promise<void> }): Promise<string> {
  const folder = join(dir, name);
  await model.savePretrained(folder);
  tokenizer.savePretrained(folder);
  await exportOnnx(folder, join(dir, `${name}-onnx`));
  return join(dir, `${name}-onnx`);
}

async function runner(out: string): Promise<ExportedBert> {
  const m = await loadExport({ Tensor: ort.Tensor, createSession: (b) => ort.InferenceSession.create(b), loadFile: async (n) => new Uint8Array(await readFile(join(out, n))) });
  assert.ok(m instanceof ExportedBert);
  return m;
}

const close = (a: number, b: number, tol = 1e-4): boolean => Math.abs(a - b) <= tol;

describe('transformers.js runs zhuyi exports as they are', () => {
  test('the folder: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx without attentions, zhuyi\'s layout kept', async () => {
    manualSeed(1);
    const out = await exported('layout', new BertForMaskedLM(new BertConfig(base)));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'onnx/model.onnx', 'model.onnx', 'tokenizer/vocab.txt', 'manifest.json']) assert.ok(existsSync(join(out, f)), f);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BertManifest;
    assert.deepEqual(manifest.transformersJs, { task: 'fill-mask', model: 'onnx/model.onnx', attentions: false });
    assert.ok(manifest.files.includes('onnx/model.onnx') && manifest.files.includes('config.json'));
    const outputs = async (f: string): Promise<readonly string[]> => (await ort.InferenceSession.create(join(out, f))).outputNames;
    assert.deepEqual(await outputs('onnx/model.onnx'), ['logits']);
    assert.deepEqual(await outputs('model.onnx'), ['logits', 'attention_0', 'attention_1']);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([config.model_type, config.architectures], ['bert', ['BertForMaskedLM']]);
  });

  test('multiple choice (no pipeline in transformers.js): AutoModel on the folder gives zhuyi\'s logits (batch_size, num_choices)', async () => {
    manualSeed(9);
    const model = new BertForMultipleChoice(new BertConfig(base)).eval();
    const out = await exported('mc', model);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BertManifest;
    assert.deepEqual(manifest.transformersJs, { task: 'multiple-choice', model: 'onnx/model.onnx', attentions: false });
    const auto = await tjs.AutoModel.from_pretrained(out, { local_files_only: true });
    const prompt = 'where is paris ?';
    for (const choices of [['in france', 'in germany'], ['the cat', 'a dog', 'in london']]) {
      const rows = choices.map((c) => tokenizer.encode(prompt, c));
      const T = Math.max(...rows.map((r) => r.inputIds.length));
      const pad = (xs: number[]): number[] => [...xs, ...Array<number>(T - xs.length).fill(0)];
      const ids = rows.map((r) => pad(r.inputIds));
      const mask = rows.map((r) => pad(r.attentionMask));
      const types = rows.map((r) => pad(r.tokenTypeIds));
      const dims = [1, choices.length, T];
      const i64 = (x: number[][]) => new tjs.Tensor('int64', BigInt64Array.from(x.flat(), (v) => BigInt(v)), dims);
      const theirs = (await auto({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(types) })) as { logits: { data: Float32Array; dims: number[] } };
      const i32 = (x: number[][]) => tensor(x.flat(), { dtype: 'int32' }).reshape(dims);
      const ours = await model.forward(i32(ids), { attentionMask: i32(mask), tokenTypeIds: i32(types) }).logits.data();
      assert.deepEqual(theirs.logits.dims, [1, choices.length]);
      Array.from(ours).forEach((x, i) => assert.ok(close(theirs.logits.data[i]!, x), `choice ${i}: ${theirs.logits.data[i]} vs ${x}`));
    }
  });

  test('fill-mask: the same top 5 tokens and scores as zhuyi\'s runner', async () => {
    manualSeed(2);
    const out = await exported('mlm', new BertForMaskedLM(new BertConfig(base)));
    const text = 'paris is the [MASK] of france';
    const fill = await tjs.pipeline('fill-mask', out, { local_files_only: true });
    const theirs = (await fill(text, { top_k: 5 })) as Array<{ score: number; token: number; token_str: string; sequence: string }>;
    const ours = (await (await runner(out)).fillMask(text, { topK: 5 }))[0]!;
    console.log(`fill-mask "${text}"\n  transformers.js: ${theirs.map((p) => `${p.token_str} ${p.score.toFixed(4)}`).join(', ')}\n  zhuyi:           ${ours.map((p) => `${p.token} ${p.score.toFixed(4)}`).join(', ')}`);
    assert.deepEqual(theirs.map((p) => p.token), ours.map((p) => p.tokenId));
    theirs.forEach((p, i) => {
      assert.ok(close(p.score, ours[i]!.score), `${p.token_str}: ${p.score} vs ${ours[i]!.score}`);
      assert.equal(p.token_str, ours[i]!.token);
    });
    assert.ok(theirs[0]!.score > 1.5 / tokenizer.vocabSize, 'a peaked distribution (not uniform)');
  });

  test('text-classification: every label\'s softmax score as zhuyi\'s runner', async () => {
    manualSeed(3);
    const labels = { id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, label2id: { negative: 0, neutral: 1, positive: 2 }, num_labels: 3 };
    const out = await exported('cls', new BertForSequenceClassification(new BertConfig({ ...base, ...labels, problem_type: 'single_label_classification' })));
    const classify = await tjs.pipeline('text-classification', out, { local_files_only: true });
    for (const text of ['the cat sat on the mat', 'berlin is the capital of germany']) {
      const theirs = (await classify(text, { top_k: null })) as Array<{ label: string; score: number }>;
      const ours = await (await runner(out)).classify(text, { topK: null });
      assert.deepEqual(theirs.map((s) => s.label), ours.map((s) => s.label), text);
      theirs.forEach((s, i) => assert.ok(close(s.score, ours[i]!.score), `${s.label}: ${s.score} vs ${ours[i]!.score}`));
    }
  });

  test('token-classification: the same entities, words and scores as zhuyi\'s runner', async () => {
    manualSeed(4);
    const names = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
    const labels = { id2label: Object.fromEntries(names.map((n, i) => [i, n])), label2id: Object.fromEntries(names.map((n, i) => [n, i])), num_labels: names.length };
    const out = await exported('ner', new BertForTokenClassification(new BertConfig({ ...base, ...labels })));
    const ner = await tjs.pipeline('token-classification', out, { local_files_only: true });
    const text = 'john lives in london near paris';
    const theirs = (await ner(text)) as Array<{ entity: string; score: number; index: number; word: string }>;
    const ours = (await (await runner(out)).tokenClassify(text)) as TokenEntity[];
    assert.ok(ours.length > 0, 'a random head tags some tokens');
    assert.deepEqual(theirs.map((e) => [e.entity, e.index, e.word]), ours.map((e) => [e.entity, e.index, e.word]));
    theirs.forEach((e, i) => assert.ok(close(e.score, ours[i]!.score), `${e.word}: ${e.score} vs ${ours[i]!.score}`));
  });

  test('question-answering: the same answer and score as zhuyi\'s answer() on the exported folder\'s weights', async () => {
    manualSeed(5);
    const model = new BertForQuestionAnswering(new BertConfig(base));
    const out = await exported('qa', model);
    const qa = await tjs.pipeline('question-answering', out, { local_files_only: true });
    const question = 'where does john live';
    // Short enough that zhuyi's maxAnswerLength (transformers.js has none) cannot change the best span.
    const context = 'john lives in london near the park';
    const theirs = (await qa(question, context)) as { answer: string; score: number };
    // transformers.js decodes the span's tokens; HF Python (and zhuyi) widen it to whole words by
    // default, so compare with alignToWords off, and check the widened answer contains it.
    const ours = await answer(model, tokenizer, question, context, { maxAnswerLength: 64, alignToWords: false });
    assert.equal(theirs.answer, ours.answer);
    assert.ok(close(theirs.score, ours.score), `${theirs.score} vs ${ours.score}`);
    const aligned = await answer(model, tokenizer, question, context, { maxAnswerLength: 64 });
    assert.ok(aligned.answer.startsWith(theirs.answer) || aligned.answer.endsWith(theirs.answer), `${aligned.answer} / ${theirs.answer}`);
  });

  test('feature-extraction: mean-pooled, normalized embeddings and the raw states as zhuyi\'s embed() and runner', async () => {
    manualSeed(6);
    const model = new BertModel(new BertConfig(base));
    const out = await exported('base', model);
    const extract = await tjs.pipeline('feature-extraction', out, { local_files_only: true });
    const text = 'the cat sat on the mat';
    const pooled = await extract(text, { pooling: 'mean', normalize: true });
    const ours = (await embed(model, tokenizer, text, { pooling: 'mean', normalize: true }))[0]!;
    assert.deepEqual(pooled.dims, [1, 32]);
    Array.from(pooled.data as Float32Array).forEach((v, i) => assert.ok(close(v, ours[i]!), `[${i}] ${v} vs ${ours[i]}`));
    const states = await extract(text);
    const run = await (await runner(out)).run(text);
    const hidden = run.outputs.last_hidden_state!;
    assert.deepEqual(states.dims, hidden.dims);
    Array.from(states.data as Float32Array).forEach((v, i) => assert.ok(close(v, hidden.data[i]!), `[${i}]`));
  });

  test('--no-transformers-js writes zhuyi\'s layout only; --transformers-js-attentions keeps the attentions', async () => {
    manualSeed(7);
    const folder = join(dir, 'flags');
    await new BertForMaskedLM(new BertConfig(base)).savePretrained(folder);
    tokenizer.savePretrained(folder);
    const off = await exportOnnx(folder, join(dir, 'flags-off'), { transformersJs: false }) as BertManifest;
    assert.equal(off.transformersJs, undefined);
    assert.ok(!existsSync(join(dir, 'flags-off', 'onnx')) && !existsSync(join(dir, 'flags-off', 'config.json')));
    const on = await exportOnnx(folder, join(dir, 'flags-att'), { transformersJsAttentions: true }) as BertManifest;
    assert.equal(on.transformersJs?.attentions, true);
    assert.deepEqual((await ort.InferenceSession.create(join(dir, 'flags-att', 'onnx', 'model.onnx'))).outputNames, ['logits', 'attention_0', 'attention_1']);
  });

  test('--quantize: onnx/model_quantized.onnx with int8 weights, loaded with dtype q8, ranks as the float model', async () => {
    manualSeed(8);
    const folder = join(dir, 'q8');
    // initializer_range 0.1: peaked enough to rank, not so wide that int8 rounding is magnified by huge logits.
    await new BertForMaskedLM(new BertConfig({ ...base, hidden_size: 64, intermediate_size: 128, initializer_range: 0.1 })).savePretrained(folder);
    tokenizer.savePretrained(folder);
    const out = join(dir, 'q8-onnx');
    const m = await exportOnnx(folder, out, { quantize: true }) as BertManifest;
    assert.equal(m.transformersJs?.quantized, 'onnx/model_quantized.onnx');
    const size = (f: string): number => readFileSync(join(out, f)).length;
    assert.ok(size('onnx/model_quantized.onnx') < 0.4 * size('onnx/model.onnx'), `${size('onnx/model_quantized.onnx')} vs ${size('onnx/model.onnx')}`);
    const text = 'the cat sat on the [MASK]';
    const fp32 = (await (await tjs.pipeline('fill-mask', out, { local_files_only: true }))(text, { top_k: 3 })) as Array<{ token: number; score: number }>;
    const q8 = (await (await tjs.pipeline('fill-mask', out, { local_files_only: true, dtype: 'q8' }))(text, { top_k: 3 })) as Array<{ token: number; score: number }>;
    assert.equal(q8[0]!.token, fp32[0]!.token);
    q8.forEach((p, i) => assert.ok(Math.abs(p.score - fp32[i]!.score) < 0.05 * fp32[i]!.score, `${p.score} vs ${fp32[i]!.score}`));
    console.log(`q8 ${q8.map((p) => p.score.toFixed(4)).join(' ')} / fp32 ${fp32.map((p) => p.score.toFixed(4)).join(' ')}`);
    assert.ok(q8.some((p, i) => p.score !== fp32[i]!.score), 'the int8 graph is another graph');
  });

  test('real checkpoints from ../shared/data: a torch NER model with vocab.txt only (tokenizer.json built), a safetensors BertModel', async (t) => {
    const root = sharedDataOrSkip('tiny-bert-checkpoints');
    if (!root) return t.skip('../shared/data/tiny-bert-checkpoints is absent (the shared data folder is not on this machine)');
    const nerFolder = join(root, 'torchzip-bert-tokencls-h16-l1');
    const nerOut = join(dir, 'real-ner');
    await exportOnnx(nerFolder, nerOut, { log: () => {} });
    assert.ok(!existsSync(join(nerFolder, 'tokenizer.json')) && existsSync(join(nerOut, 'tokenizer.json')), 'tokenizer.json written from vocab.txt');
    const ner = await tjs.pipeline('token-classification', nerOut, { local_files_only: true });
    // Its vocabulary is single characters without ## pieces, so longer words are [UNK]: transformers.js
    // drops those, HF Python and zhuyi report them with the original text. Single letters avoid them.
    const text = 'j w a b x y z';
    const theirs = (await ner(text, { ignore_labels: [] })) as Array<{ entity: string; score: number; index: number; word: string }>;
    const ours = (await (await runner(nerOut)).tokenClassify(text, { ignoreLabels: [] })) as TokenEntity[];
    assert.ok(theirs.length >= 5);
    assert.deepEqual(theirs.map((e) => [e.entity, e.index, e.word]), ours.map((e) => [e.entity, e.index, e.word]));
    theirs.forEach((e, i) => assert.ok(close(e.score, ours[i]!.score), `${e.word}: ${e.score} vs ${ours[i]!.score}`));

    const baseFolder = join(root, 'safetensors-bertmodel-h32-l2');
    const baseOut = join(dir, 'real-base');
    await exportOnnx(baseFolder, baseOut, { log: () => {} });
    const extract = await tjs.pipeline('feature-extraction', baseOut, { local_files_only: true });
    const realTok = BertTokenizer.fromPretrained(baseFolder);
    const model = await BertModel.fromPretrained(baseFolder);
    const sentence = 'the quick brown fox';
    const pooled = await extract(sentence, { pooling: 'mean', normalize: true });
    const expected = (await embed(model, realTok, sentence, { pooling: 'mean', normalize: true }))[0]!;
    Array.from(pooled.data as Float32Array).forEach((v, i) => assert.ok(close(v, expected[i]!), `[${i}] ${v} vs ${expected[i]}`));
  });
});
