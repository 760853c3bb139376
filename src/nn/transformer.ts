/**
 * The Transformer of Vaswani et al. 2017 with torch.nn 1.13's semantics and state-dict keys:
 * TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder,
 * Transformer. Shape letters: T target/query positions, S source positions, B batch, E = dModel,
 * H heads. Inputs are (T, B, E) unless batchFirst, as in PyTorch.
 *
 * Every forward has a `...WithAttention` twin that also returns each attention's per-head weights
 * (B, H, T, S) for visualisation; the outputs are the same.
 */
import * as F from '../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { MultiheadAttention } from './attention.js';
import * as init from './init.js';
import { Dropout, LayerNorm, Linear } from './layers.js';
import { Module, ModuleList } from './module.js';
import { type OptionKeys, checkOptions } from '../tensor/options.js';

export type Activation = 'relu' | 'gelu';

export interface TransformerLayerOptions {
  /** Width of the position-wise feed-forward network (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward network, and on attention weights (default 0.1). */
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  batchFirst?: boolean;
  /** Pre-norm x + f(LN(x)) instead of the paper's post-norm LN(x + f(x)) (default false). */
  normFirst?: boolean;
  generator?: Generator;
}
const LAYER_OPTIONS: OptionKeys<TransformerLayerOptions> = { dimFeedforward: 1, dropout: 1, activation: 1, layerNormEps: 1, batchFirst: 1, normFirst: 1, generator: 1 };

export interface SelfAttentionMasks {
  /** (T, T) or (B*H, T, T): bool (true = masked out) or additive float. */
  mask?: Tensor | null;
  /** (B, T): true at padding. */
  keyPaddingMask?: Tensor | null;
  /** Adds the causal mask (zhuyi's extension; torch 1.13 layers take the mask only). */
  isCausal?: boolean;
}

/**
 * PyTorch's names: TransformerEncoderLayer.forward(src, src_mask, src_key_padding_mask) and
 * TransformerEncoder.forward(src, mask, src_key_padding_mask); both are accepted for both, camelCase
 * or snake_case. (The decoder's names are PyTorch's already.)
 */
const ENCODER_MASK_ALIASES = { srcMask: 'mask', srcKeyPaddingMask: 'keyPaddingMask' } as const;
const SELF_ATTENTION_MASKS: OptionKeys<SelfAttentionMasks> = { mask: 1, keyPaddingMask: 1, isCausal: 1 };

export interface DecoderMasks {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  tgtIsCausal?: boolean;
}
const DECODER_MASKS: OptionKeys<DecoderMasks> = { tgtMask: 1, memoryMask: 1, tgtKeyPaddingMask: 1, memoryKeyPaddingMask: 1, tgtIsCausal: 1 };

function activationFn(name: Activation): (x: Tensor) => Tensor {
  if (name === 'relu') return F.relu;
  if (name === 'gelu') return (x) => F.gelu(x);
  throw new ArgumentError(`Transformer: activation must be 'relu' or 'gelu', got '${String(name)}'`);
}

/** Defaults shared by the layers (PyTorch's). */
function layerDefaults(o: TransformerLayerOptions): Required<TransformerLayerOptions> {
  return {
    dimFeedforward: o.dimFeedforward ?? 2048, dropout: o.dropout ?? 0.1, activation: o.activation ?? 'relu',
    layerNormEps: o.layerNormEps ?? 1e-5, batchFirst: o.batchFirst ?? false, normFirst: o.normFirst ?? false, generator: o.generator ?? defaultGenerator,
  };
}

/** Runs self-attention and returns [output, per-head weights (B, H, T, S) or null]. */
function attention(attn: MultiheadAttention, q: Tensor, kv: Tensor, m: SelfAttentionMasks, needWeights: boolean): [Tensor, Tensor | null] {
  return attn.forward(q, kv, kv, { attnMask: m.mask ?? null, keyPaddingMask: m.keyPaddingMask ?? null, isCausal: m.isCausal ?? false, needWeights, averageAttnWeights: false });
}

/**
 * One encoder block (§3.1): x -> LN(x + Dropout(SelfAttn(x))) -> LN(x + Dropout(FFN(x))),
 * FFN(x) = linear2(Dropout(act(linear1(x)))). With normFirst (pre-norm, a deviation from the paper
 * that trains more stably): x + Dropout(SelfAttn(LN(x))), then x + Dropout(FFN(LN(x))).
 */
export class TransformerEncoderLayer extends Module {
  // Declaration order is registration order: PyTorch's.
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly normFirst: boolean;
  private readonly act: (x: Tensor) => Tensor;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    options = checkOptions('TransformerEncoderLayer', options, LAYER_OPTIONS);
    super();
    const o = layerDefaults(options);
    const g = o.generator;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst, generator: g });
    this.linear1 = new Linear(dModel, o.dimFeedforward, { generator: g });
    this.dropout = new Dropout(o.dropout, g);
    this.linear2 = new Linear(o.dimFeedforward, dModel, { generator: g });
    this.norm1 = new LayerNorm(dModel, o.layerNormEps);
    this.norm2 = new LayerNorm(dModel, o.layerNormEps);
    this.dropout1 = new Dropout(o.dropout, g);
    this.dropout2 = new Dropout(o.dropout, g);
    this.normFirst = o.normFirst;
    this.act = activationFn(o.activation);
  }

  private ff(x: Tensor): Tensor {
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }

  forwardWithAttention(src: Tensor, m: SelfAttentionMasks = {}, needWeights = true): { output: Tensor; attention: Tensor | null } {
    m = checkOptions('TransformerEncoderLayer.forwardWithAttention', m, SELF_ATTENTION_MASKS, ENCODER_MASK_ALIASES);
    let x = src;
    let w: Tensor | null;
    let a: Tensor;
    if (this.normFirst) {
      [a, w] = attention(this.self_attn, this.norm1.forward(x), this.norm1.forward(x), m, needWeights);
      x = F.add(x, this.dropout1.forward(a));
      x = F.add(x, this.ff(this.norm2.forward(x)));
    } else {
      [a, w] = attention(this.self_attn, x, x, m, needWeights);
      x = this.norm1.forward(F.add(x, this.dropout1.forward(a)));
      x = this.norm2.forward(F.add(x, this.ff(x)));
    }
    return { output: x, attention: w };
  }

  forward(src: Tensor, masks: SelfAttentionMasks = {}): Tensor {
    masks = checkOptions('TransformerEncoderLayer.forward', masks, SELF_ATTENTION_MASKS, ENCODER_MASK_ALIASES);
    return this.forwardWithAttention(src, masks, false).output;
  }
}

/**
 * One decoder block (§3.1): masked self-attention, attention over the encoder's memory, FFN, each
 * wrapped as LN(x + Dropout(sublayer(x))) (or pre-norm with normFirst).
 */
export class TransformerDecoderLayer extends Module {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;
  readonly normFirst: boolean;
  private readonly act: (x: Tensor) => Tensor;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    options = checkOptions('TransformerDecoderLayer', options, LAYER_OPTIONS);
    super();
    const o = layerDefaults(options);
    const g = o.generator;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst, generator: g });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst, generator: g });
    this.linear1 = new Linear(dModel, o.dimFeedforward, { generator: g });
    this.dropout = new Dropout(o.dropout, g);
    this.linear2 = new Linear(o.dimFeedforward, dModel, { generator: g });
    this.norm1 = new LayerNorm(dModel, o.layerNormEps);
    this.norm2 = new LayerNorm(dModel, o.layerNormEps);
    this.norm3 = new LayerNorm(dModel, o.layerNormEps);
    this.dropout1 = new Dropout(o.dropout, g);
    this.dropout2 = new Dropout(o.dropout, g);
    this.dropout3 = new Dropout(o.dropout, g);
    this.normFirst = o.normFirst;
    this.act = activationFn(o.activation);
  }

  private ff(x: Tensor): Tensor {
    return this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }

  forwardWithAttention(tgt: Tensor, memory: Tensor, m: DecoderMasks = {}, needWeights = true): { output: Tensor; selfAttention: Tensor | null; crossAttention: Tensor | null } {
    m = checkOptions('TransformerDecoderLayer.forwardWithAttention', m, DECODER_MASKS);
    const selfMasks: SelfAttentionMasks = { mask: m.tgtMask ?? null, keyPaddingMask: m.tgtKeyPaddingMask ?? null, isCausal: m.tgtIsCausal ?? false };
    const crossMasks: SelfAttentionMasks = { mask: m.memoryMask ?? null, keyPaddingMask: m.memoryKeyPaddingMask ?? null };
    let x = tgt;
    let a: Tensor;
    let ws: Tensor | null;
    let wc: Tensor | null;
    if (this.normFirst) {
      const n1 = this.norm1.forward(x);
      [a, ws] = attention(this.self_attn, n1, n1, selfMasks, needWeights);
      x = F.add(x, this.dropout1.forward(a));
      [a, wc] = attention(this.multihead_attn, this.norm2.forward(x), memory, crossMasks, needWeights);
      x = F.add(x, this.dropout2.forward(a));
      x = F.add(x, this.ff(this.norm3.forward(x)));
    } else {
      [a, ws] = attention(this.self_attn, x, x, selfMasks, needWeights);
      x = this.norm1.forward(F.add(x, this.dropout1.forward(a)));
      [a, wc] = attention(this.multihead_attn, x, memory, crossMasks, needWeights);
      x = this.norm2.forward(F.add(x, this.dropout2.forward(a)));
      x = this.norm3.forward(F.add(x, this.ff(x)));
    }
    return { output: x, selfAttention: ws, crossAttention: wc };
  }

  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    masks = checkOptions('TransformerDecoderLayer.forward', masks, DECODER_MASKS);
    return this.forwardWithAttention(tgt, memory, masks, false).output;
  }

  /** Incremental decoding: the memory's cross-attention keys and values, projected once per sentence. Batch-first. */
  initCache(memory: Tensor): DecoderLayerCache {
    if (!this.self_attn.batchFirst) throw new ArgumentError('TransformerDecoderLayer.step: incremental decoding needs batchFirst layers');
    const { k, v } = this.multihead_attn.projectKeyValue(memory, memory);
    return { selfK: null, selfV: null, crossK: k, crossV: v };
  }

  /**
   * One decoding step with a key/value cache: x (B, 1, D) is the newest position's input. Its
   * projected self-attention key and value are appended to the cache, and the output equals the
   * last row of `forward` over the whole prefix with a causal mask. Returns the per-head weights of
   * the new position: self (B, H, 1, t) and cross (B, H, 1, S).
   *
   * With `writeAt` (bool (C), true at one slot) the self-attention cache has a fixed capacity C
   * (selfK, selfV (B, H, C, D), preallocated): the new key and value are written at that slot
   * instead of appended, so every step has the same shapes (one compiled graph on the ort backend,
   * not one per length). tgtKeyPaddingMask (B, C) must then mask the slots not written yet.
   */
  step(x: Tensor, cache: DecoderLayerCache, memoryKeyPaddingMask: Tensor | null = null, tgtKeyPaddingMask: Tensor | null = null, writeAt: Tensor | null = null):
    { output: Tensor; cache: DecoderLayerCache; selfAttention: Tensor; crossAttention: Tensor } {
    const kvSource = this.normFirst ? this.norm1.forward(x) : x;
    const { k, v } = this.self_attn.projectKeyValue(kvSource, kvSource);
    let selfK: Tensor;
    let selfV: Tensor;
    if (writeAt) {
      if (!cache.selfK || !cache.selfV || writeAt.ndim !== 1 || cache.selfK.shape[2] !== writeAt.shape[0]) {
        throw new ShapeError(`TransformerDecoderLayer.step: writeAt ${fmtShape(writeAt.shape)} needs a preallocated cache whose selfK is (B, H, ${writeAt.shape[0]}, D), got ${cache.selfK ? fmtShape(cache.selfK.shape) : 'none'}`);
      }
      const slot = F.reshape(writeAt, [1, 1, writeAt.shape[0]!, 1]);
      selfK = F.where(slot, k, cache.selfK); // (B, H, 1, D) into slot t of (B, H, C, D)
      selfV = F.where(slot, v, cache.selfV);
    } else {
      selfK = cache.selfK ? F.cat([cache.selfK, k], 2) : k; // (B, H, t, D)
      selfV = cache.selfV ? F.cat([cache.selfV, v], 2) : v;
    }
    const next: DecoderLayerCache = { ...cache, selfK, selfV };
    let h: Tensor;
    let a: Tensor;
    let ws: Tensor;
    let wc: Tensor;
    if (this.normFirst) {
      [a, ws] = this.self_attn.attendProjected(kvSource, selfK, selfV, tgtKeyPaddingMask);
      h = F.add(x, this.dropout1.forward(a));
      [a, wc] = this.multihead_attn.attendProjected(this.norm2.forward(h), cache.crossK, cache.crossV, memoryKeyPaddingMask);
      h = F.add(h, this.dropout2.forward(a));
      h = F.add(h, this.ff(this.norm3.forward(h)));
    } else {
      [a, ws] = this.self_attn.attendProjected(x, selfK, selfV, tgtKeyPaddingMask);
      h = this.norm1.forward(F.add(x, this.dropout1.forward(a)));
      [a, wc] = this.multihead_attn.attendProjected(h, cache.crossK, cache.crossV, memoryKeyPaddingMask);
      h = this.norm2.forward(F.add(h, this.dropout2.forward(a)));
      h = this.norm3.forward(F.add(h, this.ff(h)));
    }
    return { output: h, cache: next, selfAttention: ws, crossAttention: wc };
  }
}

/** One decoder layer's key/value cache: self-attention over the positions so far, cross-attention over the memory; (B, H, n, D). */
export interface DecoderLayerCache {
  selfK: Tensor | null;
  selfV: Tensor | null;
  crossK: Tensor;
  crossV: Tensor;
}

/**
 * A stack of encoder layers (`layers.0`, `layers.1`, ...) and an optional final `norm`.
 * Deviation: PyTorch deep-copies one layer N times; zhuyi calls `makeLayer(i)` N times, so layers
 * start from independent draws (Transformer re-initialises them anyway, as PyTorch does).
 */
export class TransformerEncoder extends Module {
  layers: ModuleList<TransformerEncoderLayer>;
  norm: LayerNorm | null;
  constructor(makeLayer: (i: number) => TransformerEncoderLayer, readonly numLayers: number, norm: LayerNorm | null = null) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i)));
    this.norm = norm;
  }
  /** Output and each layer's self-attention weights (B, H, S, S). */
  forwardWithAttention(src: Tensor, masks: SelfAttentionMasks = {}, needWeights = true): { output: Tensor; attentions: Tensor[] } {
    masks = checkOptions('TransformerEncoder.forwardWithAttention', masks, SELF_ATTENTION_MASKS, ENCODER_MASK_ALIASES);
    let x = src;
    const attentions: Tensor[] = [];
    for (const layer of this.layers) {
      const r = layer.forwardWithAttention(x, masks, needWeights);
      x = r.output;
      if (r.attention) attentions.push(r.attention);
    }
    return { output: this.norm ? this.norm.forward(x) : x, attentions };
  }
  forward(src: Tensor, masks: SelfAttentionMasks = {}): Tensor {
    masks = checkOptions('TransformerEncoder.forward', masks, SELF_ATTENTION_MASKS, ENCODER_MASK_ALIASES);
    return this.forwardWithAttention(src, masks, false).output;
  }
}

/** A stack of decoder layers (`layers.N`) and an optional final `norm`; see TransformerEncoder. */
export class TransformerDecoder extends Module {
  layers: ModuleList<TransformerDecoderLayer>;
  norm: LayerNorm | null;
  constructor(makeLayer: (i: number) => TransformerDecoderLayer, readonly numLayers: number, norm: LayerNorm | null = null) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i)));
    this.norm = norm;
  }
  /** Output and each layer's self-attention (B, H, T, T) and cross-attention (B, H, T, S) weights. */
  forwardWithAttention(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}, needWeights = true): { output: Tensor; selfAttentions: Tensor[]; crossAttentions: Tensor[] } {
    masks = checkOptions('TransformerDecoder.forwardWithAttention', masks, DECODER_MASKS);
    let x = tgt;
    const selfAttentions: Tensor[] = [];
    const crossAttentions: Tensor[] = [];
    for (const layer of this.layers) {
      const r = layer.forwardWithAttention(x, memory, masks, needWeights);
      x = r.output;
      if (r.selfAttention) selfAttentions.push(r.selfAttention);
      if (r.crossAttention) crossAttentions.push(r.crossAttention);
    }
    return { output: this.norm ? this.norm.forward(x) : x, selfAttentions, crossAttentions };
  }
  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    masks = checkOptions('TransformerDecoder.forward', masks, DECODER_MASKS);
    return this.forwardWithAttention(tgt, memory, masks, false).output;
  }
  /** Per-layer key/value caches for incremental decoding over `memory` (B, S, D), batch-first. */
  initCache(memory: Tensor): DecoderLayerCache[] {
    return [...this.layers].map((l) => l.initCache(memory));
  }
  /** One step of every layer (see TransformerDecoderLayer.step, also for `writeAt`): x (B, 1, D) -> output (B, 1, D), new caches, per-layer weights. */
  step(x: Tensor, caches: readonly DecoderLayerCache[], memoryKeyPaddingMask: Tensor | null = null, tgtKeyPaddingMask: Tensor | null = null, writeAt: Tensor | null = null):
    { output: Tensor; caches: DecoderLayerCache[]; selfAttentions: Tensor[]; crossAttentions: Tensor[] } {
    let h = x;
    const out: DecoderLayerCache[] = [];
    const selfAttentions: Tensor[] = [];
    const crossAttentions: Tensor[] = [];
    [...this.layers].forEach((layer, i) => {
      const r = layer.step(h, caches[i]!, memoryKeyPaddingMask, tgtKeyPaddingMask, writeAt);
      h = r.output;
      out.push(r.cache);
      selfAttentions.push(r.selfAttention);
      crossAttentions.push(r.crossAttention);
    });
    return { output: this.norm ? this.norm.forward(h) : h, caches: out, selfAttentions, crossAttentions };
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  dModel?: number;
  nhead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
}

export interface TransformerMasks {
  srcMask?: Tensor | null;
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention in the decoder (the same as tgtMask = generateSquareSubsequentMask(T)). */
  tgtIsCausal?: boolean;
}

/**
 * torch.nn.Transformer: encoder and decoder stacks, each with a final LayerNorm (PyTorch adds them
 * for post-norm too). Init as PyTorch's _reset_parameters: xavier_uniform_ on every matrix.
 */
export class Transformer extends Module {
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  constructor(options: TransformerOptions = {}) {
    options = checkOptions('Transformer', options, { dModel: 1, nhead: 1, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 1, dropout: 1, activation: 1, layerNormEps: 1, batchFirst: 1, normFirst: 1, generator: 1 });
    super();
    const o = layerDefaults(options);
    this.dModel = options.dModel ?? 512;
    this.nhead = options.nhead ?? 8;
    this.batchFirst = o.batchFirst;
    const [E, H] = [this.dModel, this.nhead];
    this.encoder = new TransformerEncoder(() => new TransformerEncoderLayer(E, H, o), options.numEncoderLayers ?? 6, new LayerNorm(E, o.layerNormEps));
    this.decoder = new TransformerDecoder(() => new TransformerDecoderLayer(E, H, o), options.numDecoderLayers ?? 6, new LayerNorm(E, o.layerNormEps));
    for (const p of this.parameters()) {
      if (p.ndim > 1) p.buffer = init.xavierUniform(p.shape, 1, o.generator).buffer;
    }
  }

  /** PyTorch's generate_square_subsequent_mask: (T, T) float, 0 on and below the diagonal, -inf above. */
  static generateSquareSubsequentMask(T: number): Tensor {
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -Infinity;
    return Tensor.fromBuffer(m, [T, T]);
  }

  forwardWithAttention(src: Tensor, tgt: Tensor, m: TransformerMasks = {}, needWeights = true): {
    output: Tensor; encoderAttentions: Tensor[]; decoderSelfAttentions: Tensor[]; decoderCrossAttentions: Tensor[];
  } {
    m = checkOptions('Transformer.forwardWithAttention', m, { srcMask: 1, tgtMask: 1, memoryMask: 1, srcKeyPaddingMask: 1, tgtKeyPaddingMask: 1, memoryKeyPaddingMask: 1, tgtIsCausal: 1 });
    const enc = this.encoder.forwardWithAttention(src, { mask: m.srcMask ?? null, keyPaddingMask: m.srcKeyPaddingMask ?? null }, needWeights);
    const dec = this.decoder.forwardWithAttention(tgt, enc.output, {
      tgtMask: m.tgtMask ?? null, memoryMask: m.memoryMask ?? null, tgtKeyPaddingMask: m.tgtKeyPaddingMask ?? null,
      memoryKeyPaddingMask: m.memoryKeyPaddingMask ?? null, tgtIsCausal: m.tgtIsCausal ?? false,
    }, needWeights);
    return { output: dec.output, encoderAttentions: enc.attentions, decoderSelfAttentions: dec.selfAttentions, decoderCrossAttentions: dec.crossAttentions };
  }

  forward(src: Tensor, tgt: Tensor, masks: TransformerMasks = {}): Tensor {
    masks = checkOptions('Transformer.forward', masks, { srcMask: 1, tgtMask: 1, memoryMask: 1, srcKeyPaddingMask: 1, tgtKeyPaddingMask: 1, memoryKeyPaddingMask: 1, tgtIsCausal: 1 });
    return this.forwardWithAttention(src, tgt, masks, false).output;
  }
}
