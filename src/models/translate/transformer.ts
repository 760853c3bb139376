/**
 * The Transformer for translation: Vaswani et al. 2017, "Attention Is All You Need", built from
 * src/nn/transformer.ts (torch.nn.Transformer's layers and keys) and src/nn/positional.ts.
 *
 *   1. Embed: x = PE(E_src[src] · sqrt(dModel)), y = PE(E_tgt[tgtIn] · sqrt(dModel))  (§3.4, §3.5)
 *   2. Encode: memory = Encoder(x), self-attention blind to source padding            (B, S, dModel)
 *   3. Decode: Decoder(y, memory), causal self-attention (position t sees t' <= t), target
 *      padding masked, cross-attention blind to source padding                          (B, T, dModel)
 *   4. Project: logits = W_out · out + b                                               (B, T, V)
 *
 * Parameters (D dModel, F dimFeedforward, N/M encoder/decoder layers, P maxLen):
 *   src_tok_emb.weight (V_src, D)   tgt_tok_emb.weight (V_tgt, D)       (the same tensor with shareEmbeddings)
 *   src_positions.weight, tgt_positions.weight (P, D)                   (learned positions only; sinusoids are not saved)
 *   transformer.encoder.layers.{0..N-1}.*, transformer.encoder.norm.*  as torch.nn.Transformer
 *   transformer.decoder.layers.{0..M-1}.*, transformer.decoder.norm.*
 *   generator.weight (V_tgt, D)  generator.bias (V_tgt)                 (weight = tgt_tok_emb.weight when shared or tieOutput)
 * Names follow the PyTorch "Language Translation with nn.Transformer" tutorial and The Annotated
 * Transformer (`generator` is the output projection).
 *
 * Deviations: torch.nn.Transformer adds a final LayerNorm to both stacks even in post-norm mode
 * (kept, for its keys); `normFirst` gives pre-norm, which trains more stably than the paper's
 * post-norm; the paper does not say how it initialises embeddings (see initTransformerSeq2Seq).
 * Decoding (`stepper`) keeps a key/value cache per decoder layer (TransformerDecoderLayer.step):
 * the encoder runs once and each step projects only the newest token. The cache has a capacity
 * (16 positions, doubled when full) and a step writes its slot, so steps share one graph shape.
 */
import { type DecoderStepper } from '../../decode/search.js';
import * as init from '../../nn/init.js';
import { Embedding, Linear } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '../../nn/positional.js';
import { type Activation, type DecoderLayerCache, Transformer } from '../../nn/transformer.js';
import * as F from '../../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import { full, zeros } from '../../tensor/creation.js';
import {
  type TranslateOptions, type TranslationConfig, checkSource, checkTarget, checkTranslationConfig, sourcePaddingMask, translateWith,
} from './common.js';
import { checkOptions } from '../../tensor/options.js';

export interface TransformerSeq2SeqConfig extends TranslationConfig {
  /** Model width D (default 512, the paper's base model). */
  dModel?: number;
  /** Attention heads (default 8). */
  nHead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
  /** Inner width of the position-wise feed-forward networks (default 2048). */
  dimFeedforward?: number;
  /** Dropout on embeddings + positions, sub-layer outputs, attention weights and inside the FFN (default 0.1). */
  dropout?: number;
  activation?: Activation;
  /** 'sinusoidal' (§3.5, default) or 'learned' (a trained table per side; the paper found them equal). */
  positions?: 'sinusoidal' | 'learned';
  /** Longest source or target sequence, tokens (default 1024). */
  maxLen?: number;
  /** One matrix for source embeddings, target embeddings and the output projection (§3.4); needs a shared vocabulary. */
  shareEmbeddings?: boolean;
  /** The output projection reuses the target embedding matrix (Press & Wolf 2017; §3.4's sharing on the target side only), for separate vocabularies. */
  tieOutput?: boolean;
  /** Pre-norm layers (default false: the paper's post-norm). */
  normFirst?: boolean;
}

/** Per row: the encoder output, the source padding mask, and the target tokens so far (null before step 0). */
export interface TransformerState {
  srcPadMask: Tensor;
  /** The tokens so far (rows, C), BOS first, padding after the first `length`; null before the first step. */
  tokens: Tensor | null;
  /** Tokens written so far (<= C, the cache's capacity). */
  length: number;
  /** Per decoder layer: self-attention keys/values (rows, H, C, D), slots past `length` unused, and the memory's cross-attention keys/values. */
  caches: DecoderLayerCache[];
}

/** Key/value cache capacity of decoding: the first block, doubled each time it fills. */
const CACHE_BLOCK = 16;

/** Every attention of one forward, each (B, H, T, S) per layer. */
export interface TransformerAttentions {
  encoderAttentions: Tensor[];
  decoderSelfAttentions: Tensor[];
  decoderCrossAttentions: Tensor[];
}

type Positions = SinusoidalPositionalEncoding | LearnedPositionalEmbedding;

/** The encoder-decoder Transformer for translation; see the file comment. */
export class TransformerSeq2Seq extends Module {
  src_tok_emb: Embedding;
  tgt_tok_emb: Embedding;
  src_positions: Positions;
  tgt_positions: Positions;
  transformer: Transformer;
  generator: Linear;
  readonly config: Required<TransformerSeq2SeqConfig>;

  constructor(config: TransformerSeq2SeqConfig, options: { generator?: Generator } = {}) {
    options = checkOptions('TransformerSeq2Seq', options, { generator: 1 });
    super();
    const rng = options.generator ?? defaultGenerator;
    checkTranslationConfig('TransformerSeq2Seq', config);
    const c = (this.config = {
      dModel: 512, nHead: 8, numEncoderLayers: 6, numDecoderLayers: 6, dimFeedforward: 2048, dropout: 0.1, activation: 'relu',
      positions: 'sinusoidal', maxLen: 1024, shareEmbeddings: false, tieOutput: false, normFirst: false, ...config,
    });
    if (c.shareEmbeddings && c.srcVocabSize !== c.tgtVocabSize) {
      throw new ArgumentError(`TransformerSeq2Seq: shareEmbeddings needs one vocabulary, got srcVocabSize ${c.srcVocabSize} != tgtVocabSize ${c.tgtVocabSize}`);
    }
    const D = c.dModel;
    this.src_tok_emb = new Embedding(c.srcVocabSize, D, { paddingIdx: c.padId, generator: rng });
    this.tgt_tok_emb = c.shareEmbeddings ? this.src_tok_emb : new Embedding(c.tgtVocabSize, D, { paddingIdx: c.padId, generator: rng });
    const positionOptions = { dropout: c.dropout, batchFirst: true, generator: rng };
    if (c.positions === 'sinusoidal') {
      // One table serves both sides; it has no parameters and is not saved.
      this.src_positions = this.tgt_positions = new SinusoidalPositionalEncoding(D, { maxLen: c.maxLen, ...positionOptions });
    } else if (c.positions === 'learned') {
      this.src_positions = new LearnedPositionalEmbedding(c.maxLen, D, positionOptions);
      this.tgt_positions = new LearnedPositionalEmbedding(c.maxLen, D, positionOptions);
    } else throw new ArgumentError(`TransformerSeq2Seq: positions must be 'sinusoidal' or 'learned', got '${String(c.positions)}'`);
    this.transformer = new Transformer({
      dModel: D, nhead: c.nHead, numEncoderLayers: c.numEncoderLayers, numDecoderLayers: c.numDecoderLayers, dimFeedforward: c.dimFeedforward,
      dropout: c.dropout, activation: c.activation, normFirst: c.normFirst, batchFirst: true, generator: rng,
    });
    this.generator = new Linear(D, c.tgtVocabSize, { generator: rng });
    initTransformerSeq2Seq(this, rng);
  }

  /** Step 1: E[ids] · sqrt(dModel) + positions, then dropout. ids (B, T) -> (B, T, D). */
  private embed(ids: Tensor, tokens: Embedding, positions: Positions): Tensor {
    return positions.forward(F.mul(tokens.forward(ids), Math.sqrt(this.config.dModel)));
  }

  /** Step 2: src (B, S) -> memory (B, S, D) and each encoder layer's self-attention (B, H, S, S). */
  encode(src: Tensor, srcPadMask: Tensor, needWeights = false): { memory: Tensor; attentions: Tensor[] } {
    const x = this.embed(src, this.src_tok_emb, this.src_positions);
    const enc = this.transformer.encoder.forwardWithAttention(x, { keyPaddingMask: srcPadMask }, needWeights);
    return { memory: enc.output, attentions: enc.attentions };
  }

  /** Step 3: tgtIn (B, T) over memory -> decoder output (B, T, D), self- (B, H, T, T) and cross-attentions (B, H, T, S). */
  decode(tgtIn: Tensor, memory: Tensor, srcPadMask: Tensor, needWeights = false): { output: Tensor; selfAttentions: Tensor[]; crossAttentions: Tensor[] } {
    const y = this.embed(tgtIn, this.tgt_tok_emb, this.tgt_positions);
    return this.transformer.decoder.forwardWithAttention(y, memory, {
      tgtIsCausal: true, tgtKeyPaddingMask: F.eq(tgtIn, this.config.padId), memoryKeyPaddingMask: srcPadMask,
    }, needWeights);
  }

  /** Source padding as a bool (B, S) mask, true at padding: from lengths, or given. */
  private sourceMask(src: Tensor, srcLengths: readonly number[] | Tensor): [Tensor, number] {
    if (srcLengths instanceof Tensor) {
      const mask = srcLengths;
      if (mask.ndim !== 2 || mask.shape[0] !== src.shape[0] || mask.shape[1] !== src.shape[1] || mask.dtype !== 'bool') {
        throw new ShapeError(`TransformerSeq2Seq: srcPadMask ${mask.dtype}${fmtShape(mask.shape)} must be bool like src ${fmtShape(src.shape)}, true at padding`);
      }
      return [mask, src.shape[0]!];
    }
    const [B, S] = checkSource('TransformerSeq2Seq', src, srcLengths);
    return [sourcePaddingMask(srcLengths, S), B];
  }

  /**
   * Teacher forcing with every attention: logits (B, T, V) and, per layer, the per-head weights
   * (B, H, T, S) of the encoder's self-attention, the decoder's self- and cross-attention.
   * `srcLengths` may be a bool (B, S) padding mask instead (true at padding).
   */
  forwardWithAttention(src: Tensor, srcLengths: readonly number[] | Tensor, tgtIn: Tensor, needWeights = true): { logits: Tensor } & TransformerAttentions {
    const [srcPadMask, B] = this.sourceMask(src, srcLengths);
    checkTarget('TransformerSeq2Seq', tgtIn, B);
    const enc = this.encode(src, srcPadMask, needWeights);
    const dec = this.decode(tgtIn, enc.memory, srcPadMask, needWeights);
    return {
      logits: this.generator.forward(dec.output), // 4. (B, T, D) -> (B, T, V)
      encoderAttentions: enc.attentions, decoderSelfAttentions: dec.selfAttentions, decoderCrossAttentions: dec.crossAttentions,
    };
  }

  /** Teacher forcing: src (B, S), srcLengths (or a bool padding mask), tgtIn (B, T) = [BOS, y_1, ...] -> logits (B, T, V). */
  forward(src: Tensor, srcLengths: readonly number[] | Tensor, tgtIn: Tensor): Tensor {
    return this.forwardWithAttention(src, srcLengths, tgtIn, false).logits;
  }

  /**
   * For greedySearch / beamSearch, with a key/value cache: the encoder runs once and every decoder
   * layer projects the memory's keys and values once; each step embeds only the newest token (at
   * its position), writes its self-attention key and value into the cache and attends from it
   * alone, so a step costs O(C), not O(t^2). The cache holds C slots (16, doubled when full;
   * unwritten slots are masked) and the step's position and slot are tensors, so every step of a
   * capacity has the same graph: on the ort backend a sentence compiles a few sessions, not one
   * per output length. Returns the last decoder layer's cross-attention for the new position,
   * averaged over heads (rows, S).
   */
  stepper(src: Tensor, srcLengths: readonly number[]): { stepper: DecoderStepper<TransformerState>; initial: TransformerState } {
    const [srcPadMask] = this.sourceMask(src, srcLengths);
    const memory = this.encode(src, srcPadMask).memory;
    const initial: TransformerState = { srcPadMask, tokens: null, length: 0, caches: this.transformer.decoder.initCache(memory) };
    const pad = this.config.padId;
    const stepper: DecoderStepper<TransformerState> = {
      step: (last, st) => {
        const t = st.length; // the new token's position
        let { tokens, caches } = st;
        const capacity = tokens ? tokens.shape[1]! : 0;
        if (t >= capacity) [tokens, caches] = grow(tokens, caches, last.shape[0]!, Math.max(CACHE_BLOCK, 2 * capacity), pad);
        const C = tokens!.shape[1]!;
        const slotMask = new Uint8Array(C);
        slotMask[t] = 1;
        const slot = Tensor.fromBuffer(slotMask, [C]);
        const next = F.unsqueeze(last, 1); // (rows) -> (rows, 1)
        tokens = F.where(F.unsqueeze(slot, 0), next, tokens!); // (rows, C): slot t <- the new token
        const position = Tensor.fromBuffer(Int32Array.of(t), [1]);
        const x = this.tgt_positions.forward(F.mul(this.tgt_tok_emb.forward(next), Math.sqrt(this.config.dModel)), position); // (rows, 1, D)
        // Padding tokens (and the slots after t, still padding) are masked.
        const dec = this.transformer.decoder.step(x, caches, st.srcPadMask, F.eq(tokens, pad), slot);
        const logProbs = F.logSoftmax(this.generator.forward(F.squeeze(dec.output, 1)), -1); // (rows, 1, D) -> (rows, V)
        const cross = dec.crossAttentions[dec.crossAttentions.length - 1]!; // (rows, H, 1, S)
        const attention = F.mean(F.squeeze(cross, 2), 1); // (rows, H, S) -> (rows, S)
        const stateTensors = [tokens, attention, st.srcPadMask, ...dec.caches.flatMap((c) => [c.selfK, c.selfV, c.crossK, c.crossV])];
        return { logProbs, state: { srcPadMask: st.srcPadMask, tokens, length: t + 1, caches: dec.caches }, attention, stateTensors };
      },
      select: (st, rows) => ({
        srcPadMask: F.indexSelect(st.srcPadMask, 0, rows),
        tokens: st.tokens && F.indexSelect(st.tokens, 0, rows),
        length: st.length,
        caches: st.caches.map((c) => ({
          selfK: c.selfK && F.indexSelect(c.selfK, 0, rows), selfV: c.selfV && F.indexSelect(c.selfV, 0, rows),
          crossK: F.indexSelect(c.crossK, 0, rows), crossV: F.indexSelect(c.crossV, 0, rows),
        })),
      }),
    };
    return { stepper, initial };
  }

  /** Greedy (beamSize 1, default) or beam search, in eval mode; the best token ids per sentence, without BOS/EOS. */
  async translate(src: Tensor, srcLengths: readonly number[], options: TranslateOptions): Promise<number[][]> {
    options = checkOptions('TransformerSeq2Seq.translate', options, { beamSize: 1, maxLength: 1, maxLengthRatio: 1, maxLengthOffset: 1, lengthPenalty: 1 });
    return (await translateWith(this, src, srcLengths, options)).map((h) => h.tokens);
  }
}

/**
 * The decoding state with capacity C: tokens padded with `pad` and each layer's self-attention
 * keys/values padded with zeros (rows, H, C, D) (masked, so their values never matter).
 */
function grow(tokens: Tensor | null, caches: readonly DecoderLayerCache[], rows: number, C: number, pad: number): [Tensor, DecoderLayerCache[]] {
  const old = tokens ? tokens.shape[1]! : 0;
  const padding = full([rows, C - old], pad, { dtype: 'int32' });
  const grown = tokens ? F.cat([tokens, padding], 1) : padding;
  return [grown, caches.map((c) => {
    const [, H, , D] = c.crossK.shape as [number, number, number, number];
    const more = (): Tensor => zeros([rows, H, C - old, D], { dtype: c.crossK.dtype });
    return {
      ...c,
      selfK: c.selfK ? F.cat([c.selfK, more()], 2) : more(),
      selfV: c.selfV ? F.cat([c.selfV, more()], 2) : more(),
    };
  })];
}

/**
 * nn.Transformer has already drawn its matrices (xavier_uniform_, PyTorch's _reset_parameters).
 * Token embeddings: N(0, 1/dModel), so that after the · sqrt(dModel) of §3.4 they have unit
 * variance, the scale of the sinusoids (tensor2tensor's and fairseq's choice; the paper does not
 * say). The padding row stays zero. Shared embeddings make the tied output projection see the same
 * matrix. Learned positions keep nn.Embedding's N(0, 1).
 */
function initTransformerSeq2Seq(model: TransformerSeq2Seq, rng: Generator): void {
  const { dModel, padId, shareEmbeddings, tieOutput } = model.config;
  for (const emb of new Set([model.src_tok_emb, model.tgt_tok_emb])) {
    emb.weight.buffer = init.normal(emb.weight.shape, 0, dModel ** -0.5, rng).buffer;
    emb.weight.buffer!.fill(0, padId * dModel, (padId + 1) * dModel);
  }
  // §3.4: one matrix for both embeddings and the pre-softmax projection; tieOutput: the target side's two.
  if (shareEmbeddings || tieOutput) model.generator.weight = model.tgt_tok_emb.weight;
}
