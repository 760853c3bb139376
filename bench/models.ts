/**
 * Bench rows written as a user would, with the public API: a Multi30k-sized Transformer
 * translation step, BERT forward passes and BERT fine-tuning steps. bench/pytorch/transformer_step.py
 * and bench/pytorch/bert.py are the same work in PyTorch (random weights, same shapes).
 */
import * as z from '../src/index.js';
import { AdamW } from '../src/optim/index.js';
import { buildModel, modelPreset } from '../src/translate/translator.js';

/** `translate train --model transformer --size base` on a Multi30k-sized batch. */
export const TRANSLATION_STEP = { B: 64, S: 24, T: 24, srcVocab: 8000, tgtVocab: 6000 };

export interface TranslationShape { B: number; S: number; T: number; srcVocab: number; tgtVocab: number }

/**
 * One training step of a `translate train --size base` model on a fixed (B, S, T) batch: forward,
 * label-smoothed cross-entropy, backward, optional gradient clipping and AdamW, in one ort call.
 */
export async function translationStep(kind: 'attention' | 'transformer' = 'transformer', shape: TranslationShape = TRANSLATION_STEP, clip = false): Promise<() => Promise<void>> {
  z.setBackend('ort');
  const { B, S, T, srcVocab, tgtVocab } = shape;
  z.manualSeed(0);
  const model = buildModel(kind, { ...modelPreset(kind, 'base'), srcVocabSize: srcVocab, tgtVocabSize: tgtVocab, padId: 0, bosId: 2, eosId: 3 });
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
    await (clip ? optimizer.step(loss, z.clipGradNorm(params, 1)) : optimizer.step(loss));
    await loss.item();
  };
}

export interface BertShape { L: number; H: number; A: number; B: number; T: number; vocab: number }
/** BERT-mini (Turc et al. 2019: L4 H256 A4) on B32 T64, and BERT-base (L12 H768 A12) on B8 T128. */
export const BERT_MINI: BertShape = { L: 4, H: 256, A: 4, B: 32, T: 64, vocab: 30522 };
export const BERT_BASE: BertShape = { L: 12, H: 768, A: 12, B: 8, T: 128, vocab: 30522 };

function bertConfig(s: BertShape): z.BertConfig {
  return new z.BertConfig({ vocab_size: s.vocab, hidden_size: s.H, num_hidden_layers: s.L, num_attention_heads: s.A, intermediate_size: 4 * s.H, num_labels: 2 });
}

function bertBatch(s: BertShape): { ids: z.Tensor; mask: z.Tensor; labels: z.Tensor } {
  const g = new z.Generator(1);
  return {
    ids: z.randint(1000, s.vocab, [s.B, s.T], { generator: g, dtype: 'int32' }),
    mask: z.ones([s.B, s.T], { dtype: 'int32' }),
    labels: z.randint(0, 2, [s.B], { generator: g, dtype: 'int32' }),
  };
}

/** BertModel forward in eval mode (last hidden state and pooler), no gradients. */
export async function bertForward(s: BertShape): Promise<() => Promise<void>> {
  z.setBackend('ort');
  z.manualSeed(0);
  const model = new z.BertModel(bertConfig(s));
  model.eval();
  const { ids, mask } = bertBatch(s);
  await z.realize(ids, mask);
  return async () => {
    const out = z.noGrad(() => model.forward(ids, { attentionMask: mask }));
    await z.realize(out.lastHiddenState, out.poolerOutput!);
  };
}

/** One fine-tuning step of BertForSequenceClassification (dropout 0.1, AdamW). */
export async function bertTrainStep(s: BertShape): Promise<() => Promise<void>> {
  z.setBackend('ort');
  z.manualSeed(0);
  const model = new z.BertForSequenceClassification(bertConfig(s));
  model.train();
  const optimizer = new AdamW(model.parameters(), { lr: 5e-5, weightDecay: 0.01 });
  const { ids, mask, labels } = bertBatch(s);
  await z.realize(ids, mask, labels);
  return async () => {
    optimizer.zeroGrad();
    const { loss } = model.forward(ids, { attentionMask: mask, labels });
    loss!.backward();
    await optimizer.step(loss!);
    await loss!.item();
  };
}
