/**
 * One training step of the Multi30k GRU + attention model (`translate train --model attention
 * --size base`) on a fixed (B, S, T) batch: forward, label-smoothed cross-entropy, backward,
 * gradient clipping and AdamW, realized in one ort call. bench/pytorch/attention_step.py is the
 * same step in PyTorch.
 */
import * as z from '../src/index.js';
import { AdamW } from '../src/optim/index.js';
import { buildModel, modelPreset } from '../src/translate/pipeline.js';

export const ATTENTION_STEP = { B: 170, S: 24, T: 24, srcVocab: 7859, tgtVocab: 5921 };

/** Builds the model, optimizer and batch; returns one training step (bench/run.ts times it). */
export async function attentionStep(): Promise<() => Promise<void>> {
  z.setBackend('ort');
  const { B, S, T, srcVocab, tgtVocab } = ATTENTION_STEP;
  z.manualSeed(0);
  const model = buildModel('attention', { ...modelPreset('attention', 'base'), srcVocabSize: srcVocab, tgtVocabSize: tgtVocab, padId: 0, bosId: 2, eosId: 3 });
  const params = model.parameters();
  const optimizer = new AdamW(params, { lr: 1e-3, betas: [0.9, 0.98], weightDecay: 0.01 });
  const g = new z.Generator(1);
  const ids = (V: number, n: number): z.Tensor => z.randint(4, V, [B, n], { generator: g, dtype: 'int32' });
  const [src, tgtIn, tgtOut] = [ids(srcVocab, S), ids(tgtVocab, T), ids(tgtVocab, T)];
  await z.realize(src, tgtIn, tgtOut);
  const lengths = new Array<number>(B).fill(S);
  return async () => {
    optimizer.zeroGrad();
    const logits = model.forward(src, lengths, tgtIn);
    const loss = z.crossEntropy(logits.reshape(-1, tgtVocab), tgtOut.reshape(-1), { ignoreIndex: 0, labelSmoothing: 0.1 });
    loss.backward();
    await optimizer.step(loss, z.clipGradNorm(params, 1));
    await loss.item();
  };
}
