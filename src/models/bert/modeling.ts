/**
 * BERT's encoder, module for module as in Hugging Face's modeling_bert.py, bottom-up: embeddings,
 * self-attention, the residual sub-layers, one layer, the encoder stack, the pooler, BertModel.
 *
 * Property names ARE the state-dict keys (Module registers submodules by property name), so they
 * are HF's snake_case names, `LayerNorm` capitalised as in the original TF checkpoints. The full
 * parameter table of BertModel (L layers, C hidden, I intermediate, V vocab, P positions, Y types):
 *
 *   embeddings.word_embeddings.weight                 (V, C)
 *   embeddings.position_embeddings.weight             (P, C)
 *   embeddings.token_type_embeddings.weight           (Y, C)
 *   embeddings.LayerNorm.{weight,bias}                (C)
 *   encoder.layer.N.attention.self.{query,key,value}.weight   (C, C)   .bias (C)
 *   encoder.layer.N.attention.output.dense.weight     (C, C)           .bias (C)
 *   encoder.layer.N.attention.output.LayerNorm.{weight,bias}          (C)
 *   encoder.layer.N.intermediate.dense.weight         (I, C)           .bias (I)
 *   encoder.layer.N.output.dense.weight               (C, I)           .bias (C)
 *   encoder.layer.N.output.LayerNorm.{weight,bias}    (C)
 *   pooler.dense.weight                               (C, C)           .bias (C)   (optional)
 *
 * Shape letters: B batch, T tokens, C hidden, H heads, D = C / H head size.
 * Post-norm throughout (LayerNorm after each residual sum), as in the paper and HF.
 */
import * as F from '../../ops/functional.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../../nn/layers.js';
import { Module, ModuleList } from '../../nn/module.js';
import { zeros } from '../../tensor/creation.js';
import { ArgumentError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { BertActivation, BertConfig } from './config.js';
import { type BertConstructorOptions, BertPreTrainedModel } from './pretrained-core.js';
import { checkOptions } from '../../tensor/options.js';

/** HF adds (1 - mask) * finfo(float32).min to the scores: masked keys get ~-3.4e38, not -inf, so a fully masked row is uniform rather than NaN. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** HF's ACT2FN for the names BERT configs use. `gelu` is exact (erf); `gelu_new` is the tanh approximation. */
export function activation(name: BertActivation): (x: Tensor) => Tensor {
  switch (name) {
    case 'gelu': return (x) => F.gelu(x, 'none');
    case 'gelu_new':
    case 'gelu_pytorch_tanh': return (x) => F.gelu(x, 'tanh');
    case 'relu': return (x) => F.relu(x);
    case 'silu':
    case 'swish': return (x) => F.mul(x, F.sigmoid(x));
    case 'tanh': return (x) => F.tanh(x);
  }
}

/** Options every BERT forward takes besides the input ids. */
export interface BertForwardOptions {
  /** (B, T): 1 for tokens to attend to, 0 for padding (int, float or bool). (B, T, T) masks per query are accepted too. Default: all ones. */
  attentionMask?: Tensor | null;
  /** (B, T) segment ids (0 for sentence A, 1 for B). Default: zeros. */
  tokenTypeIds?: Tensor | null;
  /** (B, T) or (1, T) position indices. Default: 0..T-1. */
  positionIds?: Tensor | null;
  /** Return the attention probabilities of every layer, each (B, H, T, T). */
  outputAttentions?: boolean;
  /** Return the embeddings output and every layer's output, each (B, T, C) (L + 1 tensors). */
  outputHiddenStates?: boolean;
}

export interface BertModelOutput {
  /** (B, T, C) the last layer's output. */
  lastHiddenState: Tensor;
  /** (B, C) tanh(dense(first token's state)), or null without a pooler. */
  poolerOutput: Tensor | null;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

/** word + token_type + position embeddings, then LayerNorm and dropout. */
export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(readonly config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.word_embeddings = new Embedding(config.vocabSize, config.hiddenSize, { paddingIdx: config.padTokenId, generator });
    this.position_embeddings = new Embedding(config.maxPositionEmbeddings, config.hiddenSize, { generator });
    this.token_type_embeddings = new Embedding(config.typeVocabSize, config.hiddenSize, { generator });
    this.LayerNorm = new LayerNorm(config.hiddenSize, config.layerNormEps);
    this.dropout = new Dropout(config.hiddenDropoutProb);
    // HF registers position_ids as a non-persistent buffer; old checkpoints still carry it (ignored on load).
    this.registerBuffer('position_ids', Tensor.fromBuffer(Int32Array.from({ length: config.maxPositionEmbeddings }, (_, i) => i), [1, config.maxPositionEmbeddings]), false);
  }

  forward(inputIds: Tensor, tokenTypeIds: Tensor | null = null, positionIds: Tensor | null = null): Tensor {
    const [, T] = inputIds.shape as [number, number];
    if (T > this.config.maxPositionEmbeddings) {
      throw new ShapeError(`BertEmbeddings: sequence length ${T} exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`);
    }
    checkIds('input ids', inputIds, this.config.vocabSize);
    const positions = positionIds ?? F.slice(this.getBuffer('position_ids')!, 1, 0, T); // (1, T)
    const types = tokenTypeIds ?? zeros(inputIds.shape, { dtype: 'int32' });
    if (tokenTypeIds) checkIds('token type ids', tokenTypeIds, this.config.typeVocabSize);
    if (positionIds) checkIds('position ids', positionIds, this.config.maxPositionEmbeddings);
    // HF's order of the sums: (word + token_type) + position.
    let embeddings = F.add(this.word_embeddings.forward(inputIds), this.token_type_embeddings.forward(types)); // (B, T, C)
    embeddings = F.add(embeddings, this.position_embeddings.forward(positions));
    return this.dropout.forward(this.LayerNorm.forward(embeddings));
  }
}

/** Catches out-of-range ids with a readable message when the ids are already known (the usual case). */
function checkIds(what: string, ids: Tensor, limit: number): void {
  if (ids.dtype !== 'int32') throw new ArgumentError(`BertEmbeddings: ${what} must be int32, got ${ids.dtype}`);
  if (ids.buffer === null) return;
  for (const v of ids.buffer) if (v < 0 || v >= limit) throw new ArgumentError(`BertEmbeddings: ${what} contain ${v}, outside [0, ${limit})`);
}

/**
 * Multi-head scaled dot-product self-attention: softmax(Q K^T / sqrt(D) + mask) V per head.
 * HF divides the scores after the matmul (not Q before it); kept for bit-level agreement.
 */
export class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  dropout: Dropout;
  readonly numHeads: number;
  readonly headSize: number;

  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.numHeads = config.numAttentionHeads;
    this.headSize = config.attentionHeadSize;
    this.query = new Linear(config.hiddenSize, config.hiddenSize, { generator });
    this.key = new Linear(config.hiddenSize, config.hiddenSize, { generator });
    this.value = new Linear(config.hiddenSize, config.hiddenSize, { generator });
    this.dropout = new Dropout(config.attentionProbsDropoutProb);
  }

  private splitHeads(x: Tensor): Tensor {
    const [B, T] = x.shape as [number, number, number];
    return F.permute(F.reshape(x, [B, T, this.numHeads, this.headSize]), [0, 2, 1, 3]); // (B, T, C) -> (B, H, T, D)
  }

  /** hidden (B, T, C), additiveMask broadcastable to (B, H, T, T) -> context (B, T, C) and probabilities (B, H, T, T). */
  forward(hidden: Tensor, additiveMask: Tensor | null): { context: Tensor; probs: Tensor } {
    const [B, T, C] = hidden.shape as [number, number, number];
    const q = this.splitHeads(this.query.forward(hidden));
    const k = this.splitHeads(this.key.forward(hidden));
    const v = this.splitHeads(this.value.forward(hidden));
    let scores = F.div(F.matmul(q, F.transpose(k, -1, -2)), Math.sqrt(this.headSize)); // (B, H, T, T)
    if (additiveMask) scores = F.add(scores, additiveMask);
    // HF returns the probabilities after dropout as `attentions` (identical in eval mode).
    const probs = this.dropout.forward(F.softmax(scores, -1));
    const context = F.matmul(probs, v); // (B, H, T, D)
    return { context: F.reshape(F.permute(context, [0, 2, 1, 3]), [B, T, C]), probs }; // (B, H, T, D) -> (B, T, C)
  }
}

/** dense, dropout, then LayerNorm of the residual sum (HF's BertSelfOutput). */
export class BertSelfOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, { generator });
    this.LayerNorm = new LayerNorm(config.hiddenSize, config.layerNormEps);
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }
  forward(hidden: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(F.add(this.dropout.forward(this.dense.forward(hidden)), residual));
  }
}

/** The attention sub-layer: `self` attention then `output` (HF's BertAttention). */
export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertSelfOutput;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.self = new BertSelfAttention(config, generator);
    this.output = new BertSelfOutput(config, generator);
  }
  forward(hidden: Tensor, additiveMask: Tensor | null): { output: Tensor; probs: Tensor } {
    const { context, probs } = this.self.forward(hidden, additiveMask);
    return { output: this.output.forward(context, hidden), probs };
  }
}

/** The feed-forward expansion C -> I with hidden_act (HF's BertIntermediate). */
export class BertIntermediate extends Module {
  dense: Linear;
  private readonly act: (x: Tensor) => Tensor;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.dense = new Linear(config.hiddenSize, config.intermediateSize, { generator });
    this.act = activation(config.hiddenAct);
  }
  forward(hidden: Tensor): Tensor {
    return this.act(this.dense.forward(hidden));
  }
}

/** The feed-forward projection I -> C, dropout, LayerNorm of the residual sum (HF's BertOutput). */
export class BertOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.dense = new Linear(config.intermediateSize, config.hiddenSize, { generator });
    this.LayerNorm = new LayerNorm(config.hiddenSize, config.layerNormEps);
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }
  forward(hidden: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(F.add(this.dropout.forward(this.dense.forward(hidden)), residual));
  }
}

/** One encoder layer: attention sub-layer, then feed-forward sub-layer. */
export class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertOutput;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.attention = new BertAttention(config, generator);
    this.intermediate = new BertIntermediate(config, generator);
    this.output = new BertOutput(config, generator);
  }
  forward(hidden: Tensor, additiveMask: Tensor | null): { hidden: Tensor; probs: Tensor } {
    const { output: attended, probs } = this.attention.forward(hidden, additiveMask);
    return { hidden: this.output.forward(this.intermediate.forward(attended), attended), probs };
  }
}

export class BertEncoder extends Module {
  layer: ModuleList<BertLayer>;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.layer = new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new BertLayer(config, generator)));
  }
}

/** tanh(dense(h[:, 0])): the [CLS] state, transformed (trained by next-sentence prediction). */
export class BertPooler extends Module {
  dense: Linear;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, { generator });
  }
  forward(hidden: Tensor): Tensor {
    const first = F.squeeze(F.slice(hidden, 1, 0, 1), 1); // (B, T, C) -> (B, C)
    return F.tanh(this.dense.forward(first));
  }
}

/**
 * HF's get_extended_attention_mask: (B, T) -> (B, 1, 1, T), (B, T, T) -> (B, 1, T, T), then
 * (1 - mask) * finfo(float32).min, added to the scores.
 */
export function extendedAttentionMask(mask: Tensor, B: number, T: number): Tensor {
  let m: Tensor;
  if (mask.ndim === 2 && mask.shape[0] === B && mask.shape[1] === T) m = F.reshape(mask, [B, 1, 1, T]);
  else if (mask.ndim === 3 && mask.shape[0] === B && mask.shape[1] === T && mask.shape[2] === T) m = F.reshape(mask, [B, 1, T, T]);
  else throw new ShapeError(`BertModel: attentionMask ${fmtShape(mask.shape)} must be (B, T) = [${B},${T}] or (B, T, T)`);
  return F.mul(F.sub(1, F.cast(m, 'float32')), FLOAT32_MIN);
}

/** The bare encoder: embeddings, L layers, optional pooler. Returns states, not predictions. */
export class BertModel extends BertPreTrainedModel {
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { addPoolingLayer = true, generator = defaultGenerator, initialize = true } = checkOptions('BertModel', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.embeddings = new BertEmbeddings(config, generator);
    this.encoder = new BertEncoder(config, generator);
    this.pooler = addPoolingLayer ? new BertPooler(config, generator) : null;
    if (initialize) this.initWeights(generator);
  }

  /** inputIds (B, T) int32. */
  forward(inputIds: Tensor, options: BertForwardOptions = {}): BertModelOutput {
    options = checkOptions('BertModel.forward', options, { attentionMask: 1, tokenTypeIds: 1, positionIds: 1, outputAttentions: 1, outputHiddenStates: 1 });
    if (inputIds.ndim !== 2) throw new ShapeError(`BertModel: inputIds must be (B, T), got ${fmtShape(inputIds.shape)}`);
    const [B, T] = inputIds.shape as [number, number];
    for (const [name, t] of [['tokenTypeIds', options.tokenTypeIds], ['positionIds', options.positionIds]] as const) {
      if (t && (t.ndim !== 2 || (t.shape[0] !== B && t.shape[0] !== 1) || t.shape[1] !== T)) {
        throw new ShapeError(`BertModel: ${name} ${fmtShape(t.shape)} must be (B, T) = [${B},${T}]`);
      }
    }
    const additiveMask = options.attentionMask ? extendedAttentionMask(options.attentionMask, B, T) : null;
    // 1. Embed tokens, segments and positions.
    let hidden = this.embeddings.forward(inputIds, options.tokenTypeIds ?? null, options.positionIds ?? null);
    const hiddenStates: Tensor[] = [hidden];
    const attentions: Tensor[] = [];
    // 2. Run the encoder layers, each attending over the unmasked tokens.
    for (const layer of this.encoder.layer) {
      const out = layer.forward(hidden, additiveMask);
      hidden = out.hidden;
      hiddenStates.push(hidden);
      attentions.push(out.probs);
    }
    // 3. Pool the first token.
    const result: BertModelOutput = { lastHiddenState: hidden, poolerOutput: this.pooler ? this.pooler.forward(hidden) : null };
    if (options.outputHiddenStates) result.hiddenStates = hiddenStates;
    if (options.outputAttentions) result.attentions = attentions;
    return result;
  }
}
