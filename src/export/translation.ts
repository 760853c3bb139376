/**
 * A translation folder (zhuyi-translate.json, from `zhuyi translate train`) -> encoder.onnx and
 * decoder.onnx (one decoding step), the source and target tokenizers, and the manifest's decoding
 * recipe (translate-rnn.ts and translate-transformer.ts write the graphs).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import type { AttentionSeq2Seq } from '../models/translate/attention-seq2seq.js';
import type { Seq2Seq } from '../models/translate/seq2seq.js';
import type { TransformerSeq2Seq } from '../models/translate/transformer.js';
import { loadTranslator } from '../translate/pipeline.js';
import { copyFiles } from './folder.js';
import { DECODING_RECIPE, MANIFEST_FORMAT, MANIFEST_VERSION, type TokenizerInfo, type TranslationManifest } from './manifest.js';
import { GraphBuilder } from './onnx-builder.js';
import { type TranslationGraphs, emitAttentionSeq2Seq, emitSeq2Seq } from './translate-rnn.js';
import { emitTransformer } from './translate-transformer.js';
import { Weights } from './weights.js';

const PRODUCER = 'zhuyi';

function copyTokenizer(dir: string, out: string, side: 'source' | 'target'): TokenizerInfo {
  const from = join(dir, side);
  const names = readdirSync(from).filter((n) => !n.startsWith('.') && statSync(join(from, n)).isFile()).sort();
  return {
    kind: 'zhuyi', dir: `tokenizer/${side}`, files: copyFiles(from, out, `tokenizer/${side}`, names),
    rebuild: 'tokenizerFromFiles({name: text}) from zhuyi\'s src/text/files.ts (zhuyi-tokenizer.json names the kind: char, word or bpe)',
  };
}

export async function exportTranslation(dir: string, out: string, opset: number, step: (stage: string) => void = () => {}): Promise<Omit<TranslationManifest, 'files'>> {
  step('loading weights');
  const translator = await loadTranslator(dir);
  const weights = await Weights.of(translator.model, dir);
  step('building the graphs');
  const enc = new GraphBuilder(`${translator.kind}-encoder`);
  const dec = new GraphBuilder(`${translator.kind}-decoder`);
  let graphs: TranslationGraphs;
  if (translator.kind === 'seq2seq') graphs = emitSeq2Seq(enc, dec, weights, translator.model as unknown as Seq2Seq);
  else if (translator.kind === 'attention') graphs = emitAttentionSeq2Seq(enc, dec, weights, translator.model as unknown as AttentionSeq2Seq);
  else graphs = emitTransformer(enc, dec, weights, translator.model as unknown as TransformerSeq2Seq);
  step('writing encoder.onnx, decoder.onnx');
  writeFileAtomic(join(out, 'encoder.onnx'), enc.encode(opset, PRODUCER));
  writeFileAtomic(join(out, 'decoder.onnx'), dec.encode(opset, PRODUCER));
  const config = translator.model.config as unknown as TranslationManifest['config'];
  return {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, kind: 'translation', opset, producer: PRODUCER,
    graphs: {
      encoder: { file: 'encoder.onnx', ...graphs.encoder },
      decoder: { file: 'decoder.onnx', ...graphs.decoder },
    },
    config: { ...config, modelKind: translator.kind },
    decoding: { tokens: graphs.tokens, state: graphs.state, logProbs: 'log_probs', attention: graphs.attention, maxLength: { ratio: 2, offset: 10 }, recipe: DECODING_RECIPE },
    tokenizer: { source: copyTokenizer(dir, out, 'source'), target: copyTokenizer(dir, out, 'target') },
  };
}
