/**
 * The attention a model paid on one input, as plain nested arrays for pages and reports.
 *
 *   translation: the decoder's cross-attention while it writes its own greedy translation,
 *                (L, H, T, S) per decoder layer and head; the RNN with attention has one map (L = H = 1),
 *                the plain RNN Seq2Seq none.
 *   BERT:        every layer's self-attention, (L, H, T, T).
 *
 * Rows are the attending positions (output tokens, or BERT's tokens), columns the attended ones;
 * each row sums to 1 (padding gets 0).
 */
import * as F from '../ops/functional.js';
import { AttentionSeq2Seq } from '../models/translate/attention-seq2seq.js';
import type { BertModel } from '../models/bert/modeling.js';
import { TransformerSeq2Seq } from '../models/translate/transformer.js';
import type { BertTokenizer } from '../text/bert/tokenizer.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import type { Translator } from '../translate/translator.js';

/** (L, H, T, S): per layer, per head, per row, per column. */
export type LayerHeadMaps = number[][][][];

export interface TranslationAttentionMaps {
  /** 'transformer', 'attention' (RNN + attention) or 'seq2seq' (no attention: `maps` is empty). */
  kind: 'transformer' | 'attention' | 'seq2seq';
  text: string;
  translation: string;
  /** Columns: the source tokens. */
  sourceTokens: string[];
  /** Rows: the tokens the model wrote, EOS last when it ended the sentence itself. */
  outputTokens: string[];
  /** Cross-attention (L, H, T, S); L = H = 1 for the RNN with attention. */
  maps: LayerHeadMaps;
}

export interface BertAttentionMaps {
  tokens: string[];
  tokenTypeIds: number[];
  /** Self-attention (L, H, T, T). */
  maps: LayerHeadMaps;
}

/** (1, H, T, S) tensors, realized -> (L, H, T, S) nested arrays. */
async function toMaps(layers: readonly Tensor[]): Promise<LayerHeadMaps> {
  await realize(...layers);
  return Promise.all(layers.map(async (a) => {
    const [, H, T, S] = a.shape as [number, number, number, number];
    const flat = await a.data();
    return Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, t) => Array.from(flat.subarray((h * T + t) * S, (h * T + t + 1) * S))));
  }));
}

/** The mean over heads of one layer's maps (H, T, S) -> (T, S). */
export function averageHeads(layer: readonly (readonly (readonly number[])[])[]): number[][] {
  const H = layer.length;
  return layer[0]!.map((row, t) => row.map((_, s) => layer.reduce((sum, head) => sum + head[t]![s]!, 0) / H));
}

/**
 * Translates `text` greedily with `t` and reads the cross-attention of that translation: the
 * teacher-forced forward over [BOS, y_1 .. y_n] is, in eval mode, the computation greedy search
 * made step by step, so its maps are the ones the model used.
 */
export async function translationAttentionMaps(t: Translator, text: string): Promise<TranslationAttentionMaps> {
  const srcIds = t.source.encode(text);
  if (srcIds.length === 0) throw new ArgumentError(`viz: the text '${text}' has no source tokens`);
  const S = srcIds.length;
  const model = t.model;
  const wasTraining = model.training;
  model.eval();
  try {
    const src = Tensor.fromBuffer(Int32Array.from(srcIds), [1, S]);
    // The length caps Translator.translate uses, so the page shows what `translate run` prints.
    const [ids] = await (model as unknown as { translate(s: Tensor, l: number[], o: object): Promise<number[][]> })
      .translate(src, [S], { beamSize: 1, maxLength: Math.max(8, 2 * S + 10), maxLengthRatio: 2, maxLengthOffset: 10 });
    const outIds = ids!;
    const base = {
      text, translation: t.target.decode(outIds), sourceTokens: srcIds.map((id) => t.source.vocab.token(id)),
    };
    if (!(model instanceof AttentionSeq2Seq || model instanceof TransformerSeq2Seq)) {
      return { ...base, kind: 'seq2seq', outputTokens: outIds.map((id) => t.target.vocab.token(id)), maps: [] };
    }
    const { bosId, eosId } = model.config;
    const tgtIn = Tensor.fromBuffer(Int32Array.from([bosId, ...outIds]), [1, outIds.length + 1]);
    const { logits, layers } = noGrad(() => {
      if (model instanceof AttentionSeq2Seq) {
        const r = model.forwardWithAttention(src, [S], tgtIn);
        return { logits: r.logits, layers: [F.unsqueeze(r.attention, 1)] }; // (1, T, S) -> (1, 1, T, S)
      }
      const r = model.forwardWithAttention(src, [S], tgtIn);
      return { logits: r.logits, layers: r.decoderCrossAttentions }; // L x (1, H, T, S)
    });
    // The last row predicts EOS when the model ended the sentence; at the length cap it did not, and that row is dropped.
    const last = F.argmax(F.slice(logits, 1, outIds.length, outIds.length + 1), -1); // (1, 1)
    const [maps, lastId] = await Promise.all([toMaps(layers), last.item()]);
    const rows = lastId === eosId ? [...outIds, eosId] : outIds;
    const trimmed = maps.map((layer) => layer.map((head) => head.slice(0, rows.length)));
    return {
      ...base, kind: model instanceof AttentionSeq2Seq ? 'attention' : 'transformer',
      outputTokens: rows.map((id) => t.target.vocab.token(id)), maps: trimmed,
    };
  } finally {
    model.train(wasTraining);
  }
}

/** Every layer's self-attention of a BertModel on `text` (and `pair`, sentence B, when given). */
export async function bertAttentionMaps(model: BertModel, tokenizer: BertTokenizer, text: string, pair?: string | null): Promise<BertAttentionMaps> {
  const enc = tokenizer.encode(text, pair ?? null);
  const T = enc.inputIds.length;
  const wasTraining = model.training;
  model.eval();
  try {
    const ids = Tensor.fromBuffer(Int32Array.from(enc.inputIds), [1, T]);
    const tokenTypeIds = Tensor.fromBuffer(Int32Array.from(enc.tokenTypeIds), [1, T]);
    const attentions = noGrad(() => model.forward(ids, { tokenTypeIds, outputAttentions: true }).attentions!); // L x (1, H, T, T)
    return { tokens: [...enc.tokens], tokenTypeIds: [...enc.tokenTypeIds], maps: await toMaps(attentions) };
  } finally {
    model.train(wasTraining);
  }
}
