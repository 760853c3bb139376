/**
 * BERT against a pure-PyTorch reference of HF's modeling_bert.py (tests/golden/gen_bert.py):
 * the three real tiny checkpoints in ../shared/data (hidden states, pooler, token-classification
 * logits, attentions) and three random tiny checkpoints in tests/golden/bert covering every head and
 * loss. Run on every backend (js, ort). Loading rules, saving and config live in bert-io.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import {
  BertConfig, BertForMaskedLM, BertForMultipleChoice, BertForNextSentencePrediction, BertForPreTraining,
  BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, BertModel, type Tensor,
} from '../../src/index.js';
import { GOLDEN, assertClose, loadGolden, sharedDataOrSkip } from '../helpers.js';
import { backendsUnderTest } from '../ops/backends.js';

interface Rec { shape: number[]; data: number[] }
type Nested = number[][];
interface Expected {
  inputs: { inputIds: Nested; attentionMask: Nested; tokenTypeIds: Nested };
  real: Record<string, Record<string, unknown>>;
  tiny: Record<string, Record<string, unknown> & { inputs: { inputIds: Nested; attentionMask: Nested; tokenTypeIds: Nested } }>;
}
const EXPECTED = loadGolden<Expected>('bert_expected.json');
const TINY = join(GOLDEN, 'bert');
const CHECKPOINTS = 'tiny-bert-checkpoints';

/** The bar for agreement with PyTorch. Measured worst errors are printed per case. */
const TOL = 1e-4;

const ints = (a: unknown): Tensor => z.tensor(a as Nested, { dtype: 'int32' });
const quiet = { warn: () => {} };

/** Asserts closeness within TOL (absolute) and returns the worst absolute error, for the report. */
async function close(t: Tensor, r: unknown, what: string): Promise<number> {
  const rec = r as Rec;
  assert.deepEqual([...t.shape], rec.shape, `${what}: shape`);
  const got = await t.data();
  assertClose(got, rec.data, { atol: TOL, rtol: 0, what });
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - rec.data[i]!));
  return worst;
}

function inputsOf(src: { inputIds: Nested; attentionMask: Nested; tokenTypeIds: Nested }): { ids: Tensor; attentionMask: Tensor; tokenTypeIds: Tensor } {
  return { ids: ints(src.inputIds), attentionMask: ints(src.attentionMask), tokenTypeIds: ints(src.tokenTypeIds) };
}

/** Loads a real checkpoint, or skips when ../shared/data is absent. */
async function loadReal<T>(t: { skip(msg: string): void }, name: string, load: (dir: string) => Promise<T>): Promise<T | null> {
  const root = sharedDataOrSkip(CHECKPOINTS);
  if (!root) { t.skip(`../shared/data/${CHECKPOINTS} is absent`); return null; }
  return load(join(root, name));
}

const worst: Record<string, number> = {};
function note(key: string, err: number): void {
  worst[key] = Math.max(worst[key] ?? 0, err);
}

for (const backend of backendsUnderTest()) {
  describe(`BERT vs PyTorch reference on ${backend}`, () => {
    let prev = "";
    const run = (name: string, fn: (t: { skip(msg: string): void }) => Promise<void>): void => {
      test(name, async (t) => {
        prev = z.getBackend();
        try {
          z.setBackend(backend);
        } catch (e) {
          t.skip(`backend ${backend} unavailable: ${(e as Error).message}`);
          return;
        }
        try {
          await fn(t);
        } finally {
          z.setBackend(prev);
        }
      });
    };

    const { ids, attentionMask, tokenTypeIds } = inputsOf(EXPECTED.inputs);

    run('safetensors BertModel (h32, 2 layers, 4 heads): hidden states, attentions, defaults, position ids', async (t) => {
      const model = await loadReal(t, 'safetensors-bertmodel-h32-l2', (d) => BertModel.fromPretrained(d, quiet));
      if (!model) return;
      const exp = EXPECTED.real['safetensors-bertmodel-h32-l2']!;
      assert.equal(model.pooler, null, 'no pooler weights in the checkpoint -> no pooler');
      const out = model.forward(ids, { attentionMask, tokenTypeIds, outputAttentions: true, outputHiddenStates: true });
      const key = `safetensors-bertmodel-h32-l2 (${backend})`;
      note(key, await close(out.lastHiddenState, exp.lastHiddenState, 'lastHiddenState'));
      assert.equal(out.hiddenStates!.length, 3);
      for (const [i, h] of out.hiddenStates!.entries()) note(key, await close(h, (exp.hiddenStates as unknown[])[i], `hiddenStates[${i}]`));
      assert.equal(out.attentions!.length, 2);
      for (const [i, a] of out.attentions!.entries()) {
        assert.deepEqual([...a.shape], [3, 4, 7, 7], 'attentions: (B, H, T, T)');
        note(key, await close(a, (exp.attentions as unknown[])[i], `attentions[${i}]`));
        // Rows sum to 1; padded key columns get ~0 probability.
        const p = await a.data();
        const mask = EXPECTED.inputs.attentionMask;
        for (let b = 0; b < 3; b++) for (let h = 0; h < 4; h++) for (let q = 0; q < 7; q++) {
          let s = 0;
          for (let k = 0; k < 7; k++) {
            const v = p[((b * 4 + h) * 7 + q) * 7 + k]!;
            s += v;
            if (mask[b]![k] === 0) assert.ok(v < 1e-12, `attention to padding b${b} h${h} q${q} k${k}: ${v}`);
          }
          assert.ok(Math.abs(s - 1) < 1e-5, `attention row sum ${s}`);
        }
      }
      // Defaults: no mask, token types zero.
      const first = model.forward(ints([EXPECTED.inputs.inputIds[0]]));
      note(key, await close(first.lastHiddenState, exp.firstRowNoMask, 'no mask, default token types'));
      const withPos = model.forward(ids, { attentionMask, tokenTypeIds, positionIds: ints(exp.positionIds) });
      note(key, await close(withPos.lastHiddenState, exp.withPositionIds, 'explicit positionIds'));
    });

    run('zip-format pytorch_model.bin BertForTokenClassification (bert. prefix): logits, loss, hidden states', async (t) => {
      const model = await loadReal(t, 'torchzip-bert-tokencls-h16-l1', (d) => BertForTokenClassification.fromPretrained(d, quiet));
      if (!model) return;
      const exp = EXPECTED.real['torchzip-bert-tokencls-h16-l1']!;
      assert.equal(model.numLabels, 9);
      assert.equal(model.config.id2label[3], 'B-PER');
      const out = model.forward(ids, { attentionMask, tokenTypeIds, labels: ints(exp.labels), outputHiddenStates: true });
      const key = `torchzip-bert-tokencls-h16-l1 (${backend})`;
      note(key, await close(out.logits, exp.logits, 'token-classification logits'));
      note(key, await close(out.hiddenStates!.at(-1)!, exp.lastHiddenState, 'lastHiddenState'));
      assertClose([await out.loss!.item()], [exp.loss as number], { atol: TOL, rtol: 0, what: 'loss' });
      // The same checkpoint as a bare BertModel: prefix stripped, classifier unexpected.
      const base = await loadReal(t, 'torchzip-bert-tokencls-h16-l1', (d) => BertModel.fromPretrained(d, quiet));
      note(key, await close(base!.forward(ids, { attentionMask, tokenTypeIds }).lastHiddenState, exp.lastHiddenState, 'as BertModel'));
    });

    run('legacy-pickle pytorch_model.bin BertModel with pooler: hidden states and pooler output', async (t) => {
      const model = await loadReal(t, 'torchlegacy-bert-xsmall-dummy', (d) => BertModel.fromPretrained(d, quiet));
      if (!model) return;
      const exp = EXPECTED.real['torchlegacy-bert-xsmall-dummy']!;
      assert.ok(model.pooler, 'pooler weights in the checkpoint -> pooler');
      const out = model.forward(ids, { attentionMask, tokenTypeIds });
      const key = `torchlegacy-bert-xsmall-dummy (${backend})`;
      note(key, await close(out.lastHiddenState, exp.lastHiddenState, 'lastHiddenState'));
      note(key, await close(out.poolerOutput!, exp.poolerOutput, 'poolerOutput'));
    });

    run('tiny BertForPreTraining / BertForMaskedLM / BertForNextSentencePrediction (gelu_new, tied decoder)', async () => {
      const exp = EXPECTED.tiny['tiny-pretraining']!;
      const dir = join(TINY, 'tiny-pretraining');
      const inp = inputsOf(exp.inputs);
      const opts = { attentionMask: inp.attentionMask, tokenTypeIds: inp.tokenTypeIds };
      const key = `tiny-pretraining (${backend})`;
      const pre = await BertForPreTraining.fromPretrained(dir, quiet);
      const po = pre.forward(inp.ids, { ...opts, labels: ints(exp.labels), nextSentenceLabel: z.tensor(exp.nextSentenceLabel as number[], { dtype: 'int32' }) });
      note(key, await close(po.predictionLogits, exp.predictionLogits, 'pretraining MLM logits'));
      note(key, await close(po.seqRelationshipLogits, exp.seqRelationshipLogits, 'pretraining NSP logits'));
      assertClose([await po.loss!.item()], [exp.loss as number], { atol: TOL, rtol: 0, what: 'pretraining loss' });

      const mlm = await BertForMaskedLM.fromPretrained(dir, quiet);
      assert.equal(mlm.cls.predictions.decoder.weight, mlm.bert.embeddings.word_embeddings.weight, 'decoder tied to word embeddings');
      assert.equal(mlm.cls.predictions.decoder.bias, mlm.cls.predictions.bias, 'decoder bias is cls.predictions.bias');
      const mo = mlm.forward(inp.ids, { ...opts, labels: ints(exp.labels) });
      note(key, await close(mo.logits, exp.predictionLogits, 'MLM logits'));
      assertClose([await mo.loss!.item()], [exp.mlmLoss as number], { atol: TOL, rtol: 0, what: 'MLM loss' });

      const nsp = await BertForNextSentencePrediction.fromPretrained(dir, quiet);
      const no = nsp.forward(inp.ids, { ...opts, labels: z.tensor(exp.nextSentenceLabel as number[], { dtype: 'int32' }) });
      note(key, await close(no.logits, exp.seqRelationshipLogits, 'NSP logits'));
      assertClose([await no.loss!.item()], [exp.nspLoss as number], { atol: TOL, rtol: 0, what: 'NSP loss' });

      const base = await BertModel.fromPretrained(dir, quiet);
      const bo = base.forward(inp.ids, opts);
      note(key, await close(bo.lastHiddenState, exp.lastHiddenState, 'BertModel from a headed checkpoint'));
      note(key, await close(bo.poolerOutput!, exp.poolerOutput, 'pooler from a headed checkpoint'));
    });

    run('tiny BertForSequenceClassification (relu): logits, single-label and multi-label losses, regression', async () => {
      const exp = EXPECTED.tiny['tiny-seqcls']!;
      const inp = inputsOf(exp.inputs);
      const opts = { attentionMask: inp.attentionMask, tokenTypeIds: inp.tokenTypeIds };
      const model = await BertForSequenceClassification.fromPretrained(join(TINY, 'tiny-seqcls'), quiet);
      assert.deepEqual(model.config.id2label, { 0: 'neg', 1: 'neu', 2: 'pos' });
      const out = model.forward(inp.ids, { ...opts, labels: z.tensor(exp.labels as number[], { dtype: 'int32' }) });
      note(`tiny-seqcls (${backend})`, await close(out.logits, exp.logits, 'logits'));
      assertClose([await out.loss!.item()], [exp.loss as number], { atol: TOL, rtol: 0, what: 'cross-entropy' });
      const multi = model.forward(inp.ids, { ...opts, labels: z.tensor(exp.multiLabels as Nested) });
      assertClose([await multi.loss!.item()], [exp.multiLoss as number], { atol: TOL, rtol: 0, what: 'BCE-with-logits (float labels)' });
      // numLabels 1 -> regression with MSE on the squeezed logits.
      const reg = new BertForSequenceClassification(new BertConfig({ ...model.config.toJSON(), id2label: undefined, label2id: undefined, num_labels: 1 }));
      reg.eval();
      const target = z.tensor([0.5, -1.25]);
      const r = reg.forward(inp.ids, { ...opts, labels: target });
      const logits = await r.logits.data();
      assert.deepEqual([...r.logits.shape], [2, 1]);
      const mse = ((logits[0]! - 0.5) ** 2 + (logits[1]! + 1.25) ** 2) / 2;
      assertClose([await r.loss!.item()], [mse], { atol: 1e-6, rtol: 1e-5, what: 'regression MSE' });
    });

    run('tiny BertForQuestionAnswering and BertForMultipleChoice: logits and losses (out-of-range answer ignored)', async () => {
      const exp = EXPECTED.tiny['tiny-qa-mc']!;
      const inp = inputsOf(exp.inputs);
      const dir = join(TINY, 'tiny-qa-mc');
      const key = `tiny-qa-mc (${backend})`;
      const qa = await BertForQuestionAnswering.fromPretrained(dir, quiet);
      const qo = qa.forward(inp.ids, {
        attentionMask: inp.attentionMask, tokenTypeIds: inp.tokenTypeIds,
        startPositions: z.tensor(exp.startPositions as number[], { dtype: 'int32' }), endPositions: z.tensor(exp.endPositions as number[], { dtype: 'int32' }),
      });
      note(key, await close(qo.startLogits, exp.startLogits, 'start logits'));
      note(key, await close(qo.endLogits, exp.endLogits, 'end logits'));
      assertClose([await qo.loss!.item()], [exp.qaLoss as number], { atol: TOL, rtol: 0, what: 'QA loss' });
      const mc = await BertForMultipleChoice.fromPretrained(dir, quiet);
      const mo = mc.forward(ints(exp.mcInputIds), { attentionMask: ints(exp.mcAttentionMask), labels: z.tensor(exp.mcLabels as number[], { dtype: 'int32' }) });
      note(key, await close(mo.logits, exp.mcLogits, 'multiple-choice logits'));
      assertClose([await mo.loss!.item()], [exp.mcLoss as number], { atol: TOL, rtol: 0, what: 'multiple-choice loss' });
    });
  });
}

test('worst absolute error per checkpoint is within the tolerance', () => {
  // The committed tiny checkpoints (tests/golden/bert) always run, so the report is never empty.
  assert.ok(Object.keys(worst).some((k) => k.startsWith('tiny-')), `no committed checkpoint was compared: ${Object.keys(worst).join(', ') || 'none'}`);
  for (const [k, v] of Object.entries(worst)) {
    console.log(`# max |zhuyi - PyTorch| ${k}: ${v.toExponential(2)}`);
    assert.ok(v <= TOL, `${k}: worst error ${v} exceeds ${TOL}`);
  }
});
