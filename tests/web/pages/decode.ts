/** Greedy decoding of each ladder model on a fixed batch (written once for Node and the page). */
import * as z from '../../../src/index.js';
import type { Tensor } from '../../../src/index.js';

export async function decodeAll(): Promise<Record<string, number[][]>> {
  const out: Record<string, number[][]> = {};
  const vocab = { srcVocabSize: 15, tgtVocabSize: 20, padId: 0, bosId: 2, eosId: 3 };
  const models = {
    seq2seq: () => new z.Seq2Seq({ ...vocab, cell: 'gru', embDim: 16, hidden: 32, numLayers: 1, dropout: 0 } as never),
    attention: () => new z.AttentionSeq2Seq({ ...vocab, embDim: 16, encoderHidden: 16, decoderHidden: 32, dropout: 0 } as never),
    transformer: () => new z.TransformerSeq2Seq({ ...vocab, dModel: 16, nHead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 32, dropout: 0 }),
  };
  for (const [name, make] of Object.entries(models)) {
    z.manualSeed(0);
    const model = make();
    model.eval();
    const src = z.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]], { dtype: 'int32' });
    out[name] = await (model as unknown as { translate(s: Tensor, l: number[], o: object): Promise<number[][]> }).translate(src, [5, 3], { beamSize: 1, maxLength: 20, maxLengthRatio: 2, maxLengthOffset: 10 });
  }
  return out;
}
