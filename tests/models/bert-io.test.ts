/**
 * BERT's public surface that does not depend on the backend: the parameter-name table, config
 * keys and errors, HF's loading rules (prefix, ignored and reported keys, shape errors), exact
 * save -> load round trips, initialisation, attention-mask edge cases, gradients through the tied
 * decoder. Runs on the js backend.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as z from '../../src/index.js';
import {
  BertCheckpointError, BertConfig, BertConfigError, BertForMaskedLM, BertForMultipleChoice, BertForNextSentencePrediction,
  BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, BertModel,
  type BertPreTrainedModel, type BertFromPretrainedOptions, type BertConfigJSON, type LoadingInfo, Generator, readBertFolder, type Tensor, loadSafetensors, saveSafetensors,
} from '../../src/index.js';
import { GOLDEN, sharedDataOrSkip } from '../helpers.js';

const TINY = join(GOLDEN, 'bert');
const SMALL = { vocab_size: 30, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 10 };
const ints = (a: number[][]): Tensor => z.tensor(a, { dtype: 'int32' });

let prevBackend = '';
let tmp = '';
before(() => {
  prevBackend = z.getBackend();
  z.setBackend('js');
  tmp = mkdtempSync(join(tmpdir(), 'zhuyi-bert-'));
});
after(() => {
  z.setBackend(prevBackend);
  rmSync(tmp, { recursive: true, force: true });
});

async function load<T extends BertPreTrainedModel>(fromPretrained: (dir: string, o: BertFromPretrainedOptions) => Promise<T>, dir: string): Promise<{ model: T; info: LoadingInfo; warnings: string[] }> {
  const warnings: string[] = [];
  let info: LoadingInfo = { missingKeys: [], unexpectedKeys: [] };
  const model = await fromPretrained(dir, { warn: (m: string) => warnings.push(m), onLoadingInfo: (i: LoadingInfo) => { info = i; } });
  return { model, info, warnings };
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

async function assertSameWeights(a: BertPreTrainedModel, b: BertPreTrainedModel): Promise<void> {
  const sa = a.stateDict();
  const sb = b.stateDict();
  assert.deepEqual(Object.keys(sb), Object.keys(sa));
  for (const k of Object.keys(sa)) assert.ok(bytesOf(await sa[k]!.data()).equals(bytesOf(await sb[k]!.data())), `${k} differs after the round trip`);
}

describe('parameter names (public API)', () => {
  test('BertForPreTraining with one layer has exactly HF\'s state-dict keys, in HF\'s order', () => {
    const m = new BertForPreTraining(new BertConfig(SMALL));
    const L = 'bert.encoder.layer.0.';
    assert.deepEqual(Object.keys(m.stateDict()), [
      'bert.embeddings.word_embeddings.weight', 'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.bias',
      `${L}attention.self.query.weight`, `${L}attention.self.query.bias`, `${L}attention.self.key.weight`, `${L}attention.self.key.bias`,
      `${L}attention.self.value.weight`, `${L}attention.self.value.bias`,
      `${L}attention.output.dense.weight`, `${L}attention.output.dense.bias`, `${L}attention.output.LayerNorm.weight`, `${L}attention.output.LayerNorm.bias`,
      `${L}intermediate.dense.weight`, `${L}intermediate.dense.bias`,
      `${L}output.dense.weight`, `${L}output.dense.bias`, `${L}output.LayerNorm.weight`, `${L}output.LayerNorm.bias`,
      'bert.pooler.dense.weight', 'bert.pooler.dense.bias',
      'cls.predictions.bias', 'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias',
      'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias',
      'cls.seq_relationship.weight', 'cls.seq_relationship.bias',
    ]);
    // embeddings.position_ids is a non-persistent buffer: not in the state dict, like HF >= 4.31.
    assert.ok(m.namedBuffers().some(([k]) => k === 'bert.embeddings.position_ids'));
  });

  test('head keys of the other classes', () => {
    const c = new BertConfig(SMALL);
    const keys = (m: BertPreTrainedModel): string[] => Object.keys(m.stateDict()).filter((k) => !k.startsWith('bert.'));
    assert.deepEqual(keys(new BertForMaskedLM(c)), ['cls.predictions.bias', 'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']);
    assert.deepEqual(keys(new BertForNextSentencePrediction(c)), ['cls.seq_relationship.weight', 'cls.seq_relationship.bias']);
    assert.deepEqual(keys(new BertForSequenceClassification(c)), ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(keys(new BertForTokenClassification(c)), ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(keys(new BertForQuestionAnswering(c)), ['qa_outputs.weight', 'qa_outputs.bias']);
    const mc = new BertForMultipleChoice(c);
    assert.deepEqual(keys(mc).map((k) => [k, [...mc.stateDict()[k]!.shape]]), [['classifier.weight', [1, 8]], ['classifier.bias', [1]]]);
    // Which classes carry a pooler (HF's add_pooling_layer).
    assert.ok(!Object.keys(new BertForMaskedLM(c).stateDict()).some((k) => k.includes('pooler')));
    assert.ok(!Object.keys(new BertForTokenClassification(c).stateDict()).some((k) => k.includes('pooler')));
    assert.ok(!Object.keys(new BertForQuestionAnswering(c).stateDict()).some((k) => k.includes('pooler')));
    assert.ok(Object.keys(new BertForSequenceClassification(c).stateDict()).includes('bert.pooler.dense.weight'));
    assert.equal(new BertModel(c, { addPoolingLayer: false }).pooler, null);
  });
});

describe('BertConfig', () => {
  test('HF defaults, typed accessors, labels', () => {
    const c = new BertConfig();
    assert.equal(c.vocabSize, 30522);
    assert.equal(c.hiddenSize, 768);
    assert.equal(c.numHiddenLayers, 12);
    assert.equal(c.attentionHeadSize, 64);
    assert.equal(c.hiddenAct, 'gelu');
    assert.equal(c.layerNormEps, 1e-12);
    assert.equal(c.padTokenId, 0);
    assert.equal(c.numLabels, 2);
    assert.deepEqual(c.id2label, { 0: 'LABEL_0', 1: 'LABEL_1' });
    assert.equal(new BertConfig({ num_labels: 5 }).numLabels, 5);
    assert.equal(new BertConfig({ _num_labels: 9 }).numLabels, 9);
    const tok = new BertConfig(JSON.parse(readFileSync(join(TINY, 'tiny-seqcls', 'config.json'), 'utf8')) as BertConfigJSON);
    assert.equal(tok.label2id.pos, 2);
  });

  test('toJSON writes HF keys, architectures, model_type, string label keys, and keeps unknown keys', () => {
    const json = new BertConfig({ ...SMALL, output_past: true, id2label: { 0: 'a', 1: 'b', 2: 'c' } }).toJSON(['BertForTokenClassification']);
    assert.deepEqual(json.architectures, ['BertForTokenClassification']);
    assert.equal(json.model_type, 'bert');
    assert.equal(json.output_past, true);
    assert.deepEqual(json.id2label, { 0: 'a', 1: 'b', 2: 'c' });
    assert.deepEqual(Object.keys(json.id2label!), ['0', '1', '2']);
    for (const k of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'hidden_dropout_prob',
      'attention_probs_dropout_prob', 'max_position_embeddings', 'type_vocab_size', 'initializer_range', 'layer_norm_eps', 'pad_token_id', 'position_embedding_type']) {
      assert.ok(k in json, `config.json lacks ${k}`);
    }
    assert.deepEqual(new BertConfig(json).toJSON(), json, 'toJSON is a fixed point');
  });

  test('clear errors for what zhuyi does not implement or cannot be', () => {
    assert.throws(() => new BertConfig({ position_embedding_type: 'relative_key' }), (e: Error) => e instanceof BertConfigError && /relative_key.*only 'absolute'/.test(e.message));
    assert.throws(() => new BertConfig({ hidden_size: 30, num_attention_heads: 4 }), /hidden_size \(30\) is not a multiple of num_attention_heads \(4\)/);
    assert.throws(() => new BertConfig({ hidden_act: 'gelu_10' }), /hidden_act 'gelu_10' is not supported/);
    assert.throws(() => new BertConfig({ model_type: 'roberta' }), /model_type is 'roberta'/);
    assert.throws(() => new BertConfig({ problem_type: 'ranking' as never }), /problem_type 'ranking'/);
  });
});

describe('fromPretrained: HF loading rules', () => {
  test('headed checkpoint -> BertModel: bert. prefix stripped, head keys reported as unexpected', async () => {
    const { model, info, warnings } = await load((d, o) => BertModel.fromPretrained(d, o), join(TINY, 'tiny-pretraining'));
    assert.ok(model.pooler);
    assert.deepEqual(info.missingKeys, []);
    assert.deepEqual(info.unexpectedKeys.sort(), ['cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight', 'cls.seq_relationship.bias', 'cls.seq_relationship.weight']);
    assert.match(warnings[0]!, /^Some weights of the model checkpoint at .* were not used when initializing BertModel: \[cls\./);
    assert.equal(model.training, false, 'fromPretrained returns the model in eval mode, as HF');
  });

  test('BertForMaskedLM ignores the pooler (HF) but reports the NSP head; tied decoder keys are not missing', async () => {
    const { info } = await load((d, o) => BertForMaskedLM.fromPretrained(d, o), join(TINY, 'tiny-pretraining'));
    assert.deepEqual(info.missingKeys, []);
    assert.deepEqual(info.unexpectedKeys.sort(), ['cls.seq_relationship.bias', 'cls.seq_relationship.weight']);
  });

  test('a new head on a pretrained body: head keys missing and freshly initialised, with HF\'s advice', async () => {
    const { model, info, warnings } = await load((d, o) => BertForSequenceClassification.fromPretrained(d, o), join(TINY, 'tiny-pretraining'));
    assert.deepEqual(info.missingKeys, ['classifier.weight', 'classifier.bias']);
    assert.match(warnings.join('\n'), /Some weights of BertForSequenceClassification were not initialized from the model checkpoint at .* newly initialized: \[classifier.weight, classifier.bias\]\nYou should probably TRAIN/);
    const w = await model.classifier.weight.data();
    assert.ok(w.some((v) => v !== 0), 'classifier weight initialised');
  });

  test('base checkpoint without prefix -> headed class (the real safetensors BertModel)', async (t) => {
    const root = sharedDataOrSkip('tiny-bert-checkpoints');
    if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent'); return; }
    const dir = join(root, 'safetensors-bertmodel-h32-l2');
    const { model, info } = await load((d, o) => BertForTokenClassification.fromPretrained(d, o), dir);
    assert.deepEqual(info.missingKeys, ['classifier.weight', 'classifier.bias']);
    assert.deepEqual(info.unexpectedKeys, []);
    const base = (await load((d, o) => BertModel.fromPretrained(d, o), dir)).model;
    const ids = ints([[2, 9, 17, 3]]);
    const a = await model.forward(ids, { outputHiddenStates: true }).hiddenStates!.at(-1)!.data();
    assert.deepEqual([...a], [...await base.forward(ids).lastHiddenState.data()]);
    // HF's default for BertModel is a (random) pooler; zhuyi builds one only when asked or present.
    const withPooler = await load((d, o) => BertModel.fromPretrained(d, { ...o, addPoolingLayer: true }), dir);
    assert.deepEqual(withPooler.info.missingKeys, ['pooler.dense.weight', 'pooler.dense.bias']);
  });

  test('shape mismatches are errors naming the file, the key and both shapes', async () => {
    const dir = join(tmp, 'mismatch');
    rmSync(dir, { recursive: true, force: true });
    const src = join(TINY, 'tiny-seqcls');
    const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 41, intermediate_size: 33 }));
    copyFileSync(join(src, 'model.safetensors'), join(dir, 'model.safetensors'));
    await assert.rejects(BertForSequenceClassification.fromPretrained(dir, { warn: () => {} }), (e: Error) => e instanceof BertCheckpointError &&
      e.message.includes(join(dir, 'model.safetensors')) && e.message.includes('bert.embeddings.word_embeddings.weight: checkpoint [40,16] vs model') &&
      e.message.includes('[41,16]') && e.message.includes('intermediate.dense.weight'));
  });

  test('position_ids in the file is ignored; TF-era LayerNorm gamma/beta names load as weight/bias', async () => {
    const src = join(TINY, 'tiny-qa-mc');
    const dir = join(tmp, 'legacy-names');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
    const renamed = new Map<string, Tensor>();
    for (const [k, v] of loadSafetensors(join(src, 'model.safetensors')).tensors) renamed.set(k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), v);
    renamed.set('bert.embeddings.position_ids', z.tensor([[0, 1, 2, 3]], { dtype: 'int32' }));
    await saveSafetensors(join(dir, 'model.safetensors'), renamed);
    const { model, info } = await load((d, o) => BertForQuestionAnswering.fromPretrained(d, o), dir);
    assert.deepEqual(info.missingKeys, []);
    assert.deepEqual(info.unexpectedKeys.sort(), ['classifier.bias', 'classifier.weight']);
    const reference = (await load((d, o) => BertForQuestionAnswering.fromPretrained(d, o), src)).model;
    await assertSameWeights(model, reference);
  });

  test('folders without config.json or weights give clear errors', async () => {
    const empty = join(tmp, 'empty');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(empty, { recursive: true });
    await assert.rejects(BertModel.fromPretrained(empty), /no config\.json/);
    writeFileSync(join(empty, 'config.json'), '{"hidden_size": 8, "num_attention_heads": 2}');
    await assert.rejects(BertModel.fromPretrained(empty), /no model\.safetensors|no weights/);
    writeFileSync(join(empty, 'config.json'), '{oops');
    await assert.rejects(BertModel.fromPretrained(empty), /config\.json: not valid JSON/);
  });
});

describe('savePretrained -> fromPretrained', () => {
  const classes = [BertModel, BertForPreTraining, BertForMaskedLM, BertForNextSentencePrediction, BertForSequenceClassification,
    BertForTokenClassification, BertForQuestionAnswering, BertForMultipleChoice] as const;
  for (const cls of classes) {
    test(`${cls.name}: bitwise-equal weights, same config, same outputs`, async () => {
      const config = new BertConfig({ ...SMALL, hidden_act: 'gelu_new', id2label: { 0: 'x', 1: 'y' }, output_past: true });
      const model = new (cls as unknown as new (c: BertConfig, o: object) => BertPreTrainedModel)(config, { generator: new Generator(7) });
      const dir = join(tmp, `rt-${cls.name}`);
      await model.savePretrained(dir);
      const { model: back, info } = await load((d, o) => (cls as unknown as { fromPretrained(d: string, o: BertFromPretrainedOptions): Promise<BertPreTrainedModel> }).fromPretrained(d, o), dir);
      assert.deepEqual(info, { missingKeys: [], unexpectedKeys: [] });
      assert.equal(back.constructor, cls);
      await assertSameWeights(model, back);
      assert.deepEqual(back.config.toJSON(), { ...model.config.toJSON(), architectures: [cls.name] });
      const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(saved.architectures, [cls.name]);
      assert.equal(saved.model_type, 'bert');
      const file = loadSafetensors(join(dir, 'model.safetensors'));
      assert.deepEqual(file.metadata, { format: 'pt' }, 'transformers checks the format metadata');
      const keys = [...file.tensors.keys()];
      assert.ok(keys.every((k) => (cls === BertModel ? !k.startsWith('bert.') : k.startsWith('bert.') || /^(cls|classifier|qa_outputs)\./.test(k))), keys.join(', '));
      assert.ok(!keys.some((k) => k.startsWith('cls.predictions.decoder.')), 'tied decoder aliases are not written');
    });
  }

  for (const [name, cls] of [['safetensors-bertmodel-h32-l2', BertModel], ['torchzip-bert-tokencls-h16-l1', BertForTokenClassification], ['torchlegacy-bert-xsmall-dummy', BertModel]] as const) {
    test(`real checkpoint ${name}: load -> save -> load is exact, and the saved keys are the original ones`, async (t) => {
      const root = sharedDataOrSkip('tiny-bert-checkpoints');
      if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent'); return; }
      const src = join(root, name);
      const first = (await load((d, o) => (cls as typeof BertModel).fromPretrained(d, o), src)).model;
      const dir = join(tmp, `real-${name}`);
      await first.savePretrained(dir);
      const back = (await load((d, o) => (cls as typeof BertModel).fromPretrained(d, o), dir)).model;
      assert.equal(back.constructor, cls);
      await assertSameWeights(first, back);
      const savedKeys = [...loadSafetensors(join(dir, 'model.safetensors')).tensors.keys()].sort();
      const original = [...readBertFolder(src).stateDict.keys()].filter((k) => !k.endsWith('position_ids')).sort();
      assert.deepEqual(savedKeys, original);
      const ids = ints([[2, 17, 33, 3, 0]]);
      const attentionMask = ints([[1, 1, 1, 1, 0]]);
      const outputOf = async (m: BertPreTrainedModel): Promise<number[]> => {
        const out = m instanceof BertModel ? m.forward(ids, { attentionMask }).lastHiddenState : (m as BertForTokenClassification).forward(ids, { attentionMask }).logits;
        return [...await out.data()];
      };
      assert.deepEqual(await outputOf(back), await outputOf(first));
    });
  }

  test('a loaded checkpoint saves to the same tensors under the same keys (HF layout in, HF layout out)', async () => {
    const src = join(TINY, 'tiny-pretraining');
    const model = (await load((d, o) => BertForPreTraining.fromPretrained(d, o), src)).model;
    const dir = join(tmp, 'resave');
    await model.savePretrained(dir);
    const a = loadSafetensors(join(src, 'model.safetensors')).tensors;
    const b = loadSafetensors(join(dir, 'model.safetensors')).tensors;
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [k, t] of a) assert.ok(bytesOf(await t.data()).equals(bytesOf(await b.get(k)!.data())), k);
    // The round trip keeps the decoder tied.
    const back = (await load((d, o) => BertForPreTraining.fromPretrained(d, o), dir)).model;
    assert.equal(back.cls.predictions.decoder.weight, back.bert.embeddings.word_embeddings.weight);
  });
});

describe('initialisation and forward semantics', () => {
  test('HF _init_weights: N(0, initializer_range), zero biases, LayerNorm 1/0, zero padding row; seeded', async () => {
    const config = new BertConfig({ ...SMALL, vocab_size: 500, hidden_size: 32, intermediate_size: 64, initializer_range: 0.05 });
    const m = new BertForMaskedLM(config, { generator: new Generator(3) });
    const emb = await m.bert.embeddings.word_embeddings.weight.data();
    assert.ok(emb.slice(0, 32).every((v) => v === 0), 'padding row (pad_token_id 0) is zero');
    let s = 0;
    let s2 = 0;
    for (let i = 32; i < emb.length; i++) { s += emb[i]!; s2 += emb[i]! ** 2; }
    const n = emb.length - 32;
    assert.ok(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 0.05) < 0.003, 'std = initializer_range');
    const layer = m.bert.encoder.layer.get(0);
    assert.ok((await layer.attention.self.query.bias!.data()).every((v) => v === 0));
    assert.ok((await layer.output.LayerNorm.weight!.data()).every((v) => v === 1));
    assert.ok((await m.cls.predictions.bias.data()).every((v) => v === 0));
    assert.equal(m.cls.predictions.decoder.weight, m.bert.embeddings.word_embeddings.weight);
    await assertSameWeights(m, new BertForMaskedLM(config, { generator: new Generator(3) }));
  });

  test('attention masks: bool = int, fully padded rows stay finite (uniform, as HF), (B, T, T) masks, bad shapes', async () => {
    const m = new BertModel(new BertConfig(SMALL), { generator: new Generator(1) }).eval();
    const ids = ints([[2, 5, 6, 0], [2, 7, 0, 0]]);
    const mask = [[1, 1, 1, 0], [1, 1, 0, 0]];
    const a = await m.forward(ids, { attentionMask: ints(mask) }).lastHiddenState.data();
    const b = await m.forward(ids, { attentionMask: z.tensor(mask.map((r) => r.map((v) => v === 1))) }).lastHiddenState.data();
    assert.deepEqual([...a], [...b]);
    const zero = m.forward(ids, { attentionMask: ints([[0, 0, 0, 0], [1, 1, 0, 0]]), outputAttentions: true });
    const probs = await zero.attentions![0]!.data();
    assert.ok(probs.slice(0, 2 * 16).every((v) => Math.abs(v - 0.25) < 1e-6), 'fully masked row attends uniformly');
    assert.ok((await zero.lastHiddenState.data()).every(Number.isFinite));
    const square = z.tensor([0, 1].map((bi) => [0, 1, 2, 3].map(() => mask[bi]!)), { dtype: 'int32' });
    assert.deepEqual([...await m.forward(ids, { attentionMask: square }).lastHiddenState.data()], [...a]);
    assert.throws(() => m.forward(ids, { attentionMask: ints([[1, 1, 1]]) }), /attentionMask \[1,3\] must be \(B, T\)/);
    assert.throws(() => m.forward(ints([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])), /sequence length 11 exceeds max_position_embeddings 10/);
    assert.throws(() => m.forward(ints([[1, 30]])), /input ids contain 30, outside \[0, 30\)/);
  });

  test('training: dropout is active, the MLM loss reaches the tied embedding through both of its uses', async () => {
    const m = new BertForMaskedLM(new BertConfig(SMALL), { generator: new Generator(2) });
    m.train();
    const ids = ints([[2, 5, 6, 3]]);
    const labels = ints([[-100, 9, -100, -100]]);
    const l1 = await m.forward(ids, { labels }).loss!.item();
    const l2 = await m.forward(ids, { labels }).loss!.item();
    assert.notEqual(l1, l2, 'dropout masks differ between steps');
    m.eval();
    const loss = m.forward(ids, { labels }).loss!;
    const emb = m.bert.embeddings.word_embeddings.weight;
    const [g] = z.grad(loss, [emb]);
    const gv = await g!.data();
    const C = SMALL.hidden_size;
    const row = (r: number): number[] => [...gv.slice(r * C, (r + 1) * C)];
    assert.ok(row(9).some((v) => v !== 0), 'decoder use: the target row gets gradient');
    assert.ok(row(29).some((v) => v !== 0), 'decoder use: every vocabulary row gets gradient from the softmax');
    assert.ok(gv.every(Number.isFinite));
  });
});
