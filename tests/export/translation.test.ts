/**
 * `exportOnnx` for translation folders, every model of the ladder (GRU and 2-layer LSTM Seq2Seq,
 * additive and 'general' attention, post-norm Transformer and a pre-norm one with learned positions,
 * GELU and shared embeddings), each trained a few epochs on a tiny parallel file so decoding emits
 * several tokens:
 *   - the graphs in plain onnxruntime-node (imported directly) give zhuyi's teacher-forced
 *     log-probabilities within 1e-4 for a padded batch of two and, from the same files, a batch of
 *     three with other lengths (the axes are dynamic);
 *   - the isomorphic runner's greedy translation equals zhuyi's greedy search token for token (the
 *     in-library RNN encoders there run their cell loop, the exported ones ONNX's GRU / LSTM), its
 *     log-probability within 1e-4, and its attention equals zhuyi's (the Transformer: every layer's
 *     and head's cross-attention; the attention RNN: the alignment of each step).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Tensor, logSoftmax, noGrad } from '../../src/index.js';
import { translateWith } from '../../src/models/translate/common.js';
import type { TransformerSeq2Seq } from '../../src/models/translate/transformer.js';
import type { AttentionSeq2Seq } from '../../src/models/translate/attention-seq2seq.js';
import { type ModelKind, type Translator, loadTranslator, trainTranslator } from '../../src/translate/translator.js';
import { exportOnnx } from '../../src/export/export.js';
import { ExportedTranslator, loadExport } from '../../src/export/runner.js';
import type { TranslationManifest } from '../../src/export/manifest.js';
import { assertClose } from '../helpers.js';

const root = mkdtempSync(join(tmpdir(), 'zhuyi-export-tr-'));
after(() => rmSync(root, { recursive: true, force: true }));

const WORDS = ['red', 'green', 'blue', 'cat', 'dog', 'sun', 'big'];
const SENTENCES = ['red cat dog', 'big sun blue green', 'dog', 'unknownword red', ''];

before(() => {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    const w = Array.from({ length: 2 + (i % 4) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]!);
    lines.push(`${w.join(' ')}\t${[...w].reverse().map((x) => x.toUpperCase()).join(' ')}`);
  }
  writeFileSync(join(root, 'data.tsv'), `${lines.join('\n')}\n`);
});

async function trained(name: string, kind: ModelKind, modelOptions: Record<string, unknown>, targetTokenizer: 'word' | 'char' = 'word'): Promise<{ translator: Translator; out: string }> {
  const dir = join(root, name);
  const data = join(root, 'data.tsv');
  await trainTranslator({
    model: kind, size: 'tiny', modelOptions, train: data, valid: data, targetTokenizer, outDir: dir,
    epochs: 12, batchTokens: 128, lr: 3e-3, seed: 3, validDecode: 4, progress: false,
  });
  const out = join(root, `${name}-onnx`);
  await exportOnnx(dir, out);
  return { translator: await loadTranslator(dir), out };
}

const i64 = (values: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values, (x) => BigInt(x)), dims);

/**
 * Teacher forcing through the exported graphs for a padded batch: every step's log_probs (B, V)
 * against zhuyi's logSoftmax(forward(src, lengths, tgtIn)) at that position.
 */
async function checkBatch(t: Translator, out: string, manifest: TranslationManifest, sources: string[], targets: string[]): Promise<void> {
  const encoder = await ort.InferenceSession.create(join(out, 'encoder.onnx'));
  const decoder = await ort.InferenceSession.create(join(out, 'decoder.onnx'));
  const { bosId, padId } = manifest.config;
  const src = sources.map((s) => t.source.encode(s));
  const tgt = targets.map((s) => t.target.encode(s));
  const B = src.length;
  const S = Math.max(...src.map((r) => r.length));
  const T = Math.max(...tgt.map((r) => r.length)) + 1;
  const srcFlat = src.flatMap((r) => [...r, ...Array<number>(S - r.length).fill(padId)]);
  const tgtIn = tgt.map((r) => [bosId, ...r, ...Array<number>(T - 1 - r.length).fill(padId)]);
  const lengths = src.map((r) => r.length);
  const want = await noGrad(() => logSoftmax(t.model.forward(Tensor.fromBuffer(Int32Array.from(srcFlat), [B, S]), lengths, Tensor.fromBuffer(Int32Array.from(tgtIn.flat()), [B, T])), -1)).data();
  const V = manifest.config.tgtVocabSize;
  const encoded = await encoder.run({ src: i64(srcFlat, [B, S]), src_lengths: i64(lengths, [B]) });
  const state: Record<string, ort.Tensor> = {};
  for (const s of manifest.decoding.state) state[s.input] = encoded[s.input]!;
  for (const info of manifest.graphs.decoder.inputs) { // an empty key/value cache to start (past_sequence_length 0)
    if (!state[info.name] && manifest.decoding.state.some((s) => s.input === info.name)) {
      state[info.name] = new ort.Tensor('float32', new Float32Array(0), info.axes.map((a) => (a === 'batch_size' ? B : typeof a === 'number' ? a : 0)));
    }
  }
  for (let step = 0; step < T; step++) {
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(tgtIn.map((r) => r[step]!), [B, 1]) }; // the newest token only
    if (decoder.inputNames.includes('attention_mask')) feeds.attention_mask = i64(tgtIn.flatMap((r) => r.slice(0, step + 1).map((id) => (id === padId ? 0 : 1))), [B, step + 1]);
    for (const input of decoder.inputNames) {
      if (input === 'input_ids' || input === 'attention_mask') continue;
      feeds[input] = state[input] ?? encoded[input] ?? (input === 'src_lengths' ? i64(lengths, [B]) : assert.fail(`no feed for ${input}`));
    }
    const res = await decoder.run(feeds);
    assert.deepEqual(res.log_probs!.dims, [B, V]);
    const expected = new Float32Array(B * V);
    for (let b = 0; b < B; b++) expected.set(want.subarray((b * T + step) * V, (b * T + step + 1) * V) as Float32Array, b * V);
    // Steps past a row's target end read padding; they still must agree (same inputs, same model).
    assertClose(res.log_probs!.data as Float32Array, expected, { atol: 1e-4, rtol: 1e-4, what: `log_probs B=${B} step ${step}` });
    for (const s of manifest.decoding.state) state[s.input] = res[s.output]!;
  }
}

/** The runner's greedy translation against zhuyi's greedy search (and Translator.translate's text). */
async function checkRunner(t: Translator, out: string): Promise<void> {
  // Every decoder run is counted with the shape of its input_ids: one new token per row, never the prefix.
  const decoderFeeds: number[][] = [];
  const exported = await loadExport({
    Tensor: ort.Tensor,
    createSession: async (bytes) => {
      const session = await ort.InferenceSession.create(bytes);
      if (!session.inputNames.includes('input_ids')) return session;
      const run = session.run.bind(session);
      return Object.assign(session, { run: (feeds: Record<string, ort.Tensor>, ...rest: []) => { decoderFeeds.push([...feeds.input_ids!.dims]); return run(feeds, ...rest); } });
    },
    loadFile: async (name) => new Uint8Array(readFileSync(join(out, name))),
  });
  assert.ok(exported instanceof ExportedTranslator);
  let nonEmpty = 0;
  for (const sentence of SENTENCES) {
    const ids = t.source.encode(sentence);
    const src = ids.length ? ids : [t.source.vocab.unkId];
    const S = src.length;
    const [hyp] = await translateWith(t.model, Tensor.fromBuffer(Int32Array.from(src), [1, S]), [S], { maxLength: 2 * S + 10, maxLengthRatio: 2, maxLengthOffset: 10 });
    decoderFeeds.length = 0;
    const got = await exported.translate(sentence);
    // One decoder run per emitted token (and the EOS step unless the cap ended it), each feeding (1, 1).
    assert.equal(decoderFeeds.length, got.stepLogProbs.length);
    assert.ok(decoderFeeds.every((d) => d[0] === 1 && d[1] === 1), JSON.stringify(decoderFeeds));
    // Beam search: the same tokens as zhuyi's beamSearch (model.translate with beamSize 4).
    const opts = { maxLength: 2 * S + 10, maxLengthRatio: 2, maxLengthOffset: 10 };
    const [beam] = await translateWith(t.model, Tensor.fromBuffer(Int32Array.from(src), [1, S]), [S], { ...opts, beamSize: 4 });
    const gotBeam = await exported.translate(sentence, { beamSize: 4 });
    assert.deepEqual(gotBeam.ids, beam!.tokens, `beam tokens of ${JSON.stringify(sentence)}`);
    assert.ok(Math.abs(gotBeam.logProb - beam!.logProb) <= 1e-4, `beam logProb ${gotBeam.logProb} vs ${beam!.logProb}`);
    assert.deepEqual(gotBeam.ids, (await (t.model as unknown as { translate(s: Tensor, l: number[], o: object): Promise<number[][]> })
      .translate(Tensor.fromBuffer(Int32Array.from(src), [1, S]), [S], { ...opts, beamSize: 4 }))[0]);
    assert.ok(decoderFeeds.slice(got.stepLogProbs.length).every((d) => d[1] === 1 && d[0]! <= 4));
    assert.deepEqual(got.ids, hyp!.tokens, `tokens of ${JSON.stringify(sentence)}`);
    assert.ok(Math.abs(got.logProb - hyp!.logProb) <= 1e-4, `logProb ${got.logProb} vs ${hyp!.logProb}`);
    assert.equal(got.text, (await t.translate([sentence]))[0]);
    assert.deepEqual(got.sourceIds, src);
    assert.equal(got.sourceTokens.length, S);
    assert.deepEqual(got.tokens, got.ids.map((id) => t.target.vocab.token(id)));
    if (got.ids.length) nonEmpty++;
    const n = got.ids.length;
    if (t.kind === 'seq2seq') assert.equal(got.attention, null);
    if (t.kind === 'attention') {
      // One layer, one head: the alignment α_i of each emitted token (zhuyi records every step, EOS included).
      assert.deepEqual([got.attention!.length, got.attention![0]!.length, got.attention![0]![0]!.length], [1, 1, n]);
      assertClose(got.attention![0]![0]!.flat(), hyp!.attention!.slice(0, n).flat(), { atol: 1e-5, what: 'alignment' });
      if (n) assertClose(got.attention![0]![0]!.flat(), await crossOfAttentionRnn(t, src, got.ids), { atol: 1e-5, what: 'alignment (teacher forced)' });
    }
    if (t.kind === 'transformer' && n) {
      const model = t.model as unknown as TransformerSeq2Seq;
      const tgtIn = Tensor.fromBuffer(Int32Array.from([model.config.bosId, ...got.ids.slice(0, n - 1)]), [1, n]);
      const cross = noGrad(() => model.forwardWithAttention(Tensor.fromBuffer(Int32Array.from(src), [1, S]), [S], tgtIn).decoderCrossAttentions);
      assert.equal(got.attention!.length, cross.length);
      for (let l = 0; l < cross.length; l++) {
        assert.equal(got.attention![l]!.length, model.config.nHead);
        assertClose(got.attention![l]!.flat(2), await cross[l]!.data(), { atol: 1e-5, what: `cross-attention layer ${l}` });
      }
    }
  }
  assert.ok(nonEmpty >= 2, 'the trained model should emit tokens for most sentences');
}

async function crossOfAttentionRnn(t: Translator, src: number[], out: number[]): Promise<number[]> {
  const model = t.model as unknown as AttentionSeq2Seq;
  const tgtIn = Tensor.fromBuffer(Int32Array.from([model.config.bosId, ...out.slice(0, out.length - 1)]), [1, out.length]);
  const { attention } = noGrad(() => model.forwardWithAttention(Tensor.fromBuffer(Int32Array.from(src), [1, src.length]), [src.length], tgtIn));
  return Array.from(await attention.data());
}

const CASES: [string, ModelKind, Record<string, unknown>, ('word' | 'char')?][] = [
  ['gru', 'seq2seq', {}],
  ['gru-cho', 'seq2seq', { feedContext: true, maxout: 4, numLayers: 2 }],
  ['gru-reversed', 'seq2seq', { reverseSource: true }, 'char'],
  ['lstm2', 'seq2seq', { cell: 'lstm', numLayers: 2 }, 'char'],
  ['additive', 'attention', {}],
  ['general-maxout', 'attention', { attention: 'general', maxout: 6 }],
  ['transformer', 'transformer', {}],
  ['tied', 'transformer', { tieOutput: true, numEncoderLayers: 1 }],
  ['prenorm', 'transformer', { normFirst: true, positions: 'learned', activation: 'gelu', numDecoderLayers: 2, maxLen: 64 }],
];

describe('translation export runs in onnxruntime-node and decodes like zhuyi', () => {
  for (const [name, kind, options, targetTokenizer] of CASES) {
    test(`${name} (${kind} ${JSON.stringify(options)})`, async () => {
      const { translator, out } = await trained(name, kind, options, targetTokenizer);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as TranslationManifest;
      assert.equal(manifest.kind, 'translation');
      assert.equal(manifest.config.modelKind, kind);
      assert.deepEqual(manifest.files.filter((f) => f.endsWith('.onnx')), ['decoder.onnx', 'encoder.onnx']);
      assert.deepEqual(manifest.graphs.decoder.inputs[0], { name: 'input_ids', dtype: 'int64', axes: ['batch_size', 1], doc: 'the previous token (BOS at the first step)' });
      if (kind === 'transformer') { // Optimum's cache names: the encoder's keys and values in, the decoder's carried step to step
        const L = Number(options.numDecoderLayers ?? manifest.config.numDecoderLayers);
        assert.deepEqual(manifest.decoding.state.map((x) => [x.input, x.output]), Array.from({ length: L }, (_, i) => ['key', 'value'].map((w) => [`past_key_values.${i}.decoder.${w}`, `present.${i}.decoder.${w}`])).flat());
        assert.deepEqual(manifest.graphs.encoder.outputs.map((o) => o.name), Array.from({ length: L }, (_, i) => [`past_key_values.${i}.encoder.key`, `past_key_values.${i}.encoder.value`]).flat());
      }
      if (kind === 'attention') { // the keys' projection runs once per sentence, in the encoder
        const keyed = manifest.graphs.decoder.inputs.some((i) => i.name === 'projected_keys');
        assert.equal(keyed, manifest.graphs.encoder.outputs.some((i) => i.name === 'projected_keys'));
        assert.equal(keyed, (options.attention ?? 'additive') !== 'dot');
      }
      // Every encoder is traced with symbolic batch and source length (the RNNs through ONNX's GRU / LSTM).
      assert.deepEqual(manifest.graphs.encoder.inputs.map((i) => [i.name, i.axes]), [['src', ['batch_size', 'src_len']], ['src_lengths', ['batch_size']]]);
      if (kind === 'seq2seq') {
        const { hidden: H, numLayers: L, cell } = manifest.config as unknown as { hidden: number; numLayers: number; cell: string };
        const states = [['state_h', [L, 'batch_size', H]], ...(cell === 'lstm' ? [['state_c', [L, 'batch_size', H]]] : []), ...(options.feedContext ? [['state_context', ['batch_size', H]]] : [])];
        assert.deepEqual(manifest.graphs.encoder.outputs.map((o) => [o.name, o.axes]), states);
      }
      if (kind === 'attention') assert.deepEqual(manifest.graphs.encoder.outputs[0]!.axes, ['batch_size', 'src_len', 2 * Number(manifest.config.encoderHidden)]);
      assert.ok(manifest.tokenizer.source.files.includes('zhuyi-tokenizer.json') && manifest.tokenizer.target.files.includes('zhuyi-tokenizer.json'));
      await checkBatch(translator, out, manifest, ['red cat dog big', 'sun'], ['BIG DOG CAT', 'SUN']);
      await checkBatch(translator, out, manifest, ['blue', 'green dog', 'red red red cat sun big'], ['BLUE', 'DOG GREEN', 'BIG SUN CAT RED RED RED']);
      await checkRunner(translator, out);
    });
  }
});
