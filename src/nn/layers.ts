/** The basic layers: Linear, Embedding, LayerNorm, Dropout, activations. PyTorch semantics and weight layouts. */
import * as F from '../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import * as init from './init.js';
import { Module, Parameter } from './module.js';
import { checkOptions } from '../tensor/options.js';

/** y = x W^T + b, W shaped (outFeatures, inFeatures) as in PyTorch. Init: U(-1/sqrt(in), 1/sqrt(in)) for both (PyTorch's kaiming_uniform(a=sqrt 5)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; generator?: Generator } = {}) {
    const { bias = true, generator = defaultGenerator } = checkOptions('Linear', options, { bias: 1, generator: 1 });
    super();
    this.weight = new Parameter(init.kaimingUniform([outFeatures, inFeatures], Math.sqrt(5), 'fanIn', generator));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = bias ? new Parameter(init.uniform([outFeatures], -bound, bound, generator)) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) throw new ShapeError(`Linear: input ${fmtShape(x.shape)} does not end in inFeatures=${this.inFeatures}`);
    const y = F.matmul(x, F.transpose(this.weight, 0, 1));
    return this.bias ? F.add(y, this.bias) : y;
  }
}

/** A lookup table (numEmbeddings, embeddingDim). Init N(0, 1); the paddingIdx row starts at zero and gets no gradient. */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: { paddingIdx?: number | null; generator?: Generator } = {}) {
    const { paddingIdx = null, generator = defaultGenerator } = checkOptions('Embedding', options, { paddingIdx: 1, generator: 1 });
    super();
    const w = init.normal([numEmbeddings, embeddingDim], 0, 1, generator);
    if (paddingIdx !== null) {
      const p = paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
      if (p < 0 || p >= numEmbeddings) throw new ArgumentError(`Embedding: paddingIdx ${paddingIdx} out of range for ${numEmbeddings} embeddings`);
      w.buffer!.fill(0, p * embeddingDim, (p + 1) * embeddingDim);
      this.paddingIdx = p;
    } else this.paddingIdx = null;
    this.weight = new Parameter(w);
  }
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, this.paddingIdx);
  }
}

/** F.embedding: rows of `weight` for indices of any shape; the paddingIdx row gets no gradient. */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  const flat = F.reshape(indices, [indices.size]);
  let out = F.indexSelect(weight, 0, flat);
  if (paddingIdx !== null && out.requiresGrad) {
    // Rows looked up at paddingIdx keep their value but pass no gradient (PyTorch's padding_idx).
    // Masking the (N, C) output is cheap; masking the (V, C) weight would cost a vocabulary-sized op per step.
    const isPad = F.unsqueeze(F.eq(flat, paddingIdx), 1);
    out = F.where(isPad, F.detach(out), out);
  }
  return F.reshape(out, [...indices.shape, weight.shape[1]!]);
}

/** Layer normalisation over the trailing normalizedShape dims with elementwise affine weight and bias. */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | readonly number[], readonly eps = 1e-5, options: { elementwiseAffine?: boolean; bias?: boolean } = {}) {
    const { elementwiseAffine = true, bias = true } = checkOptions('LayerNorm', options, { elementwiseAffine: 1, bias: 1 });
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.weight = elementwiseAffine ? new Parameter(init.ones(this.normalizedShape)) : null;
    this.bias = elementwiseAffine && bias ? new Parameter(init.zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout, active only in training mode; masks come from the seeded generator. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training, this.generator);
  }
}

export class ReLU extends Module { forward(x: Tensor): Tensor { return F.relu(x); } }
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return F.gelu(x, this.approximate); }
}
export class Tanh extends Module { forward(x: Tensor): Tensor { return F.tanh(x); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return F.sigmoid(x); } }
export class Identity extends Module { forward(x: Tensor): Tensor { return x; } }
