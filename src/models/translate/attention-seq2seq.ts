/**
 * The RNN encoder-decoder with attention: Bahdanau, Cho & Bengio 2014, "Neural Machine Translation
 * by Jointly Learning to Align and Translate" (ICLR 2015).
 *
 * Instead of one fixed vector, the decoder looks back at every source annotation at every step:
 *   1. Encoder: a bidirectional GRU; annotation h_j = [h→_j; h←_j]  (§3.2)          (B, S, 2He)
 *   2. First decoder state s_0 = tanh(W_s h←_1)  (appendix A.2.2)                    (B, Hd)
 *   3. Each step i, alignment e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j)  (A.1.2),
 *      weights α_ij = softmax_j(e_ij) over the real (unpadded) source words,
 *      context c_i = Σ_j α_ij h_j  (eq. 5, 6)                                       (B, S), (B, 2He)
 *   4. s_i = GRU([E y_{i-1}; c_i], s_{i-1})  (eq. 4)                                  (B, Hd)
 *   5. p(y_i | y_<i, x) = softmax(W_o [s_i; c_i; E y_{i-1}]), the g(y_{i-1}, s_i, c_i) of eq. 4;
 *      with `maxout: l`, the paper's deep output (A.2.2): t̃ = R [s_i; c_i; E y_{i-1}] (2l),
 *      t_j = max(t̃_{2j-1}, t̃_{2j}) (l), p = softmax(W_o t).
 * `attention: 'dot' | 'general'` swaps the score function in step 3 for Luong et al. 2015's
 * h_t^T h̄_s or h_t^T W_a h̄_s; the decoder stays Bahdanau's (the query is s_{i-1}).
 *
 * Parameters (E embDim, He encoderHidden, Hd decoderHidden, A attentionDim):
 *   encoder.embedding.weight (V_src, E)
 *   encoder.rnn.{weight_ih_l0, weight_ih_l0_reverse} (3He, E)  {weight_hh_l0, ..._reverse} (3He, He)  bias_* (3He)
 *   encoder.fc.weight (Hd, He)  encoder.fc.bias (Hd)                                     W_s
 *   decoder.embedding.weight (V_tgt, E)
 *   decoder.attention.W.weight (A, Hd)  .U.weight (A, 2He)  .v.weight (1, A)             additive
 *   decoder.attention.W.weight (Hd, 2He)                                                 general (dot: none)
 *   decoder.rnn.weight_ih (3Hd, E + 2He)  .weight_hh (3Hd, Hd)  .bias_ih, .bias_hh (3Hd)
 *   decoder.fc_out.weight (V_tgt, Hd + 2He + E)  .bias (V_tgt)
 *   with maxout l: decoder.readout.weight (2l, Hd + 2He + E) .bias (2l); decoder.fc_out.weight (V_tgt, l)
 *
 * Deviations: by default the paper's deep output (a maxout layer over U_o s_{i-1} + V_o E y_{i-1} +
 * C_o c_i) is one linear layer over [s_i; c_i; E y_{i-1}], as in most reimplementations; `maxout`
 * restores it (over s_i rather than s_{i-1}), and with l much smaller than Hd + 2He + E it also
 * makes the vocabulary projection, the largest product of a training step, that much cheaper; init is PyTorch's
 * module defaults, not the paper's orthogonal / N(0, 0.01²); dropout on the embeddings.
 */
import { type DecoderStepper } from '../../decode/search.js';
import { AdditiveAttention, LuongAttention } from '../../nn/attention.js';
import { Dropout, Embedding, Linear } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { GRU, GRUCell } from '../../nn/rnn.js';
import * as F from '../../ops/functional.js';
import { ArgumentError } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  type TranslateOptions, type TranslationConfig, checkMaxout, checkSource, checkTarget, checkTranslationConfig, deepOutput, sourcePaddingMask, translateWith,
} from './common.js';
import { checkOptions } from '../../tensor/options.js';

export type AttentionScore = 'additive' | 'dot' | 'general';

export interface AttentionSeq2SeqConfig extends TranslationConfig {
  /** Score function: Bahdanau's 'additive' (default), or Luong's 'dot' / 'general'. */
  attention?: AttentionScore;
  /** Embedding width E (default 256; the paper: 620). */
  embDim?: number;
  /** Encoder GRU hidden size He per direction (default 256; the paper: 1000). */
  encoderHidden?: number;
  /** Decoder GRU hidden size Hd (default 512; the paper: 1000). 'dot' needs Hd = 2 He. */
  decoderHidden?: number;
  /** Width A of the additive attention's hidden layer (default decoderHidden; the paper: 1000). */
  attentionDim?: number;
  /** Dropout on the embeddings in training mode (default 0.2). */
  dropout?: number;
  /** Maxout units l of the deep output before the vocabulary projection (the paper: 500); 0 (default) = one linear layer. */
  maxout?: number;
}

/**
 * The decoder state per row: s (rows, Hd), plus the encoder's annotations (rows, S, 2He), their
 * projection for the score (`attention.projectKeys`, computed once per sentence) and the padding mask (rows, S).
 */
export interface AttentionState {
  s: Tensor;
  annotations: Tensor;
  projectedKeys: Tensor;
  srcPadMask: Tensor;
}

/** Steps 1-2: annotations h_j and the first decoder state s_0. */
export class AttentionEncoder extends Module {
  embedding: Embedding;
  rnn: GRU;
  fc: Linear;
  dropout: Dropout;
  constructor(c: Required<AttentionSeq2SeqConfig>, generator: Generator) {
    super();
    this.embedding = new Embedding(c.srcVocabSize, c.embDim, { paddingIdx: c.padId, generator });
    this.rnn = new GRU(c.embDim, c.encoderHidden, { bidirectional: true, batchFirst: true, generator });
    this.fc = new Linear(c.encoderHidden, c.decoderHidden, { generator });
    this.dropout = new Dropout(c.dropout, generator);
  }
  /** src (B, S) -> annotations (B, S, 2He) (zero at padding), s_0 (B, Hd). */
  forward(src: Tensor, srcLengths: readonly number[] | Tensor): { annotations: Tensor; s0: Tensor } {
    const x = this.dropout.forward(this.embedding.forward(src)); // (B, S) -> (B, S, E)
    const [annotations, hN] = this.rnn.forward(x, null, { lengths: srcLengths }); // (B, S, 2He), (2, B, He)
    const backwardFirst = F.squeeze(F.slice(hN, 0, 1, 2), 0); // h←_1: the backward GRU ends at word 1, (1, B, He) -> (B, He)
    return { annotations, s0: F.tanh(this.fc.forward(backwardFirst)) }; // s_0 = tanh(W_s h←_1)
  }
}

/** Steps 3-5, one target position at a time. */
export class AttentionDecoder extends Module {
  embedding: Embedding;
  attention: AdditiveAttention | LuongAttention;
  rnn: GRUCell;
  readout: Linear | null = null;
  fc_out: Linear;
  dropout: Dropout;
  constructor(c: Required<AttentionSeq2SeqConfig>, generator: Generator) {
    super();
    const annotationDim = 2 * c.encoderHidden;
    this.embedding = new Embedding(c.tgtVocabSize, c.embDim, { paddingIdx: c.padId, generator });
    if (c.attention === 'additive') this.attention = new AdditiveAttention(c.decoderHidden, annotationDim, c.attentionDim, { generator });
    else if (c.attention === 'dot' || c.attention === 'general') {
      if (c.attention === 'dot' && c.decoderHidden !== annotationDim) {
        throw new ArgumentError(`AttentionSeq2Seq: 'dot' attention needs decoderHidden (${c.decoderHidden}) = 2 * encoderHidden (${annotationDim})`);
      }
      this.attention = new LuongAttention(c.attention, c.decoderHidden, annotationDim, { generator });
    } else throw new ArgumentError(`AttentionSeq2Seq: attention must be 'additive', 'dot' or 'general', got '${String(c.attention)}'`);
    this.rnn = new GRUCell(c.embDim + annotationDim, c.decoderHidden, { generator });
    const featureDim = c.decoderHidden + annotationDim + c.embDim;
    if (c.maxout > 0) this.readout = new Linear(featureDim, 2 * c.maxout, { generator });
    this.fc_out = new Linear(c.maxout > 0 ? c.maxout : featureDim, c.tgtVocabSize, { generator });
    this.dropout = new Dropout(c.dropout, generator);
  }

  /** Step 5's logits from the features (..., Hd + 2He + E) -> (..., V), through the maxout deep output when configured. */
  output(features: Tensor): Tensor {
    return deepOutput(this.readout, this.fc_out, features);
  }

  /**
   * One step from the embedded previous token yEmb (B, E) and s_{i-1} (B, Hd): returns s_i, the
   * output layer's input [s_i; c_i; E y_{i-1}] (B, Hd + 2He + E) and α_i (B, S). `projectedKeys`
   * is `attention.projectKeys(annotations)`, the part of the score that does not change per step.
   */
  step(yEmb: Tensor, sPrev: Tensor, annotations: Tensor, srcPadMask: Tensor, projectedKeys?: Tensor): { s: Tensor; features: Tensor; weights: Tensor } {
    // 3. Align and read: c_i (B, 2He), α_i (B, S); padded source words get weight 0.
    const { context, weights } = this.attention.forward(sPrev, annotations, annotations, { keyPaddingMask: srcPadMask, projectedKeys });
    // 4. s_i = GRU([E y_{i-1}; c_i], s_{i-1}).
    const s = this.rnn.forward(F.cat([yEmb, context], 1), sPrev); // (B, E + 2He) -> (B, Hd)
    return { s, features: F.cat([s, context, yEmb], 1), weights }; // (B, Hd + 2He + E)
  }

  /** Teacher forcing over tgtIn (B, T): logits (B, T, V), weights (B, T, S). */
  forward(tgtIn: Tensor, s0: Tensor, annotations: Tensor, srcPadMask: Tensor): { logits: Tensor; weights: Tensor } {
    const emb = this.dropout.forward(this.embedding.forward(tgtIn)); // (B, T) -> (B, T, E)
    const keys = this.attention.projectKeys(annotations); // once for all steps, e.g. U_a h_j (B, S, A)
    const features: Tensor[] = [];
    const weights: Tensor[] = [];
    let s = s0;
    for (let i = 0; i < tgtIn.shape[1]!; i++) {
      const yEmb = F.squeeze(F.slice(emb, 1, i, i + 1), 1); // (B, 1, E) -> (B, E)
      const r = this.step(yEmb, s, annotations, srcPadMask, keys);
      s = r.s;
      features.push(r.features);
      weights.push(r.weights);
    }
    // 5. One output projection for all steps: (B, T, Hd + 2He + E) -> (B, T, V).
    return { logits: this.output(F.stack(features, 1)), weights: F.stack(weights, 1) }; // weights (B, T, S)
  }
}

/** Bahdanau et al.'s RNNsearch; see the file comment. */
export class AttentionSeq2Seq extends Module {
  encoder: AttentionEncoder;
  decoder: AttentionDecoder;
  readonly config: Required<AttentionSeq2SeqConfig>;

  constructor(config: AttentionSeq2SeqConfig, options: { generator?: Generator } = {}) {
    const { generator = defaultGenerator } = checkOptions('AttentionSeq2Seq', options, { generator: 1 });
    super();
    checkTranslationConfig('AttentionSeq2Seq', config);
    const decoderHidden = config.decoderHidden ?? 512;
    this.config = { attention: 'additive', embDim: 256, encoderHidden: 256, attentionDim: decoderHidden, dropout: 0.2, maxout: 0, ...config, decoderHidden };
    checkMaxout('AttentionSeq2Seq', this.config.maxout);
    this.encoder = new AttentionEncoder(this.config, generator);
    this.decoder = new AttentionDecoder(this.config, generator);
  }

  /** Teacher forcing with the attention weights: logits (B, T, V), attention (B, T, S) (rows sum to 1, 0 on padding). */
  forwardWithAttention(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor): { logits: Tensor; attention: Tensor } {
    const [B, S] = checkSource('AttentionSeq2Seq', src, srcLengths);
    checkTarget('AttentionSeq2Seq', tgtIn, B);
    const { annotations, s0 } = this.encoder.forward(src, srcLengths);
    const { logits, weights } = this.decoder.forward(tgtIn, s0, annotations, sourcePaddingMask(srcLengths, S));
    return { logits, attention: weights };
  }

  /** Teacher forcing: src (B, S), srcLengths, tgtIn (B, T) = [BOS, y_1, ...] -> logits (B, T, V). */
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor): Tensor {
    return this.forwardWithAttention(src, srcLengths, tgtIn).logits;
  }

  /** For greedySearch / beamSearch; each step also returns α_i (rows, S). */
  stepper(src: Tensor, srcLengths: readonly number[]): { stepper: DecoderStepper<AttentionState>; initial: AttentionState } {
    const [, S] = checkSource('AttentionSeq2Seq', src, srcLengths);
    const { annotations, s0 } = this.encoder.forward(src, srcLengths);
    const initial: AttentionState = { s: s0, annotations, projectedKeys: this.decoder.attention.projectKeys(annotations), srcPadMask: sourcePaddingMask(srcLengths, S) };
    const stepper: DecoderStepper<AttentionState> = {
      step: (last, state) => {
        const yEmb = this.decoder.dropout.forward(this.decoder.embedding.forward(last)); // (rows) -> (rows, E)
        const r = this.decoder.step(yEmb, state.s, state.annotations, state.srcPadMask, state.projectedKeys);
        const logProbs = F.logSoftmax(this.decoder.output(r.features), -1); // (rows, V)
        const next: AttentionState = { ...state, s: r.s };
        return { logProbs, state: next, attention: r.weights, stateTensors: [r.s, state.annotations, state.projectedKeys, state.srcPadMask] };
      },
      select: (st, rows) => ({
        s: F.indexSelect(st.s, 0, rows), annotations: F.indexSelect(st.annotations, 0, rows),
        projectedKeys: F.indexSelect(st.projectedKeys, 0, rows), srcPadMask: F.indexSelect(st.srcPadMask, 0, rows),
      }),
    };
    return { stepper, initial };
  }

  /** Greedy (beamSize 1, default) or beam search, in eval mode; the best token ids per sentence, without BOS/EOS. */
  async translate(src: Tensor, srcLengths: readonly number[], options: TranslateOptions): Promise<number[][]> {
    options = checkOptions('AttentionSeq2Seq.translate', options, { beamSize: 1, maxLength: 1, maxLengthRatio: 1, maxLengthOffset: 1, lengthPenalty: 1 });
    return (await translateWith(this, src, srcLengths, options)).map((h) => h.tokens);
  }
}
