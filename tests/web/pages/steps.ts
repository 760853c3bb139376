/**
 * One training step each of a Transformer translator and a BERT classifier, written once against the
 * zhuyi API: tests/web/steps.test.ts runs it in Node (src/index.ts, onnxruntime-node) and bundled into
 * a Chromium page (src/index.js redirected to src/browser.ts, onnxruntime-web), and compares.
 * Same seed, same data, dropout on (its masks come from the seeded in-graph generator).
 */
import * as z from '../../../src/index.js';
import type { Module, Tensor } from '../../../src/index.js';
import { hfFolderZip } from '../../../src/bert/web-files.js';

export interface StepResult {
  backend: string;
  loss: number;
  /** Parameters after the step, by state-dict name. */
  params: Record<string, number[]>;
  /** The BERT step only: the trained model's HF folder as a zip (config.json, model.safetensors). */
  zip?: number[];
}

async function params(model: Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(model.stateDict())) out[name] = Array.from(await (t as Tensor).data());
  return out;
}

/** Token ids in [4, vocab) (0-3 are PAD, UNK, BOS, EOS), from a generator seeded apart from the model's. */
function ids(gen: z.Generator, rows: number, cols: number, vocab: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 4 + Math.floor(gen.random() * (vocab - 4))));
}

export async function transformerStep(seed: number): Promise<StepResult> {
  z.manualSeed(seed);
  const model = new z.TransformerSeq2Seq({
    srcVocabSize: 23, tgtVocabSize: 29, padId: 0, bosId: 2, eosId: 3,
    dModel: 32, nHead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 64, dropout: 0.1,
  });
  model.train();
  const gen = new z.Generator(seed + 1);
  const src = ids(gen, 3, 7, 23);
  src[2]!.splice(5, 2, 0, 0); // a padded row: length 5
  const tgt = ids(gen, 3, 6, 29);
  const tgtIn = z.tensor(tgt.map((r) => [2, ...r.slice(0, 5)]), { dtype: 'int32' });
  const tgtOut = z.tensor(tgt, { dtype: 'int32' });
  const optimizer = new z.optim.AdamW(model.parameters(), { lr: 1e-3 });
  const logits = model.forward(z.tensor(src, { dtype: 'int32' }), [7, 7, 5], tgtIn); // (B, T, V)
  const loss = z.crossEntropy(logits.reshape([-1, 29]), tgtOut.reshape([-1]), { ignoreIndex: 0, labelSmoothing: 0.1 });
  optimizer.zeroGrad();
  loss.backward();
  z.clipGradNorm(model.parameters(), 1);
  await optimizer.step(loss);
  return { backend: z.getBackend(), loss: await loss.item(), params: await params(model) };
}

export async function bertStep(seed: number): Promise<StepResult> {
  z.manualSeed(seed);
  const config = new z.BertConfig({
    vocab_size: 50, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64,
    max_position_embeddings: 32, num_labels: 3,
  });
  // Built, written as an HF folder's files and read back: the bytes path browsers load from.
  const built = new z.BertForSequenceClassification(config);
  const model = await z.BertForSequenceClassification.fromPretrained(await built.toPretrainedFiles(), { warn: () => {} });
  model.train();
  const gen = new z.Generator(seed + 1);
  const rows = ids(gen, 4, 9, 50).map((r) => [1, ...r]); // 1 stands for [CLS]
  const mask = rows.map((r, i) => r.map((_, j) => (i === 3 && j >= 7 ? 0 : 1)));
  const optimizer = new z.optim.AdamW(model.parameters(), { lr: 5e-4, weightDecay: 0.01 });
  const out = model.forward(z.tensor(rows, { dtype: 'int32' }), {
    attentionMask: z.tensor(mask, { dtype: 'int32' }), labels: z.tensor([0, 2, 1, 2], { dtype: 'int32' }),
  });
  optimizer.zeroGrad();
  out.loss!.backward();
  await optimizer.step(out.loss!);
  return { backend: z.getBackend(), loss: await out.loss!.item(), params: await params(model), zip: Array.from(await hfFolderZip(model)) };
}
