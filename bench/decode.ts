/**
 * Greedy decoding with the Multi30k Transformer (`translate train --model transformer --size base`,
 * random weights): B sentences of S source tokens, exactly T output steps (EOS is suppressed so no
 * sentence stops early). Timed twice: the first call (ONNX Runtime compiles the step graphs) and
 * the cached median. bench/pytorch/decode.py is the same decode in PyTorch, the tutorial way
 * (nn.Transformer has no key/value cache: each step reruns the decoder over the prefix).
 */
import * as z from '../src/index.js';
import type { TransformerSeq2Seq } from '../src/models/translate/transformer.js';
import { buildModel, modelPreset } from '../src/translate/translator.js';

export const DECODE = { B: 32, S: 20, T: 40, srcVocab: 7859, tgtVocab: 5921 };

/** The model (eval mode) and one greedy decode of the fixed batch. */
export function decodeSetup(): () => Promise<number[][]> {
  z.setBackend('ort');
  const { B, S, T, srcVocab, tgtVocab } = DECODE;
  z.manualSeed(0);
  const eos = 3;
  const model = buildModel('transformer', { ...modelPreset('transformer', 'base'), srcVocabSize: srcVocab, tgtVocabSize: tgtVocab, padId: 0, bosId: 2, eosId: eos }) as unknown as TransformerSeq2Seq;
  model.eval();
  model.generator.bias!.buffer![eos] = -1e4;
  const src = z.randint(4, srcVocab, [B, S], { generator: new z.Generator(1), dtype: 'int32' });
  const lengths = new Array<number>(B).fill(S);
  return () => model.translate(src, lengths, { maxLength: T });
}
