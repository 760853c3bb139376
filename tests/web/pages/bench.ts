/**
 * Steps per second of one model's training step, written once for Node and the page (as steps.ts):
 * the Train tab's Transformer (modelPreset small: d_model 128, 2+2 layers, FF 512) on a fixed batch
 * of 64 rows, source 12 and target 16 tokens, AdamW, dropout 0.1. The first steps (session creation)
 * are not timed.
 */
import * as z from '../../../src/index.js';

export async function transformerStepsPerSecond(steps = 10, warmup = 2): Promise<{ stepsPerSecond: number; backend: string; threads: number }> {
  z.manualSeed(0);
  const model = new z.TransformerSeq2Seq({
    srcVocabSize: 16, tgtVocabSize: 40, padId: 0, bosId: 2, eosId: 3,
    dModel: 128, nHead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 512, dropout: 0.1,
  });
  model.train();
  const gen = new z.Generator(1);
  const rows = (n: number, len: number, vocab: number) => Array.from({ length: n }, () => Array.from({ length: len }, () => 4 + Math.floor(gen.random() * (vocab - 4))));
  const src = z.tensor(rows(64, 12, 16), { dtype: 'int32' });
  const tgt = rows(64, 16, 40);
  const tgtIn = z.tensor(tgt.map((r) => [2, ...r.slice(0, 15)]), { dtype: 'int32' });
  const tgtOut = z.tensor(tgt, { dtype: 'int32' });
  const lengths = Array.from({ length: 64 }, () => 12);
  const optimizer = new z.optim.AdamW(model.parameters(), { lr: 1e-3 });
  let started = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) started = performance.now();
    const logits = model.forward(src, lengths, tgtIn);
    const loss = z.crossEntropy(logits.reshape([-1, 40]), tgtOut.reshape([-1]), { ignoreIndex: 0, labelSmoothing: 0.1 });
    optimizer.zeroGrad();
    loss.backward();
    await optimizer.step(loss);
    await loss.item();
  }
  return { stepsPerSecond: steps / ((performance.now() - started) / 1000), backend: z.getBackend(), threads: z.ortConfig().threads };
}
