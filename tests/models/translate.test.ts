/**
 * The three translation models (Seq2Seq, AttentionSeq2Seq, TransformerSeq2Seq) on the js backend:
 * shapes, causality, blindness to source padding, stepper decoding == teacher forcing, beam 1 ==
 * greedy, attention weights, parameter names, and a short training run on a reversal task.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DecoderStepper, beamSearch, greedySearch } from '../../src/decode/search.js';
import {
  AttentionSeq2Seq, Generator, type Module, type Parameter, Seq2Seq, Tensor, type TranslationConfig, TransformerSeq2Seq,
  getBackend, manualSeed, noGrad, realize, setBackend, tensor,
} from '../../src/index.js';
import { reversedSourceIndex } from '../../src/models/translate/seq2seq.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { assertClose } from '../helpers.js';

const PAD = 0, BOS = 1, EOS = 2;
const V = 12; // symbols 3..11
const VOCAB: TranslationConfig = { srcVocabSize: V, tgtVocabSize: V, padId: PAD, bosId: BOS, eosId: EOS };

/** What the tests need from a model (all three have it). */
interface Model extends Module {
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor): Tensor;
  stepper(src: Tensor, srcLengths: readonly number[]): { stepper: DecoderStepper<unknown>; initial: unknown };
  translate(src: Tensor, srcLengths: readonly number[], o: { beamSize?: number; maxLength: number }): Promise<number[][]>;
}

interface Variant { name: string; make: () => Model }
const VARIANTS: Variant[] = [
  { name: 'Seq2Seq gru', make: () => new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 8, hidden: 12, numLayers: 2, dropout: 0.1 }) },
  { name: 'Seq2Seq lstm', make: () => new Seq2Seq({ ...VOCAB, cell: 'lstm', embDim: 8, hidden: 12, numLayers: 1 }) },
  { name: 'Seq2Seq lstm, reversed source', make: () => new Seq2Seq({ ...VOCAB, cell: 'lstm', embDim: 8, hidden: 12, numLayers: 2, reverseSource: true }) },
  { name: 'Seq2Seq gru, Cho context + maxout', make: () => new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 8, hidden: 12, numLayers: 2, feedContext: true, maxout: 5, dropout: 0.1 }) },
  { name: 'AttentionSeq2Seq additive', make: () => new AttentionSeq2Seq({ ...VOCAB, embDim: 8, encoderHidden: 6, decoderHidden: 12, attentionDim: 10, dropout: 0.1 }) },
  { name: 'AttentionSeq2Seq dot', make: () => new AttentionSeq2Seq({ ...VOCAB, attention: 'dot', embDim: 8, encoderHidden: 6, decoderHidden: 12 }) },
  { name: 'AttentionSeq2Seq general', make: () => new AttentionSeq2Seq({ ...VOCAB, attention: 'general', embDim: 8, encoderHidden: 6, decoderHidden: 10 }) },
  { name: 'AttentionSeq2Seq additive maxout', make: () => new AttentionSeq2Seq({ ...VOCAB, embDim: 8, encoderHidden: 6, decoderHidden: 12, maxout: 5, dropout: 0.1 }) },
  {
    name: 'TransformerSeq2Seq post-norm sinusoidal',
    make: () => new TransformerSeq2Seq({ ...VOCAB, dModel: 16, nHead: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 24, dropout: 0.1, maxLen: 32 }),
  },
  {
    name: 'TransformerSeq2Seq pre-norm learned shared',
    make: () => new TransformerSeq2Seq({
      ...VOCAB, dModel: 16, nHead: 4, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 24, positions: 'learned', shareEmbeddings: true, normFirst: true, maxLen: 32,
    }),
  },
  {
    name: 'TransformerSeq2Seq tied output',
    make: () => new TransformerSeq2Seq({ ...VOCAB, dModel: 16, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 24, dropout: 0.1, maxLen: 32, tieOutput: true }),
  },
];

const ids = (rows: number[][]): Tensor => tensor(rows, { dtype: 'int32' });

// A batch of three sources, padded to S = 6, and a target input of T = 5.
const SRC_ROWS = [[3, 4, 5, 6, 7, 8], [9, 10, 3, 4, PAD, PAD], [11, 5, PAD, PAD, PAD, PAD]];
const SRC_LENGTHS = [6, 4, 2];
const TGT_IN_ROWS = [[BOS, 3, 4, 5, 6], [BOS, 7, 8, PAD, PAD], [BOS, 9, 10, 11, 3]];

async function logitsOf(model: Model, src: number[][], tgtIn: number[][]): Promise<Float32Array> {
  return (await noGrad(() => model.forward(ids(src), SRC_LENGTHS, ids(tgtIn))).data()) as Float32Array;
}

/** The (B, t+1, V) prefix of flat (B, T, V) logits. */
function prefix(logits: Float32Array, B: number, T: number, t: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) out.push(...logits.subarray(b * T * V, (b * T + t + 1) * V));
  return out;
}

let previousBackend = 'js';
before(() => {
  previousBackend = getBackend();
  setBackend('js');
});
after(() => setBackend(previousBackend));

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    manualSeed(11);
    const model = variant.make();
    model.eval();

    test('teacher-forced logits are (B, T, V) and finite', async () => {
      const logits = noGrad(() => model.forward(ids(SRC_ROWS), SRC_LENGTHS, ids(TGT_IN_ROWS)));
      assert.deepEqual([...logits.shape], [3, 5, V]);
      assert.ok((await logits.data()).every(Number.isFinite));
    });

    test('dropout acts in training mode only', async () => {
      const run = async (): Promise<number[]> => Array.from(await noGrad(() => model.forward(ids(SRC_ROWS), SRC_LENGTHS, ids(TGT_IN_ROWS))).data());
      const evalA = await run();
      assert.deepEqual(await run(), evalA);
      model.train();
      try {
        assert.notDeepEqual(await run(), evalA);
      } finally {
        model.eval();
      }
    });

    test('logits at position t do not depend on target tokens after t', async () => {
      const base = await logitsOf(model, SRC_ROWS, TGT_IN_ROWS);
      for (const t of [0, 2, 3]) {
        const changed = TGT_IN_ROWS.map((row) => row.map((tok, i) => (i > t ? 3 + ((tok * 7 + i) % 9) : tok)));
        const other = await logitsOf(model, SRC_ROWS, changed);
        assertClose(prefix(other, 3, 5, t), prefix(base, 3, 5, t), { atol: 1e-6, rtol: 1e-5, what: `logits up to t=${t}` });
        assert.notDeepEqual(Array.from(other), Array.from(base), 'later positions should change');
      }
    });

    test('logits do not depend on what sits in padded source positions', async () => {
      const base = await logitsOf(model, SRC_ROWS, TGT_IN_ROWS);
      const noisy = SRC_ROWS.map((row, b) => row.map((tok, s) => (s >= SRC_LENGTHS[b]! ? 3 + ((b * 5 + s * 3) % 9) : tok)));
      assertClose(await logitsOf(model, noisy, TGT_IN_ROWS), base, { atol: 1e-6, rtol: 1e-5, what: 'logits' });
    });

    test('the stepper fed 20 given tokens gives teacher forcing\'s log-probabilities at every step (past the first cache capacity)', async () => {
      const T = 20;
      const tgtIn = SRC_ROWS.map((_, b) => [BOS, ...Array.from({ length: T - 1 }, (_, i) => 3 + ((b * 5 + i * 7) % 9))]);
      const want = (await noGrad(() => model.forward(ids(SRC_ROWS), SRC_LENGTHS, ids(tgtIn)).logSoftmax(-1)).data()) as Float32Array;
      await noGrad(async () => {
        let { stepper, initial: state } = model.stepper(ids(SRC_ROWS), SRC_LENGTHS);
        for (let t = 0; t < T; t++) {
          const r = stepper.step(Tensor.fromBuffer(Int32Array.from(tgtIn, (row) => row[t]!), [3]), state, t);
          const got = Array.from(await r.logProbs.data());
          for (let b = 0; b < 3; b++) {
            assertClose(got.slice(b * V, (b + 1) * V), Array.from(want.subarray((b * T + t) * V, (b * T + t + 1) * V)), { atol: 1e-5, what: `sentence ${b}, step ${t}` });
          }
          state = r.state;
        }
      });
    });

    test('greedy search through the stepper = argmax of teacher forcing fed its own output; beam 1 = greedy', async () => {
      const src = ids(SRC_ROWS);
      const maxLength = 6;
      const opts = { bos: BOS, eos: EOS, maxLength };
      const { stepper, initial } = model.stepper(src, SRC_LENGTHS);
      const greedy = await greedySearch(stepper, initial, 3, opts);
      // Feed [BOS, y_1..y_n] back with teacher forcing: argmax at i must be y_{i+1} (or EOS after y_n).
      const T = maxLength;
      const tgtIn = greedy.map((h) => [BOS, ...h.tokens, ...new Array<number>(T).fill(PAD)].slice(0, T));
      const logits = noGrad(() => model.forward(src, SRC_LENGTHS, ids(tgtIn)));
      const logProbs = (await noGrad(() => logits.logSoftmax(-1)).data()) as Float32Array;
      const lpAt = (b: number, i: number, tok: number): number => logProbs[(b * T + i) * V + tok]!;
      greedy.forEach((h, b) => {
        const expected = h.tokens.length < maxLength ? [...h.tokens, EOS] : h.tokens;
        let sum = 0;
        expected.forEach((tok, i) => {
          const row = logProbs.subarray((b * T + i) * V, (b * T + i + 1) * V);
          const best = row.indexOf(Math.max(...row));
          assert.equal(best, tok, `sentence ${b}, step ${i}`);
          sum += row[tok]!;
        });
        assertClose([h.logProb], [sum], { atol: 1e-4, what: `log-probability of sentence ${b}` });
      });
      // Beam 1 walks the greedy path. Like fairseq's, search.ts keeps an EOS ending branched off that
      // path as a finished hypothesis, and returns it when it scores higher than the full path; so the
      // answer is a prefix y_1..y_k of the greedy output (+ EOS), never scoring below greedy's.
      const fresh = model.stepper(src, SRC_LENGTHS);
      const beam = (await beamSearch(fresh.stepper, fresh.initial, 3, { ...opts, beamSize: 1 })).map((n) => n[0]!);
      beam.forEach((h, b) => {
        const path = greedy[b]!.tokens;
        assert.deepEqual(h.tokens, path.slice(0, h.tokens.length), `beam 1 left the greedy path in sentence ${b}`);
        const k = h.tokens.length;
        const pathLogProb = h.tokens.reduce((acc, tok, i) => acc + lpAt(b, i, tok), 0) + (k < maxLength ? lpAt(b, k, EOS) : 0);
        assertClose([h.logProb], [pathLogProb], { atol: 1e-4, what: `beam-1 log-probability of sentence ${b}` });
        assert.ok(h.logProb >= greedy[b]!.logProb - 1e-4, `beam 1 scored below greedy in sentence ${b}`);
        if (k === path.length) assertClose([h.logProb], [greedy[b]!.logProb], { atol: 1e-4, what: 'same hypothesis, same score' });
      });
      assert.deepEqual(await model.translate(src, SRC_LENGTHS, { maxLength }), greedy.map((h) => h.tokens));
      // A wider beam runs (select reorders the state) and returns one hypothesis per sentence.
      const wide = await model.translate(src, SRC_LENGTHS, { maxLength, beamSize: 3 });
      assert.equal(wide.length, 3);
      assert.ok(wide.every((tokens) => tokens.length <= maxLength));
    });
  });
}

describe('attention weights', () => {
  const checkRows = (w: ArrayLike<number>, rows: number, S: number, lengths: (row: number) => number, what: string): void => {
    for (let r = 0; r < rows; r++) {
      const row = Array.from(w).slice(r * S, (r + 1) * S);
      assertClose([row.reduce((a, b) => a + b, 0)], [1], { atol: 1e-5, what: `${what} row ${r} sum` });
      assert.ok(row.slice(lengths(r)).every((x) => x === 0), `${what} row ${r}: nonzero weight on padding ${JSON.stringify(row)}`);
    }
  };

  test('AttentionSeq2Seq: (B, T, S), rows sum to 1, zero on padding; the stepper returns the same weights', async () => {
    manualSeed(3);
    const model = new AttentionSeq2Seq({ ...VOCAB, embDim: 8, encoderHidden: 6, decoderHidden: 12, attentionDim: 10 }).eval();
    const { attention } = noGrad(() => model.forwardWithAttention(ids(SRC_ROWS), SRC_LENGTHS, ids(TGT_IN_ROWS)));
    assert.deepEqual([...attention.shape], [3, 5, 6]);
    checkRows(await attention.data(), 15, 6, (r) => SRC_LENGTHS[Math.floor(r / 5)]!, 'teacher forcing');
    const { stepper, initial } = model.stepper(ids(SRC_ROWS), SRC_LENGTHS);
    const hyps = await greedySearch(stepper, initial, 3, { bos: BOS, eos: EOS, maxLength: 4 });
    for (const [b, h] of hyps.entries()) {
      assert.ok(h.attention && h.attention.length >= 1);
      checkRows(h.attention.flat(), h.attention.length, 6, () => SRC_LENGTHS[b]!, `step weights ${b}`);
      // Step 0 reads the same weights as teacher forcing at t = 0 (both start from BOS and s_0).
      assertClose(h.attention[0]!, Array.from(await attention.data()).slice(b * 30, b * 30 + 6), { atol: 1e-6, what: 'step-0 weights' });
    }
  });

  test('TransformerSeq2Seq: every layer and head, (B, H, T, S); cross and encoder attention zero on source padding, self-attention causal', async () => {
    manualSeed(4);
    const model = new TransformerSeq2Seq({ ...VOCAB, dModel: 16, nHead: 2, numEncoderLayers: 2, numDecoderLayers: 3, dimFeedforward: 24, maxLen: 32 }).eval();
    const r = noGrad(() => model.forwardWithAttention(ids(SRC_ROWS), SRC_LENGTHS, ids(TGT_IN_ROWS)));
    assert.equal(r.encoderAttentions.length, 2);
    assert.equal(r.decoderSelfAttentions.length, 3);
    assert.equal(r.decoderCrossAttentions.length, 3);
    for (const w of r.decoderCrossAttentions) {
      assert.deepEqual([...w.shape], [3, 2, 5, 6]);
      checkRows(await w.data(), 30, 6, (row) => SRC_LENGTHS[Math.floor(row / 10)]!, 'cross');
    }
    for (const w of r.encoderAttentions) {
      assert.deepEqual([...w.shape], [3, 2, 6, 6]);
      checkRows(await w.data(), 36, 6, (row) => SRC_LENGTHS[Math.floor(row / 12)]!, 'encoder');
    }
    for (const w of r.decoderSelfAttentions) {
      assert.deepEqual([...w.shape], [3, 2, 5, 5]);
      // Query t sees keys <= t, minus target padding (sentence 1 is padded from position 3).
      const data = await w.data();
      for (let row = 0; row < 30; row++) {
        const t = row % 5;
        const b = Math.floor(row / 10);
        const vals = Array.from(data.slice(row * 5, row * 5 + 5));
        assertClose([vals.reduce((a, x) => a + x, 0)], [1], { atol: 1e-5, what: 'self row sum' });
        vals.forEach((x, s) => { if (s > t || (b === 1 && s >= 3)) assert.equal(x, 0, `self-attention b${b} t${t} s${s}`); });
      }
    }
    const { stepper, initial } = model.stepper(ids(SRC_ROWS), SRC_LENGTHS);
    const hyps = await greedySearch(stepper, initial, 3, { bos: BOS, eos: EOS, maxLength: 3 });
    for (const [b, h] of hyps.entries()) checkRows(h.attention!.flat(), h.attention!.length, 6, () => SRC_LENGTHS[b]!, `step weights ${b}`);
  });

  test('a bool source padding mask works in place of lengths', async () => {
    manualSeed(5);
    const model = new TransformerSeq2Seq({ ...VOCAB, dModel: 8, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8, maxLen: 16 }).eval();
    const mask = tensor(SRC_ROWS.map((row, b) => row.map((_, s) => s >= SRC_LENGTHS[b]!)), { dtype: 'bool' });
    const a = await noGrad(() => model.forward(ids(SRC_ROWS), SRC_LENGTHS, ids(TGT_IN_ROWS))).data();
    const b = await noGrad(() => model.forward(ids(SRC_ROWS), mask, ids(TGT_IN_ROWS))).data();
    assert.deepEqual(Array.from(b), Array.from(a));
  });
});

describe('parameters and configs', () => {
  test('state-dict keys follow PyTorch submodule names', async () => {
    const s2s = new Seq2Seq({ ...VOCAB, cell: 'lstm', embDim: 4, hidden: 6, numLayers: 2 });
    const keys = Object.keys(s2s.stateDict());
    for (const k of ['encoder.embedding.weight', 'encoder.rnn.weight_ih_l0', 'encoder.rnn.weight_hh_l1', 'decoder.rnn.bias_hh_l1', 'decoder.fc_out.weight', 'decoder.fc_out.bias']) {
      assert.ok(keys.includes(k), `Seq2Seq missing ${k}`);
    }
    assert.deepEqual([...s2s.stateDict()['encoder.rnn.weight_ih_l0']!.shape], [24, 4]);
    const cho = new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 4, hidden: 6, numLayers: 2, feedContext: true, maxout: 3 });
    const choShapes = Object.fromEntries(Object.entries(cho.stateDict()).map(([k, t]) => [k, [...t.shape]]));
    assert.deepEqual(
      [choShapes['decoder.rnn.weight_ih_l0'], choShapes['decoder.rnn.weight_ih_l1'], choShapes['decoder.readout.weight'], choShapes['decoder.fc_out.weight']],
      [[18, 4 + 6], [18, 6], [6, 6 + 6 + 4], [V, 3]], 'Cho: [E y; c] into the first layer, [h; c; E y] into the 2l-unit readout, l maxout units into fc_out');

    const att = new AttentionSeq2Seq({ ...VOCAB, embDim: 4, encoderHidden: 3, decoderHidden: 5, attentionDim: 7 });
    const shapes = Object.fromEntries(Object.entries(att.stateDict()).map(([k, t]) => [k, [...t.shape]]));
    assert.deepEqual(shapes['encoder.rnn.weight_ih_l0_reverse'], [9, 4]);
    assert.deepEqual(shapes['encoder.fc.weight'], [5, 3]);
    assert.deepEqual(shapes['decoder.attention.W.weight'], [7, 5]);
    assert.deepEqual(shapes['decoder.attention.U.weight'], [7, 6]);
    assert.deepEqual(shapes['decoder.attention.v.weight'], [1, 7]);
    assert.deepEqual(shapes['decoder.rnn.weight_ih'], [15, 10]);
    assert.deepEqual(shapes['decoder.fc_out.weight'], [V, 5 + 6 + 4]);
    assert.ok(!('decoder.readout.weight' in shapes), 'no deep output unless asked');

    // Bahdanau's maxout deep output: readout (2l, features), then the larger unit of each pair.
    const mx = new AttentionSeq2Seq({ ...VOCAB, embDim: 4, encoderHidden: 3, decoderHidden: 5, maxout: 2 });
    const mxShapes = Object.fromEntries(Object.entries(mx.stateDict()).map(([k, t]) => [k, [...t.shape]]));
    assert.deepEqual([mxShapes['decoder.readout.weight'], mxShapes['decoder.readout.bias'], mxShapes['decoder.fc_out.weight']], [[4, 15], [4], [V, 2]]);
    const features = [Array.from({ length: 15 }, (_, i) => (i % 4) - 1.5)];
    const rw = Array.from(mx.decoder.readout!.weight.buffer!), rb = Array.from(mx.decoder.readout!.bias!.buffer!);
    const t = [0, 1, 2, 3].map((u) => rb[u]! + features[0]!.reduce((a, x, j) => a + x * rw[u * 15 + j]!, 0));
    const top = [Math.max(t[0]!, t[1]!), Math.max(t[2]!, t[3]!)];
    const fw = Array.from(mx.decoder.fc_out.weight.buffer!), fb = Array.from(mx.decoder.fc_out.bias!.buffer!);
    const expected = Array.from({ length: V }, (_, v) => fb[v]! + top[0]! * fw[v * 2]! + top[1]! * fw[v * 2 + 1]!);
    assertClose(Array.from(await noGrad(() => mx.decoder.output(tensor(features))).data()), expected, { atol: 1e-5, what: 'maxout output' });
    assert.throws(() => new AttentionSeq2Seq({ ...VOCAB, maxout: -1 }), /maxout must be a non-negative integer, got -1/);

    const tr = new TransformerSeq2Seq({ ...VOCAB, dModel: 8, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8, maxLen: 16, shareEmbeddings: true });
    const sd = tr.stateDict();
    for (const k of ['src_tok_emb.weight', 'tgt_tok_emb.weight', 'generator.weight', 'generator.bias', 'transformer.encoder.layers.0.self_attn.in_proj_weight',
      'transformer.decoder.layers.0.multihead_attn.out_proj.weight', 'transformer.decoder.norm.weight']) assert.ok(k in sd, `Transformer missing ${k}`);
    assert.ok(!Object.keys(sd).some((k) => k.includes('positions')), 'sinusoids are not saved');
    assert.equal(sd['generator.weight'], sd['src_tok_emb.weight'], 'tied output projection');
    assert.equal(sd['tgt_tok_emb.weight'], sd['src_tok_emb.weight'], 'shared embeddings');
    const names = tr.namedParameters().map(([k]) => k);
    assert.equal(names.filter((k) => k.endsWith('tok_emb.weight') || k === 'generator.weight').length, 1, 'a tied matrix is one parameter');
    const tied = new TransformerSeq2Seq({ ...VOCAB, tgtVocabSize: 20, dModel: 8, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8, maxLen: 16, tieOutput: true });
    const tsd = tied.stateDict();
    assert.equal(tsd['generator.weight'], tsd['tgt_tok_emb.weight'], 'tieOutput: the output projection is the target embedding');
    assert.notEqual(tsd['src_tok_emb.weight'], tsd['tgt_tok_emb.weight'], 'tieOutput keeps two vocabularies');
    assert.deepEqual([...tsd['generator.weight']!.shape], [20, 8]);
    assert.equal(tied.namedParameters().length, names.length + 1, 'one matrix fewer than untied, one more than all shared');
    const learned = new TransformerSeq2Seq({ ...VOCAB, dModel: 8, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8, maxLen: 16, positions: 'learned' });
    assert.deepEqual([...learned.stateDict()['tgt_positions.weight']!.shape], [16, 8]);
  });

  test('reverseSource reads each sentence backwards and keeps its padding at the end (Sutskever §3.3)', async () => {
    const reversed = new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 6, hidden: 8, numLayers: 2, feedContext: true, maxout: 3, reverseSource: true });
    const plain = new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 6, hidden: 8, numLayers: 2, feedContext: true, maxout: 3 });
    await plain.loadStateDict(reversed.stateDict());
    reversed.eval();
    plain.eval();
    const byHand = SRC_ROWS.map((row, b) => [...row.slice(0, SRC_LENGTHS[b]).reverse(), ...row.slice(SRC_LENGTHS[b])]);
    assert.deepEqual(byHand[1], [4, 3, 10, 9, PAD, PAD]);
    const [a, e] = [await logitsOf(reversed, SRC_ROWS, TGT_IN_ROWS), await logitsOf(plain, byHand, TGT_IN_ROWS)];
    assertClose(Array.from(a), Array.from(e), { atol: 1e-6 });
    assert.notDeepEqual(Array.from(a), Array.from(await logitsOf(plain, SRC_ROWS, TGT_IN_ROWS)), 'the order matters to the encoder');
    assert.deepEqual(Array.from(await reversedSourceIndex([3, 1], 4).data()), [2, 1, 0, 3, 0, 1, 2, 3]);
  });

  test('config errors name the model and the problem', () => {
    assert.throws(() => new Seq2Seq({ ...VOCAB, bosId: PAD }), /Seq2Seq: bosId and padId must differ/);
    assert.throws(() => new AttentionSeq2Seq({ ...VOCAB, attention: 'dot', encoderHidden: 4, decoderHidden: 6 }), /'dot' attention needs decoderHidden \(6\) = 2 \* encoderHidden \(8\)/);
    assert.throws(() => new TransformerSeq2Seq({ ...VOCAB, tgtVocabSize: 20, shareEmbeddings: true, dModel: 8, nHead: 2 }), /shareEmbeddings needs one vocabulary/);
    const m = new Seq2Seq({ ...VOCAB, embDim: 4, hidden: 4, numLayers: 1 });
    assert.throws(() => m.forward(ids(SRC_ROWS), [6, 7, 2], ids(TGT_IN_ROWS)), /srcLengths must be integers in \[1, S=6\]/);
    assert.throws(() => m.forward(tensor([[3, 4]]), [2], ids([[BOS]])), /src must be int32/);
  });
});

// ---- training ---------------------------------------------------------------------------------------

/** Reverse sequences of 2..5 symbols: the smoke test of every translation model. */
function reversalBatches(count: number, batch: number, g: Generator): { src: Tensor; lengths: number[]; tgtIn: Tensor; tgtOut: Tensor }[] {
  const S = 5, T = S + 1, symbols = 6;
  return Array.from({ length: count }, () => {
    const seqs = Array.from({ length: batch }, () => Array.from({ length: 2 + Math.floor(g.random() * (S - 1)) }, () => 3 + Math.floor(g.random() * symbols)));
    const pad = (row: number[], n: number): number[] => [...row, ...new Array<number>(n - row.length).fill(PAD)];
    return {
      src: ids(seqs.map((s) => pad(s, S))),
      lengths: seqs.map((s) => s.length),
      tgtIn: ids(seqs.map((s) => pad([BOS, ...[...s].reverse()], T))),
      tgtOut: ids(seqs.map((s) => pad([...[...s].reverse(), EOS], T))),
    };
  });
}

/** Adam (Kingma & Ba 2015) written out: the whole step is one realize of [loss, parameters, moments]. */
async function train(model: Model, steps: number, lr: number): Promise<{ first: number; last: number }> {
  const g = new Generator(21);
  const batches = reversalBatches(8, 16, g);
  const params: Parameter[] = model.parameters();
  let m = params.map((p) => tensor(new Float32Array(p.size), { shape: p.shape }));
  let v = params.map((p) => tensor(new Float32Array(p.size), { shape: p.shape }));
  const [beta1, beta2, eps] = [0.9, 0.98, 1e-9];
  const losses: number[] = [];
  model.train();
  for (let step = 1; step <= steps; step++) {
    const batch = batches[step % batches.length]!;
    const logits = model.forward(batch.src, batch.lengths, batch.tgtIn); // (B, T, V)
    const loss = crossEntropy(logits.reshape([-1, V]), batch.tgtOut.reshape([-1]), { ignoreIndex: PAD });
    for (const p of params) p.grad = null;
    loss.backward();
    const [nextP, nextM, nextV] = noGrad(() => {
      const ms = params.map((p, i) => m[i]!.mul(beta1).add(p.grad!.mul(1 - beta1)));
      const vs = params.map((p, i) => v[i]!.mul(beta2).add(p.grad!.mul(p.grad!).mul(1 - beta2)));
      const stepSize = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      const ps = params.map((p, i) => p.sub(ms[i]!.div(vs[i]!.sqrt().add(eps)).mul(stepSize)));
      return [ps, ms, vs];
    });
    await realize(loss, ...nextP, ...nextM, ...nextV);
    params.forEach((p, i) => p.assign(nextP[i]!));
    [m, v] = [nextM, nextV];
    losses.push(await loss.item());
  }
  model.eval();
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(losses.slice(0, 4)), last: mean(losses.slice(-4)) };
}

describe('training on sequence reversal (js backend, Adam)', () => {
  const cases: { name: string; make: () => Model; steps: number; lr: number }[] = [
    { name: 'Seq2Seq', make: () => new Seq2Seq({ ...VOCAB, cell: 'gru', embDim: 16, hidden: 32, numLayers: 1, dropout: 0 }), steps: 80, lr: 0.02 },
    { name: 'AttentionSeq2Seq', make: () => new AttentionSeq2Seq({ ...VOCAB, embDim: 16, encoderHidden: 16, decoderHidden: 32, attentionDim: 16, dropout: 0 }), steps: 60, lr: 0.01 },
    {
      name: 'TransformerSeq2Seq',
      make: () => new TransformerSeq2Seq({ ...VOCAB, dModel: 32, nHead: 4, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 64, dropout: 0, maxLen: 16 }),
      steps: 60, lr: 0.005,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: the loss falls clearly`, async (t) => {
      manualSeed(8);
      const started = performance.now();
      const { first, last } = await train(c.make(), c.steps, c.lr);
      t.diagnostic(`loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${c.steps} steps, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      assert.ok(last < 0.6 * first, `loss ${first} -> ${last}`);
    });
  }
});
