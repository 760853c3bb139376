/**
 * BERT pipelines (fillMask, classify, tokenClassify, answer, embed) on small models over a tiny
 * hand-made vocabulary, against oracles computed independently from the model's own forward pass
 * (one unpadded text at a time, softmax in float64 here). Token classification and QA use models
 * whose weights are set by hand so the predicted labels and spans are known: every encoder layer's
 * output projections are zeroed, position and segment embeddings too, so the last hidden state of a
 * token is its (mean-0, variance-1) word embedding, and the head reads chosen dimensions of it.
 * Runs on the js backend; the real tiny checkpoints in ../shared/data are used when present.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as z from '../../src/index.js';
import {
  BertConfig, type BertConfigJSON, BertForMaskedLM, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
  BertModel, type BertPreTrainedModel, BertTokenizer, type EntityGroup, Generator, PipelineError, type Parameter, type Tensor,
  answer, classify, embed, fillMask, tokenClassify,
} from '../../src/index.js';
import { sharedDataOrSkip } from '../helpers.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', // 0..4
  'the', 'cat', 'sat', 'on', 'mat', // 5..9
  'a', 'dog', '##s', 'run', 'hello', // 10..14
  'world', ',', '!', '.', '?', // 15..19
  'who', 'where', 'is', 'john', 'smith', // 20..24
  'lives', 'in', 'new', 'york', 'par', // 25..29
  '##is', 'with', 'big', 'city', 'does', // 30..34
];
const tok = new BertTokenizer(VOCAB);
const C = 16;
const base = (extra: BertConfigJSON = {}): BertConfig => new BertConfig({
  vocab_size: VOCAB.length, hidden_size: C, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 64, initializer_range: 0.3, ...extra,
});
const ints = (rows: number[][]): Tensor => z.tensor(rows, { dtype: 'int32' });
const gen = (seed: number): { generator: Generator } => ({ generator: new Generator(seed) });

let prevBackend = '';
before(() => {
  prevBackend = z.getBackend();
  z.setBackend('js');
});
after(() => z.setBackend(prevBackend));

// ---- oracles -------------------------------------------------------------------------------------

function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Runs fn on the model in eval mode, without grad, and returns the tensor's values as nested lists. */
async function evalForward(model: BertPreTrainedModel, fn: () => Tensor): Promise<any> {
  const wasTraining = model.training;
  model.eval();
  const t = z.noGrad(fn);
  model.train(wasTraining);
  return t.tolist();
}

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

// ---- hand-set encoders ---------------------------------------------------------------------------

function setParam(p: Parameter, fill: (values: Float32Array) => void): void {
  const values = new Float32Array(p.size);
  fill(values);
  p.assign(z.tensor(values, { shape: [...p.shape] }));
}

/**
 * A C-dim vector with mean 0 and variance 1 (so LayerNorm leaves it as it is) whose first C/2
 * dimensions point along `signal` (dimension -> weight); the last C/2 are its negation.
 */
function unitVec(signal: Record<number, number>): number[] {
  const s = new Array<number>(C / 2).fill(0);
  for (const [k, v] of Object.entries(signal)) s[Number(k)] = v;
  if (!s.some((x) => x !== 0)) s[C / 2 - 1] = 1; // neutral: only the filler dimension
  const scale = Math.sqrt((C / 2) / s.reduce((a, x) => a + x * x, 0));
  return [...s.map((x) => x * scale), ...s.map((x) => -x * scale)];
}

/** Makes the encoder pass word embeddings through unchanged and sets the listed words' embeddings. */
function passThrough(bert: BertModel, words: Record<string, Record<number, number>>): void {
  for (const layer of bert.encoder.layer) {
    for (const lin of [layer.attention.output.dense, layer.output.dense]) {
      setParam(lin.weight, () => {});
      setParam(lin.bias!, () => {});
    }
  }
  setParam(bert.embeddings.position_embeddings.weight, () => {});
  setParam(bert.embeddings.token_type_embeddings.weight, () => {});
  const emb = bert.embeddings.word_embeddings.weight;
  const old = emb.buffer as Float32Array;
  setParam(emb, (v) => {
    v.set(old);
    for (let id = 0; id < VOCAB.length; id++) v.set(unitVec(words[VOCAB[id]!] ?? {}), id * C);
  });
}

/** Head weight (K, C) reading dimension k into output k, times alpha; bias 0. */
function readDims(lin: { weight: Parameter; bias: Parameter | null }, alpha: number): void {
  const K = lin.weight.shape[0]!;
  setParam(lin.weight, (v) => { for (let k = 0; k < K; k++) v[k * C + k] = alpha; });
  setParam(lin.bias!, () => {});
}

// ---- fillMask ------------------------------------------------------------------------------------

describe('fillMask', () => {
  const model = new BertForMaskedLM(base(), gen(1));
  const text = 'The cat [MASK] on the mat.';

  test('scores are the softmax of the MLM logits at the mask, sorted, topK respected; training mode is restored', async () => {
    model.train(); // the pipeline must still run in eval mode (dropout would change the logits)
    const enc = tok.encode(text);
    const pos = enc.inputIds.indexOf(4);
    assert.equal(pos, 3);
    const logits = await evalForward(model, () => model.forward(ints([enc.inputIds])).logits);
    const probs = softmax(logits[0][pos]);
    const order = probs.map((_, i) => i).sort((a, b) => probs[b]! - probs[a]!);

    const out = await fillMask(model, tok, text, { topK: 7 });
    assert.equal(model.training, true);
    assert.equal(model.bert.encoder.layer.get(0).attention.self.dropout.training, true);
    assert.equal(out.length, 1);
    const preds = out[0]!;
    assert.equal(preds.length, 7);
    preds.forEach((p, r) => {
      assert.equal(p.tokenId, order[r], `rank ${r}`);
      close(p.score, probs[p.tokenId]!, 1e-6, `score of ${p.token}`);
      assert.equal(p.token, VOCAB[p.tokenId]);
      if (r > 0) assert.ok(preds[r - 1]!.score >= p.score);
      const filled = enc.inputIds.map((id, t) => (t === pos ? p.tokenId : id));
      assert.equal(p.sequence, tok.decode(filled, { skipSpecialTokens: true }));
    });
    assert.equal((await fillMask(model, tok, text)).at(0)!.length, 5, 'default topK 5');
    assert.equal((await fillMask(model, tok, text, { topK: 1000 }))[0]!.length, VOCAB.length, 'topK capped by the vocabulary');
    const sum = (await fillMask(model, tok, text, { topK: 1000 }))[0]!.reduce((s, p) => s + p.score, 0);
    close(sum, 1, 1e-9, 'probabilities over the vocabulary');
  });

  test('targets: scores of the named tokens (not renormalised) and the filled-in sentences', async () => {
    const enc = tok.encode(text);
    const probs = softmax((await evalForward(model, () => model.forward(ints([enc.inputIds])).logits))[0][3]);
    const out = (await fillMask(model, tok, text, { targets: ['sat', 'run'], topK: 5 }))[0]!;
    assert.equal(out.length, 2);
    const bySeq = Object.fromEntries(out.map((p) => [p.sequence, p.score]));
    assert.deepEqual(Object.keys(bySeq).sort(), ['the cat run on the mat.', 'the cat sat on the mat.']);
    close(bySeq['the cat sat on the mat.']!, probs[7]!, 1e-6, 'p(sat)');
    close(bySeq['the cat run on the mat.']!, probs[13]!, 1e-6, 'p(run)');
    await assert.rejects(fillMask(model, tok, text, { targets: ['zebra'] }), /target "zebra" is not one vocabulary token/);
  });

  test('several masks: one list per mask, each from its own position; sequences keep the specials (HF)', async () => {
    const two = 'the [MASK] sat on the [MASK].';
    const enc = tok.encode(two);
    const logits = await evalForward(model, () => model.forward(ints([enc.inputIds])).logits);
    const out = await fillMask(model, tok, two, { topK: 3, targets: ['cat', 'dog', 'mat'] });
    assert.equal(out.length, 2);
    for (const [i, pos] of [[0, 2], [1, 6]] as const) {
      const probs = softmax(logits[0][pos]);
      for (const p of out[i]!) close(p.score, probs[p.tokenId]!, 1e-6, `mask ${i} ${p.token}`);
    }
    const first = out[0]!.find((p) => p.token === 'dog')!;
    assert.equal(first.sequence, '[CLS] the dog sat on the [MASK]. [SEP]');
    const second = out[1]!.find((p) => p.token === 'mat')!;
    assert.equal(second.sequence, '[CLS] the [MASK] sat on the mat. [SEP]');
  });

  test('BertForPreTraining works too (its MLM head)', async () => {
    const pre = new BertForPreTraining(base(), gen(14));
    const enc = tok.encode(text);
    const probs = softmax((await evalForward(pre, () => pre.forward(ints([enc.inputIds])).predictionLogits))[0][3]);
    const [best] = (await fillMask(pre, tok, text, { topK: 1 }))[0]!;
    close(best!.score, Math.max(...probs), 1e-6, 'top score');
    assert.equal(best!.tokenId, probs.indexOf(Math.max(...probs)));
  });

  test('errors: no mask, wrong model class, bad topK', async () => {
    await assert.rejects(fillMask(model, tok, 'the cat sat'), (e: Error) => e instanceof PipelineError && /no mask token \(\[MASK\]\) in the text "the cat sat"/.test(e.message));
    const cls = new BertForSequenceClassification(base(), gen(2));
    await assert.rejects(fillMask(cls as never, tok, text), /fillMask: needs a BertForMaskedLM or BertForPreTraining, got BertForSequenceClassification/);
    await assert.rejects(fillMask(model, tok, text, { topK: 0 }), /topK must be a positive integer/);
  });
});

// ---- classify ------------------------------------------------------------------------------------

describe('classify', () => {
  const labels = { 0: 'negative', 1: 'neutral', 2: 'positive' };
  const model = new BertForSequenceClassification(base({ id2label: labels }), gen(3));
  const texts = ['the cat sat', 'hello world, the dogs run on the mat!', 'a', 'who is john smith?'];

  async function logitsOf(m: BertForSequenceClassification, text: string, pair?: string): Promise<number[]> {
    const enc = pair === undefined ? tok.encode(text) : tok.encode(text, pair);
    return (await evalForward(m, () => m.forward(ints([enc.inputIds]), { tokenTypeIds: ints([enc.tokenTypeIds]) }).logits))[0];
  }

  test('batched (padded + masked) scores equal softmax of each text\'s own logits; sorted; sum to 1', async () => {
    const out = await classify(model, tok, texts, { topK: null, batchSize: 3 }); // two batches, both padded
    assert.equal(out.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      const probs = softmax(await logitsOf(model, texts[i]!));
      const row = out[i]!;
      assert.deepEqual(row.map((r) => r.label).sort(), ['negative', 'neutral', 'positive']);
      for (const r of row) close(r.score, probs[Number(Object.entries(labels).find(([, v]) => v === r.label)![0])]!, 1e-5, `${texts[i]} ${r.label}`);
      for (let k = 1; k < row.length; k++) assert.ok(row[k - 1]!.score >= row[k]!.score, 'sorted best first');
      close(row.reduce((s, r) => s + r.score, 0), 1, 1e-9, 'sum');
    }
    // default topK 1: the argmax; a single string gives a flat list
    const one = await classify(model, tok, texts[1]!);
    assert.equal(one.length, 1);
    assert.deepEqual(one[0], out[1]![0]);
    assert.equal((await classify(model, tok, texts, { topK: 2 }))[3]!.length, 2);
  });

  test('sentence pairs go in as segments A and B', async () => {
    const out = await classify(model, tok, ['who is john?', 'the cat'], { textPair: ['john is a cat', 'sat on the mat'], topK: null });
    const probs = softmax(await logitsOf(model, 'who is john?', 'john is a cat'));
    for (const r of out[0]!) close(r.score, probs[['negative', 'neutral', 'positive'].indexOf(r.label)]!, 1e-5, r.label);
    await assert.rejects(classify(model, tok, ['a', 'b'], { textPair: ['c'] }), /2 texts but 1 text pairs/);
  });

  test('multi-label models get sigmoid scores, regression models (1 label) the raw value', async () => {
    const multi = new BertForSequenceClassification(base({ id2label: labels, problem_type: 'multi_label_classification' }), gen(4));
    const out = await classify(multi, tok, texts[0]!, { topK: null });
    const logits = await logitsOf(multi, texts[0]!);
    for (const r of out) close(r.score, 1 / (1 + Math.exp(-logits[['negative', 'neutral', 'positive'].indexOf(r.label)]!)), 1e-6, r.label);
    assert.ok(Math.abs(out.reduce((s, r) => s + r.score, 0) - 1) > 1e-3, 'independent probabilities');

    const reg = new BertForSequenceClassification(base({ num_labels: 1 }), gen(5));
    const [value] = await classify(reg, tok, texts[1]!);
    assert.equal(value!.label, 'LABEL_0');
    close(value!.score, (await logitsOf(reg, texts[1]!))[0]!, 1e-6, 'raw regression value');
    // an explicit function overrides the config's
    const [sig] = await classify(reg, tok, texts[1]!, { functionToApply: 'sigmoid' });
    close(sig!.score, 1 / (1 + Math.exp(-value!.score)), 1e-9, 'sigmoid override');
  });

  test('errors name the wrong model class', async () => {
    const tc = new BertForTokenClassification(base(), gen(6));
    await assert.rejects(classify(tc as never, tok, 'a'), (e: Error) => e instanceof PipelineError && /classify: needs a BertForSequenceClassification, got BertForTokenClassification/.test(e.message));
  });
});

// ---- tokenClassify -------------------------------------------------------------------------------

describe('tokenClassify', () => {
  const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
  const O = 0, BPER = 1, IPER = 2, BLOC = 3, ILOC = 4;
  const model = new BertForTokenClassification(base({ id2label: Object.fromEntries(LABELS.map((l, i) => [i, l])), num_hidden_layers: 1 }), gen(7));
  // Labels by construction: dimension k of the hidden state is read as label k's logit (x3).
  passThrough(model.bert, {
    john: { [BPER]: 1 }, smith: { [IPER]: 1 }, lives: { [O]: 1 }, in: { [O]: 1 }, with: { [O]: 1 }, '.': { [O]: 1 },
    par: { [BLOC]: 1 }, '##is': { [O]: 1, [ILOC]: 0.8 }, // "Paris": a sure B-LOC, then a hesitant O
    dog: { [O]: 1, [BPER]: 0.8 }, '##s': { [BPER]: 1 }, // "dogs": a hesitant O, then a sure B-PER
  });
  readDims(model.classifier, 3);
  const text = 'John Smith lives in Paris with dogs.';
  //            0    5     11    17 20 23 26   31 34 35

  let probs: number[][] = [];
  before(async () => {
    const enc = tok.encode(text);
    assert.deepEqual(enc.tokens, ['[CLS]', 'john', 'smith', 'lives', 'in', 'par', '##is', 'with', 'dog', '##s', '.', '[SEP]']);
    probs = (await evalForward(model, () => model.forward(ints([enc.inputIds])).logits))[0].map(softmax);
    const argmaxes = probs.slice(1, -1).map((p) => LABELS[p.indexOf(Math.max(...p))]);
    assert.deepEqual(argmaxes, ['B-PER', 'I-PER', 'O', 'O', 'B-LOC', 'O', 'O', 'O', 'B-PER', 'O'], 'the hand-set model predicts what it was built to');
  });
  const p = (t: number, label: number): number => probs[t]![label]!;

  test("aggregation 'none': one entry per non-O token with its offsets", async () => {
    const out = await tokenClassify(model, tok, text);
    assert.deepEqual(out.map(({ score, ...rest }) => rest), [
      { entity: 'B-PER', index: 1, word: 'john', start: 0, end: 4 },
      { entity: 'I-PER', index: 2, word: 'smith', start: 5, end: 10 },
      { entity: 'B-LOC', index: 5, word: 'par', start: 20, end: 23 },
      { entity: 'B-PER', index: 9, word: '##s', start: 34, end: 35 },
    ]);
    out.forEach((e) => close(e.score, p(e.index, LABELS.indexOf(e.entity)), 1e-6, e.word));
    const all = await tokenClassify(model, tok, text, { ignoreLabels: [] });
    assert.equal(all.length, 10, 'every text token when nothing is ignored');
  });

  test("aggregation 'simple': BIO groups of tokens, mean score, spans from the first to the last token", async () => {
    const out = await tokenClassify(model, tok, text, { aggregation: 'simple' });
    assert.deepEqual(out.map(({ score, ...rest }) => rest), [
      { entityGroup: 'PER', word: 'john smith', start: 0, end: 10 },
      { entityGroup: 'LOC', word: 'par', start: 20, end: 23 },
      { entityGroup: 'PER', word: '##s', start: 34, end: 35 },
    ]);
    close(out[0]!.score, (p(1, BPER) + p(2, IPER)) / 2, 1e-6, 'PER group');
    close(out[1]!.score, p(5, BLOC), 1e-6, 'LOC group');
    assert.equal(text.slice(out[0]!.start, out[0]!.end), 'John Smith');
    // a B- tag starts a new group even after the same type
    const two = await tokenClassify(model, tok, 'John Smith John', { aggregation: 'simple' });
    assert.deepEqual(two.map((g) => [g.entityGroup, g.word, g.start, g.end]), [['PER', 'john smith', 0, 10], ['PER', 'john', 11, 15]]);
  });

  test("word aggregations 'first', 'max', 'average' label whole words", async () => {
    const view = (gs: EntityGroup[]): unknown[] => gs.map((g) => [g.entityGroup, g.word, g.start, g.end]);
    const first = await tokenClassify(model, tok, text, { aggregation: 'first' });
    assert.deepEqual(view(first), [['PER', 'john smith', 0, 10], ['LOC', 'paris', 20, 25]], "'dogs' takes its first piece's O");
    close(first[1]!.score, p(5, BLOC), 1e-6, 'first: score of the first piece');

    const max = await tokenClassify(model, tok, text, { aggregation: 'max' });
    assert.deepEqual(view(max), [['PER', 'john smith', 0, 10], ['LOC', 'paris', 20, 25], ['PER', 'dogs', 31, 35]]);
    close(max[1]!.score, p(5, BLOC), 1e-6, 'max: paris from "par"');
    close(max[2]!.score, p(9, BPER), 1e-6, 'max: dogs from "##s"');

    const avg = await tokenClassify(model, tok, text, { aggregation: 'average' });
    assert.deepEqual(view(avg), [['PER', 'john smith', 0, 10], ['LOC', 'paris', 20, 25], ['PER', 'dogs', 31, 35]]);
    close(avg[1]!.score, (p(5, BLOC) + p(6, BLOC)) / 2, 1e-6, 'average: paris');
    close(avg[2]!.score, (p(8, BPER) + p(9, BPER)) / 2, 1e-6, 'average: dogs');
  });

  test('long texts: truncated by default, windows with a stride (overlaps resolved once)', async () => {
    const long = `${'the cat sat on the mat. '.repeat(3)}John Smith lives in Paris.`;
    const small = new BertForTokenClassification(base({ id2label: Object.fromEntries(LABELS.map((l, i) => [i, l])), num_hidden_layers: 1, max_position_embeddings: 12 }), gen(7));
    passThrough(small.bert, { john: { [BPER]: 1 }, smith: { [IPER]: 1 }, par: { [BLOC]: 1 }, '##is': { [ILOC]: 1 } });
    readDims(small.classifier, 3);
    // every other token is neutral: its logits are all 0, so argmax is O (index 0)
    assert.deepEqual(await tokenClassify(small, tok, long, { aggregation: 'simple' }), [], 'truncated to 12 tokens: the names are cut off (HF default)');
    const out = await tokenClassify(small, tok, long, { aggregation: 'simple', stride: 4 });
    assert.deepEqual(out.map((g) => [g.entityGroup, long.slice(g.start, g.end)]), [['PER', 'John Smith'], ['LOC', 'Paris']]);
    await assert.rejects(tokenClassify(small, tok, long, { stride: 4 }), /needs an aggregation other than 'none'/);
    await assert.rejects(tokenClassify(small, tok, long, { aggregation: 'simple', stride: 10 }), /stride 10 must be smaller than the 10 text tokens/);
  });

  test('errors name the wrong model class', async () => {
    await assert.rejects(tokenClassify(new BertForMaskedLM(base(), gen(8)) as never, tok, 'a'), /tokenClassify: needs a BertForTokenClassification, got BertForMaskedLM/);
  });
});

// ---- answer --------------------------------------------------------------------------------------

describe('answer', () => {
  const START = 0, END = 1;
  function qaModel(words: Record<string, Record<number, number>>, extra: BertConfigJSON = {}): BertForQuestionAnswering {
    const m = new BertForQuestionAnswering(base({ num_hidden_layers: 1, ...extra }), gen(9));
    passThrough(m.bert, words);
    readDims(m.qa_outputs, 3);
    return m;
  }
  // 'where' (in the question) would be the best start; 'mat' the best end but it comes before 'new'.
  const model = qaModel({ where: { [START]: 1 }, new: { [START]: 1 }, york: { [END]: 1, 7: 0.3 }, mat: { [END]: 1 } });
  const question = 'Where is the mat?';
  const context = 'The mat is in New York.';

  /** Brute force over the window: context tokens only, start <= end, length cap, softmax over context + [CLS]. */
  async function oracle(m: BertForQuestionAnswering, q: string, c: string, maxLen: number): Promise<{ s: number; e: number; score: number; ps: number[]; pe: number[] }> {
    const enc = tok.encode(q, c, { returnSpecialTokensMask: true });
    const [starts, ends] = await Promise.all([
      evalForward(m, () => m.forward(ints([enc.inputIds]), { tokenTypeIds: ints([enc.tokenTypeIds]) }).startLogits),
      evalForward(m, () => m.forward(ints([enc.inputIds]), { tokenTypeIds: ints([enc.tokenTypeIds]) }).endLogits),
    ]);
    const ctx = enc.inputIds.map((_, t) => enc.tokenTypeIds[t] === 1 && enc.specialTokensMask![t] === 0);
    const support = ctx.map((v, t) => v || t === 0);
    const norm = (row: number[]): number[] => {
      const idx = row.map((_, t) => t).filter((t) => support[t]);
      const sm = softmax(idx.map((t) => row[t]!));
      const out = row.map(() => 0);
      idx.forEach((t, k) => { out[t] = sm[k]!; });
      return out;
    };
    const ps = norm(starts[0]);
    const pe = norm(ends[0]);
    let best = { s: -1, e: -1, score: -1 };
    for (let s = 0; s < ctx.length; s++) for (let e = s; e < ctx.length && e - s < maxLen; e++) {
      if (ctx[s] && ctx[e] && ps[s]! * pe[e]! > best.score) best = { s, e, score: ps[s]! * pe[e]! };
    }
    return { ...best, ps, pe };
  }

  test('the best span: context tokens only, start <= end, score = p(start) * p(end)', async () => {
    const o = await oracle(model, question, context, 15);
    const got = await answer(model, tok, question, context);
    assert.deepEqual({ ...got, score: 0 }, { answer: 'New York', start: 14, end: 22, score: 0 });
    close(got.score, o.score, 1e-6, 'score');
    const enc = tok.encode(question, context);
    assert.deepEqual([enc.tokens[o.s], enc.tokens[o.e]], ['new', 'york']);
    assert.ok(o.score > 0.3, `a confident span (${o.score})`);
  });

  test('maxAnswerLength caps the span; topK gives distinct spans best first; the impossible answer', async () => {
    const o = await oracle(model, question, context, 1);
    const one = await answer(model, tok, question, context, { maxAnswerLength: 1 });
    const enc = tok.encode(question, context, { returnOffsetsMapping: true });
    assert.equal(o.s, o.e);
    assert.deepEqual([one.start, one.end], enc.offsets![o.s]);
    close(one.score, o.score, 1e-6, 'one-token score');
    assert.notEqual(one.answer, 'New York');

    const top = await answer(model, tok, question, context, { topK: 4 });
    assert.equal(top.length, 4);
    assert.equal(top[0]!.answer, 'New York');
    assert.equal(new Set(top.map((a) => `${a.start}:${a.end}`)).size, 4);
    for (let k = 1; k < top.length; k++) assert.ok(top[k - 1]!.score >= top[k]!.score);
    for (const a of top) assert.equal(a.answer, context.slice(a.start, a.end));

    const withNull = await answer(model, tok, question, context, { topK: 200, handleImpossibleAnswer: true });
    const empty = withNull.find((a) => a.answer === '')!;
    close(empty.score, o.ps[0]! * o.pe[0]!, 1e-6, 'null score from [CLS]');
  });

  test('alignToWords widens a span that starts inside a word', async () => {
    const m = qaModel({ '##s': { [START]: 1 }, sat: { [END]: 1 } });
    const ctx = 'the dogs sat on the mat';
    const aligned = await answer(m, tok, 'who sat?', ctx);
    assert.deepEqual([aligned.answer, aligned.start, aligned.end], ['dogs sat', 4, 12]);
    const raw = await answer(m, tok, 'who sat?', ctx, { alignToWords: false });
    assert.deepEqual([raw.answer, raw.start, raw.end], ['s sat', 7, 12]);
  });

  test('long contexts are read in overlapping windows; offsets index the whole context', async () => {
    const m = qaModel({ new: { [START]: 1 }, york: { [END]: 1 } });
    const long = `${'The cat sat on the mat. '.repeat(5)}New York.`;
    const windows = tok.encode('where?', long, { truncation: 'only_second', maxLength: 16, stride: 4, returnOverflowingTokens: true });
    assert.ok((windows.overflowing?.length ?? 0) >= 3, 'several windows');
    const got = await answer(m, tok, 'where?', long, { maxSeqLength: 16, docStride: 4, batchSize: 2 });
    assert.equal(got.answer, 'New York');
    assert.equal(got.start, long.indexOf('New York'));
    const byDefault = await answer(m, tok, 'where?', long, { maxSeqLength: 16 }); // docStride defaults to min(128, 16 / 2)
    assert.deepEqual([byDefault.answer, byDefault.start], ['New York', got.start]);
    const whole = await answer(m, tok, 'where?', long);
    assert.deepEqual([whole.start, whole.end], [got.start, got.end]);
    await assert.rejects(answer(m, tok, 'where?', long, { maxSeqLength: 16, docStride: 11 }), /docStride 11 must be smaller/);
  });

  test('errors: empty inputs, a question that fills the window, wrong model class', async () => {
    await assert.rejects(answer(model, tok, '  ', context), /answer: the question is empty/);
    await assert.rejects(answer(model, tok, question, ''), /the context is empty/);
    await assert.rejects(answer(model, tok, 'the cat sat on the mat', context, { maxSeqLength: 8 }), /leaving no room for the context/);
    await assert.rejects(answer(new BertModel(base(), gen(10)) as never, tok, question, context), (e: Error) => e instanceof PipelineError && /needs a BertForQuestionAnswering, got BertModel/.test(e.message));
  });
});

// ---- embed ---------------------------------------------------------------------------------------

describe('embed', () => {
  const model = new BertModel(base(), gen(11));
  const texts = ['the cat sat', 'hello world, the dogs run on the mat!', 'a'];

  async function hidden(text: string): Promise<{ h: number[][]; pooled: number[] }> {
    const enc = tok.encode(text);
    const [h, pooled] = await Promise.all([
      evalForward(model, () => model.forward(ints([enc.inputIds])).lastHiddenState),
      evalForward(model, () => model.forward(ints([enc.inputIds])).poolerOutput!),
    ]);
    return { h: h[0], pooled: pooled[0] };
  }
  const unit = (v: number[]): number[] => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / n);
  };
  const assertVec = (got: number[], want: number[], tol: number, what: string): void => {
    assert.equal(got.length, want.length);
    got.forEach((x, c) => close(x, want[c]!, tol, `${what}[${c}]`));
  };

  test('mean pooling over real tokens only: padding a batch changes nothing; unit length', async () => {
    const batched = await embed(model, tok, texts);
    assert.equal(batched.length, 3);
    for (let i = 0; i < texts.length; i++) {
      const alone = (await embed(model, tok, texts[i]!))[0]!;
      assertVec(batched[i]!, alone, 1e-5, `padded vs alone ${i}`);
      const { h } = await hidden(texts[i]!);
      const mean = h[0]!.map((_, c) => h.reduce((s, row) => s + row[c]!, 0) / h.length);
      assertVec(batched[i]!, unit(mean), 1e-5, `mean oracle ${i}`);
      close(Math.hypot(...batched[i]!), 1, 1e-6, 'unit norm');
    }
    const raw = await embed(model, tok, texts, { normalize: false, batchSize: 2 });
    const { h } = await hidden(texts[1]!);
    assertVec(raw[1]!, h[0]!.map((_, c) => h.reduce((s, row) => s + row[c]!, 0) / h.length), 1e-5, 'unnormalised mean');
  });

  test("'cls' and 'pooler' pooling", async () => {
    const cls = await embed(model, tok, texts, { pooling: 'cls' });
    const pool = await embed(model, tok, texts, { pooling: 'pooler', normalize: false });
    for (let i = 0; i < texts.length; i++) {
      const { h, pooled } = await hidden(texts[i]!);
      assertVec(cls[i]!, unit(h[0]!), 1e-5, `cls ${i}`);
      assertVec(pool[i]!, pooled, 1e-5, `pooler ${i}`);
    }
    const noPooler = new BertModel(base(), { ...gen(12), addPoolingLayer: false });
    await assert.rejects(embed(noPooler, tok, 'a', { pooling: 'pooler' }), /needs a BertModel with a pooler/);
    await assert.rejects(embed({} as never, tok, 'a'), /embed: needs a BertModel/);
  });

  test("a headed model's encoder is used", async () => {
    const headed = new BertForSequenceClassification(base(), gen(13));
    const a = await embed(headed, tok, texts[0]!);
    const b = await embed(headed.bert, tok, texts[0]!);
    assert.deepEqual(a, b);
  });
});

// ---- real tiny checkpoints -----------------------------------------------------------------------

describe('pipelines on the tiny checkpoints in ../shared/data', () => {
  const root = sharedDataOrSkip('tiny-bert-checkpoints');
  const quiet = { warn: () => {} };

  test('embed with safetensors-bertmodel-h32-l2 and its tokenizer: unit vectors, padding-invariant', async (t) => {
    if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent'); return; }
    const dir = join(root, 'safetensors-bertmodel-h32-l2');
    const model = await BertModel.fromPretrained(dir, quiet);
    const tk = BertTokenizer.fromPretrained(dir);
    const texts = ['t5 t17 t99', 't42 t43 t44 t45 t46 t47 t48 t49 t50', 't200'];
    const batched = await embed(model, tk, texts);
    for (let i = 0; i < texts.length; i++) {
      close(Math.hypot(...batched[i]!), 1, 1e-6, 'unit norm');
      const alone = (await embed(model, tk, texts[i]!))[0]!;
      alone.forEach((x, c) => close(batched[i]![c]!, x, 1e-5, `text ${i} dim ${c}`));
    }
  });

  test('tokenClassify with torchzip-bert-tokencls-h16-l1 (9 NER labels, character vocabulary): spans index the text', async (t) => {
    if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent'); return; }
    const dir = join(root, 'torchzip-bert-tokencls-h16-l1');
    const model = await BertForTokenClassification.fromPretrained(dir, quiet);
    const tk = BertTokenizer.fromPretrained(dir);
    const text = 'John lives in Paris.';
    const tokens = await tokenClassify(model, tk, text, { ignoreLabels: [] });
    const enc = tk.encode(text, { returnOffsetsMapping: true });
    assert.equal(tokens.length, enc.inputIds.length - 2, 'one entry per text token');
    const logits = (await evalForward(model, () => model.forward(ints([enc.inputIds])).logits))[0] as number[][];
    for (const e of tokens) {
      const probs = softmax(logits[e.index]!);
      close(e.score, Math.max(...probs), 1e-6, e.word);
      assert.equal(e.entity, model.config.id2label[probs.indexOf(Math.max(...probs))]);
      assert.deepEqual([e.start, e.end], enc.offsets![e.index]);
      // whole words are [UNK] in this character vocabulary: the entity shows the original text
      if (enc.tokens[e.index] === '[UNK]') assert.equal(e.word, text.slice(e.start, e.end));
    }
    const groups = await tokenClassify(model, tk, text, { aggregation: 'simple', ignoreLabels: [] });
    assert.equal(groups[0]!.start, 0);
    assert.equal(groups.at(-1)!.end, text.length);
    for (const g of groups) assert.ok(['O', 'MISC', 'PER', 'ORG', 'LOC'].includes(g.entityGroup), g.entityGroup);
  });
});
