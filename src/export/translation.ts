/**
 * A translation folder (zhuyi-translate.json, from `zhuyi translate train`) -> encoder.onnx and
 * decoder.onnx (one decoding step), the source and target tokenizers, and the manifest's decoding
 * recipe. Every graph is traced from the model's own code (trace.ts): the encoders' forward and one
 * decoder step. The RNN encoders trace to ONNX's GRU / LSTM (the `gru` / `lstm` ops that nn/rnn.ts
 * runs without gradients), whose sequence_lens keeps the source length a symbol.
 *
 * Every encoder takes src (batch_size, src_len) and src_lengths (batch_size):
 *   seq2seq      state_h (L, batch_size, H) [, state_c] [, state_context (batch_size, H)] out
 *   attention    memory (batch_size, src_len, 2He) (the annotations) [, projected_keys], state_s (s_0) out
 *   transformer  past_key_values.{i}.encoder.key/value out (see below)
 *
 * Every decoder takes the newest token only, input_ids (batch_size, 1), and carries its state:
 *   seq2seq      state_h (L, batch_size, H) [, state_c] in, next_state_h [, next_state_c] out
 *                (and state_context, Cho et al.'s summary c, fed unchanged from the encoder)
 *   attention    state_s (batch_size, Hd) in, next_state_s out; memory, projected_keys, src_lengths
 *                from the encoder; attention (batch_size, src_len) out
 *   transformer  Optimum's names: past_key_values.{i}.decoder.key/value (batch_size, H,
 *                past_sequence_length, Dh) in (empty at the first step), present.{i}.decoder.key/value
 *                out (one position longer); past_key_values.{i}.encoder.key/value, the memory's
 *                cross-attention keys and values, come from the encoder (projected once per
 *                sentence); attention_mask (batch_size, total_sequence_length) in: 0 at padding tokens
 *                of the prefix (the stepper masks tokens equal to padId); cross_attentions (batch_size,
 *                layers, H, src_len) of the new position out
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { tokenizerFileNames } from '../text/io.js';
import type { AttentionSeq2Seq } from '../models/translate/attention-seq2seq.js';
import type { Seq2Seq } from '../models/translate/seq2seq.js';
import type { TransformerSeq2Seq } from '../models/translate/transformer.js';
import { MAX_SOURCE, sourcePaddingMask } from '../models/translate/common.js';
import type { Module } from '../nn/module.js';
import * as F from '../ops/functional.js';
import { noGrad } from '../tensor/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadTranslator } from '../translate/translator.js';
import { copyFiles } from './folder.js';
import { DECODING_RECIPE, MANIFEST_FORMAT, MANIFEST_VERSION, type TokenizerInfo, type TranslationManifest } from './manifest.js';
import { PRODUCER, type TraceInput, type TraceOutput, type TracedGraph, example, exampleSizes, trace } from './trace.js';

function copyTokenizer(dir: string, out: string, side: 'source' | 'target'): TokenizerInfo {
  const from = join(dir, side);
  return {
    kind: 'zhuyi', dir: `tokenizer/${side}`, files: copyFiles(from, out, `tokenizer/${side}`, tokenizerFileNames(from)),
    rebuild: 'tokenizerFromFiles({name: text}) from zhuyi\'s src/text/files.ts (zhuyi-tokenizer.json names the kind: char, word or bpe)',
  };
}

const ids = (B: number, doc = 'the previous token (BOS at the first step)'): TraceInput => example('input_ids', [B, 1], ['batch_size', null], doc, 'int32', 1);
const lengthsInput = (B: number, S: number): TraceInput => example('src_lengths', [B], ['batch_size'], 'real source tokens per row (>= 1)', 'int32', S);
const out = (name: string, tensor: Tensor, doc: string, axes?: (string | number)[]): TraceOutput => ({ name, tensor, doc, ...(axes ? { axes } : {}) });

interface Decoder { graph: TracedGraph; state: { input: string; output: string }[]; attention: { output: string; axes: (string | number)[] } | null }

/** An encoder's inputs, src (B, S) and src_lengths (B), at example sizes that are none of the model's. */
function sourceInputs(model: TranslationModule): { src: TraceInput; lengths: TraceInput; S: number } {
  const [B, S] = exampleSizes(model, 2, Math.min(MAX_SOURCE, model.config.maxLen ?? Infinity), model.config) as [number, number];
  return { src: example('src', [B, S], ['batch_size', 'src_len'], 'source token ids, padded', 'int32', model.config.bosId), lengths: lengthsInput(B, S), S };
}
type TranslationModule = Module & { config: { bosId: number; maxLen?: number } };

/** Sutskever / Cho: the encoder's final states, the decoder's first (and Cho's summary c). */
function seq2seqEncoder(model: Seq2Seq): TracedGraph {
  const { src, lengths } = sourceInputs(model);
  const outputs = noGrad(() => {
    const v = model.encode(src.tensor, lengths.tensor);
    return [
      out('state_h', v.h, 'hidden state per layer'),
      ...(v.c ? [out('state_c', v.c, 'LSTM cell state per layer')] : []),
      ...(v.context ? [out('state_context', v.context, "Cho et al.'s summary c (the encoder's top-layer final state), fed to every step")] : []),
    ];
  });
  return trace('seq2seq-encoder', model, [src, lengths], outputs);
}

/** Bahdanau et al.: the annotations h_j, the keys' projection (once per sentence, A.1.2) and s_0. */
function attentionEncoder(model: AttentionSeq2Seq): TracedGraph {
  const { src, lengths } = sourceInputs(model);
  const score = model.config.attention;
  const outputs = noGrad(() => {
    const { annotations, s0 } = model.encoder.forward(src.tensor, lengths.tensor);
    const keys = score === 'dot' ? [] : [out('projected_keys', model.decoder.attention.projectKeys(annotations), score === 'additive' ? "U_a h_j + b, the keys' share of the scores" : 'W_a h_j')];
    return [out('memory', annotations, 'annotations [h→; h←] (zero at padding)'), ...keys, out('state_s', s0, 's_0 = tanh(W_s h←_1)')];
  });
  return trace('attention-encoder', model, [src, lengths], outputs);
}

/** Sutskever / Cho: one step of every layer from the previous token and the state. */
function seq2seqDecoder(model: Seq2Seq): Decoder {
  const { hidden: H, numLayers: L, cell, feedContext } = model.config;
  const [B] = exampleSizes(model, 1, Infinity, model.config);
  const state = (name: string, doc: string): TraceInput => example(name, [L, B!, H], [null, 'batch_size', null], doc);
  const h = state('state_h', 'hidden state per layer');
  const c = cell === 'lstm' ? state('state_c', 'LSTM cell state per layer') : null;
  const context = feedContext ? example('state_context', [B!, H], ['batch_size', null], "Cho et al.'s summary c (the encoder's top-layer final state)") : null;
  const input = ids(B!);
  const [logits, next] = noGrad(() => model.decoder.forward(input.tensor, { h: h.tensor, c: c?.tensor ?? null, context: context?.tensor ?? null }));
  const outputs = [out('log_probs', F.logSoftmax(F.squeeze(logits, 1), -1), 'log p(next token)'), out('next_state_h', next.h, 's_t per layer')];
  if (c) outputs.push(out('next_state_c', next.c!, 'LSTM cell state per layer'));
  const graph = trace('seq2seq-decoder', model, [input, h, ...(c ? [c] : []), ...(context ? [context] : [])], outputs);
  return { graph, state: [{ input: 'state_h', output: 'next_state_h' }, ...(c ? [{ input: 'state_c', output: 'next_state_c' }] : [])], attention: null };
}

/** Bahdanau et al.: align over the annotations, read, update s. */
function attentionDecoder(model: AttentionSeq2Seq): Decoder {
  const { encoderHidden: He, decoderHidden: Hd, attention: score } = model.config;
  const [B, S] = exampleSizes(model, 2, Infinity, model.config) as [number, number];
  const keyDim = score === 'additive' ? model.config.attentionDim : Hd;
  const input = ids(B);
  const s = example('state_s', [B, Hd], ['batch_size', null], 's_{i-1}');
  const memory = example('memory', [B, S, 2 * He], ['batch_size', 'src_len', null], 'annotations [h→; h←] (zero at padding)');
  const keys = score === 'dot' ? null : example('projected_keys', [B, S, keyDim], ['batch_size', 'src_len', null], score === 'additive' ? "U_a h_j + b, the keys' share of the scores" : 'W_a h_j');
  const lengths = lengthsInput(B, S);
  const outputs = noGrad(() => {
    const d = model.decoder;
    const yEmb = d.embedding.forward(F.squeeze(input.tensor, 1)); // (B, 1) -> (B) -> (B, E)
    const r = d.step(yEmb, s.tensor, memory.tensor, sourcePaddingMask(lengths.tensor, S), keys?.tensor);
    return [out('log_probs', F.logSoftmax(d.output(r.features), -1), 'log p(next token)'), out('next_state_s', r.s, 's_i'), out('attention', r.weights, 'α_i over the source (0 at padding)')];
  });
  const graph = trace('attention-decoder', model, [input, s, memory, ...(keys ? [keys] : []), lengths], outputs);
  return { graph, state: [{ input: 'state_s', output: 'next_state_s' }], attention: { output: 'attention', axes: ['batch_size', 'src_len'] } };
}

/** The Transformer's encoder: memory, and every decoder layer's cross-attention keys and values of it. */
function transformerEncoder(model: TransformerSeq2Seq): TracedGraph {
  const { src, lengths, S } = sourceInputs(model);
  const outputs = noGrad(() => {
    const { memory } = model.encode(src.tensor, sourcePaddingMask(lengths.tensor, S));
    return model.transformer.decoder.initCache(memory).flatMap((c, i) => [
      out(`past_key_values.${i}.encoder.key`, c.crossK, `decoder layer ${i}'s cross-attention keys of the memory`),
      out(`past_key_values.${i}.encoder.value`, c.crossV, `decoder layer ${i}'s cross-attention values of the memory`),
    ]);
  });
  return trace('transformer-encoder', model, [src, lengths], outputs);
}

/** One Transformer decoder step with a key/value cache (TransformerSeq2Seq.stepper's step, appending instead of writing into a slot). */
function transformerDecoder(model: TransformerSeq2Seq): Decoder {
  const { nHead: H, dModel: D, numDecoderLayers: M } = model.config;
  // The past's length P and the tokens so far, P + 1 (the new one included), are both symbols.
  const [B, S, P] = exampleSizes(model, 3, model.config.maxLen - 1, model.config, (n, taken) => !taken.has(n + 1)) as [number, number, number];
  const kv = (i: number, side: 'decoder' | 'encoder', which: 'key' | 'value'): TraceInput => example(`past_key_values.${i}.${side}.${which}`, [B, H, side === 'decoder' ? P : S, D / H],
    ['batch_size', null, side === 'decoder' ? 'past_sequence_length' : 'src_len', null], side === 'decoder' ? `layer ${i}'s self-attention ${which}s of the tokens so far` : `layer ${i}'s cross-attention ${which}s (from the encoder)`);
  const input = ids(B);
  const lengths = lengthsInput(B, S);
  const mask = example('attention_mask', [B, P + 1], ['batch_size', 'total_sequence_length'], '1 for the tokens so far (BOS first, the new one last), 0 for padding', 'int32', 1);
  const past = Array.from({ length: M }, (_, i) => ({ selfK: kv(i, 'decoder', 'key'), selfV: kv(i, 'decoder', 'value'), crossK: kv(i, 'encoder', 'key'), crossV: kv(i, 'encoder', 'value') }));
  const present = ['batch_size', H, 'total_sequence_length', D / H];
  const outputs = noGrad(() => {
    const position = F.reshape(F.sum(F.constant(1, [P], 'int32')), [1]); // the new token's position: the past's length
    const x = model.tgt_positions.forward(F.mul(model.tgt_tok_emb.forward(input.tensor), Math.sqrt(D)), position); // (B, 1, D)
    const caches = past.map((p) => ({ selfK: p.selfK.tensor, selfV: p.selfV.tensor, crossK: p.crossK.tensor, crossV: p.crossV.tensor }));
    const dec = model.transformer.decoder.step(x, caches, sourcePaddingMask(lengths.tensor, S), F.eq(mask.tensor, 0)); // padding keys masked, as the stepper's eq(tokens, pad)
    const cross = F.stack(dec.crossAttentions.map((a) => F.squeeze(a, 2)), 1); // M x (B, H, 1, S) -> (B, M, H, S)
    return [
      out('log_probs', F.logSoftmax(model.generator.forward(F.squeeze(dec.output, 1)), -1), 'log p(next token)'),
      ...dec.caches.flatMap((c, i) => [
        out(`present.${i}.decoder.key`, c.selfK!, `layer ${i}'s self-attention keys, the new token's appended`, present),
        out(`present.${i}.decoder.value`, c.selfV!, `layer ${i}'s self-attention values, the new token's appended`, present),
      ]),
      out('cross_attentions', cross, 'cross-attention of every decoder layer and head at the new position'),
    ];
  });
  const graph = trace('transformer-decoder', model, [input, mask, lengths, ...past.flatMap((p) => [p.selfK, p.selfV, p.crossK, p.crossV])], outputs);
  const state = past.flatMap((_, i) => ['key', 'value'].map((w) => ({ input: `past_key_values.${i}.decoder.${w}`, output: `present.${i}.decoder.${w}` })));
  return { graph, state, attention: { output: 'cross_attentions', axes: ['batch_size', M, H, 'src_len'] } };
}

export async function exportTranslation(dir: string, out: string, opset: number, step: (stage: string) => void = () => {}): Promise<Omit<TranslationManifest, 'files'>> {
  step('loading weights');
  const translator = await loadTranslator(dir);
  const model = (translator.model as unknown as Module).eval();
  step('tracing the graphs');
  const [encoder, decoder] = translator.kind === 'transformer' ? [transformerEncoder(model as TransformerSeq2Seq), transformerDecoder(model as TransformerSeq2Seq)]
    : translator.kind === 'seq2seq' ? [seq2seqEncoder(model as Seq2Seq), seq2seqDecoder(model as Seq2Seq)]
      : [attentionEncoder(model as AttentionSeq2Seq), attentionDecoder(model as AttentionSeq2Seq)];
  step('writing encoder.onnx, decoder.onnx');
  writeFileAtomic(join(out, 'encoder.onnx'), encoder.encode(opset));
  writeFileAtomic(join(out, 'decoder.onnx'), decoder.graph.encode(opset));
  const config = translator.model.config as unknown as TranslationManifest['config'];
  return {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, kind: 'translation', opset, producer: PRODUCER,
    graphs: {
      encoder: encoder.info('encoder.onnx'),
      decoder: decoder.graph.info('decoder.onnx'),
    },
    config: { ...config, modelKind: translator.kind },
    decoding: { tokens: 'last', state: decoder.state, logProbs: 'log_probs', attention: decoder.attention, maxLength: { ratio: 2, offset: 10 }, recipe: DECODING_RECIPE },
    tokenizer: { source: copyTokenizer(dir, out, 'source'), target: copyTokenizer(dir, out, 'target') },
  };
}
