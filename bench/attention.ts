/**
 * One training step of the Multi30k GRU + attention model (`translate train --model attention
 * --size base`) on a fixed (B, S, T) batch: forward, label-smoothed cross-entropy, backward,
 * gradient clipping and AdamW, realized in one ort call. bench/pytorch/attention_step.py is the
 * same step in PyTorch.
 */
import { translationStep } from './models.js';

export const ATTENTION_STEP = { B: 170, S: 24, T: 24, srcVocab: 7859, tgtVocab: 5921 };

/** Builds the model, optimizer and batch; returns one training step (bench/run.ts times it). */
export function attentionStep(): Promise<() => Promise<void>> {
  return translationStep('attention', ATTENTION_STEP, true);
}
