/**
 * Attention: scaled dot-product attention (functional), Bahdanau's additive attention, Luong's
 * multiplicative attention, and PyTorch's MultiheadAttention. Shape letters: B batch, T query
 * positions, S key positions, E model width, H heads, D = E / H per head.
 *
 * Masks, everywhere in zhuyi: a bool mask is true where attention is NOT allowed (PyTorch 1.13's
 * MultiheadAttention convention; note torch 2.x's F.scaled_dot_product_attention uses the opposite
 * for bool masks); a float mask is added to the scores (0 = keep, -inf = drop). A fully masked row
 * gives NaN weights, as in PyTorch.
 *
 * Every module returns its weights; `headWeights(w)` shapes any of them as (B, H, T, S) for plots.
 */
import * as F from '../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import * as init from './init.js';
import { Linear } from './layers.js';
import { Module, Parameter } from './module.js';
import { checkOptions } from '../tensor/options.js';

// ---- masks --------------------------------------------------------------------------------------

/** Applies a bool (true = masked out) or additive float mask that broadcasts to `scores`. */
export function applyMask(scores: Tensor, mask: Tensor | null | undefined): Tensor {
  if (!mask) return scores;
  // A bool mask becomes an additive one on its own (small) shape: adding it to the scores is one
  // cheap broadcast add, where a select over the (B, H, T, S) scores is ~10x slower in ONNX Runtime
  // and needs a second select in the backward. Same weights and gradients: softmax sends both to 0.
  return F.add(scores, mask.dtype === 'bool' ? F.where(mask, -Infinity, 0) : mask);
}

/** Bool (T, S) mask, true above the diagonal: position t may attend to s <= t only. */
export function causalMask(T: number, S = T): Tensor {
  const m = new Uint8Array(T * S);
  for (let t = 0; t < T; t++) for (let s = t + 1; s < S; s++) m[t * S + s] = 1;
  return Tensor.fromBuffer(m, [T, S]);
}

/** Any attention weights as (B, H, T, S): (B, S) and (B, T, S) get H = 1 (and T = 1). */
export function headWeights(weights: Tensor): Tensor {
  if (weights.ndim === 2) return F.reshape(weights, [weights.shape[0]!, 1, 1, weights.shape[1]!]); // (B, S) -> (B, 1, 1, S)
  if (weights.ndim === 3) return F.unsqueeze(weights, 1); // (B, T, S) -> (B, 1, T, S)
  if (weights.ndim === 4) return weights;
  throw new ShapeError(`headWeights: weights ${fmtShape(weights.shape)} must be (B, S), (B, T, S) or (B, H, T, S)`);
}

// ---- scaled dot-product attention -----------------------------------------------------------------

export interface SDPAOptions {
  /** Bool (true = masked out) or additive float mask broadcasting to (..., T, S). */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (applied only when `training`, default true as in torch). */
  dropoutP?: number;
  training?: boolean;
  /** Adds the causal mask (query t sees keys s <= t), combined with attnMask if both are given. */
  isCausal?: boolean;
  /** Score scale, default 1 / sqrt(D). */
  scale?: number;
  generator?: Generator;
}

/**
 * Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V  (Vaswani et al. 2017, eq. 1), with the weights.
 * q (..., T, D), k (..., S, D), v (..., S, Dv) -> output (..., T, Dv), weights (..., T, S).
 * The weights returned are after dropout, as PyTorch 1.13's MultiheadAttention returns them.
 */
export function scaledDotProductAttentionWithWeights(q: Tensor, k: Tensor, v: Tensor, o: SDPAOptions = {}): { output: Tensor; weights: Tensor } {
  o = checkOptions('scaledDotProductAttentionWithWeights', o, { attnMask: 1, dropoutP: 1, training: 1, isCausal: 1, scale: 1, generator: 1 });
  const D = q.shape[q.ndim - 1]!;
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim || k.shape[k.ndim - 1] !== D || k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) {
    throw new ShapeError(`scaledDotProductAttention: expected q (..., T, D), k (..., S, D), v (..., S, Dv), got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const [T, S] = [q.shape[q.ndim - 2]!, k.shape[k.ndim - 2]!];
  const scale = o.scale ?? 1 / Math.sqrt(D);
  // PyTorch 1.13 scales q before the product (q / sqrt(D)); same here, for the same rounding.
  let scores = F.matmul(F.mul(q, scale), F.transpose(k, -2, -1)); // (..., T, D) @ (..., D, S) -> (..., T, S)
  scores = applyMask(scores, o.attnMask);
  if (o.isCausal) scores = applyMask(scores, causalMask(T, S));
  let weights = F.softmax(scores, -1);
  if (o.dropoutP) weights = F.dropout(weights, o.dropoutP, o.training ?? true, o.generator ?? defaultGenerator);
  return { output: F.matmul(weights, v), weights }; // (..., T, S) @ (..., S, Dv) -> (..., T, Dv)
}

/** softmax(Q K^T * scale + mask) V; see scaledDotProductAttentionWithWeights. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: SDPAOptions = {}): Tensor {
  options = checkOptions('scaledDotProductAttention', options, { attnMask: 1, dropoutP: 1, training: 1, isCausal: 1, scale: 1, generator: 1 });
  return scaledDotProductAttentionWithWeights(q, k, v, options).output;
}

// ---- Bahdanau and Luong ---------------------------------------------------------------------------

export interface AttentionMasks {
  /** (B, S), true (or -inf) at padded keys. */
  keyPaddingMask?: Tensor | null;
  /** (T, S) or (B, T, S), bool (true = masked out) or additive float. */
  attnMask?: Tensor | null;
}

/** AttentionMasks plus the keys' query-independent projection, computed once by `projectKeys`. */
export interface SeqAttentionOptions extends AttentionMasks {
  /**
   * `projectKeys(keys)`, when the same keys serve many queries (a decoder's steps): the projection
   * then runs once per sentence instead of once per step, and its gradient is one product.
   */
  projectedKeys?: Tensor;
}

export interface AttentionResult {
  /** (B, T, Dv), or (B, Dv) for a single query vector. */
  context: Tensor;
  /** (B, T, S), or (B, S) for a single query vector. */
  weights: Tensor;
}

/** Shared by the seq2seq attentions: scores (B, T, S) -> masked softmax -> weighted sum of values. */
function attend(name: string, scores: Tensor, values: Tensor, masks: AttentionMasks, single: boolean): AttentionResult {
  let s = scores;
  if (masks.keyPaddingMask) s = applyMask(s, F.unsqueeze(masks.keyPaddingMask, 1)); // (B, S) -> (B, 1, S)
  s = applyMask(s, masks.attnMask);
  if (!sameShape(s.shape, scores.shape)) throw new ShapeError(`${name}: masks do not broadcast to the scores ${fmtShape(scores.shape)}`);
  const weights = F.softmax(s, -1);
  const context = F.matmul(weights, values); // (B, T, S) @ (B, S, Dv) -> (B, T, Dv)
  return single ? { context: F.squeeze(context, 1), weights: F.squeeze(weights, 1) } : { context, weights }; // (B, 1, *) -> (B, *)
}

/** Queries (B, Dq) or (B, T, Dq); keys (B, S, Dk); values (B, S, Dv), default keys. */
function seqInputs(name: string, query: Tensor, keys: Tensor, values: Tensor | undefined, dq: number, dk: number): [Tensor, Tensor, boolean] {
  const v = values ?? keys;
  const ok = (query.ndim === 2 || query.ndim === 3) && query.shape[query.ndim - 1] === dq && keys.ndim === 3 && keys.shape[2] === dk
    && v.ndim === 3 && v.shape[0] === keys.shape[0] && v.shape[1] === keys.shape[1] && query.shape[0] === keys.shape[0];
  if (!ok) throw new ShapeError(`${name}: expected query (B, ${dq}) or (B, T, ${dq}), keys (B, S, ${dk}), values (B, S, Dv); got ${fmtShape(query.shape)}, ${fmtShape(keys.shape)}, ${fmtShape(v.shape)}`);
  return query.ndim === 2 ? [F.unsqueeze(query, 1), v, true] : [query, v, false]; // (B, Dq) -> (B, 1, Dq)
}

/** Checks a caller's `projectedKeys` against the keys (B, S, ·) and the projection's width; undefined when absent. */
function projected(name: string, p: Tensor | undefined, keys: Tensor, width: number): Tensor | undefined {
  if (p === undefined) return undefined;
  if (p.ndim !== 3 || p.shape[0] !== keys.shape[0] || p.shape[1] !== keys.shape[1] || p.shape[2] !== width) {
    throw new ShapeError(`${name}: projectedKeys must be projectKeys(keys) of shape ${fmtShape([keys.shape[0]!, keys.shape[1]!, width])}, got ${fmtShape(p.shape)}`);
  }
  return p;
}

/**
 * Bahdanau et al. 2015, eq. (6) of the appendix: e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j),
 * α = softmax_j(e), c_i = Σ_j α_ij h_j. Keys: `W.weight` (A, Dq), `U.weight` (A, Dk), `v.weight` (1, A).
 * Deviation: `bias` (default false, as in the paper) adds one bias, on U_a, where it costs nothing per query.
 */
export class AdditiveAttention extends Module {
  W: Linear;
  U: Linear;
  v: Linear;
  constructor(readonly queryDim: number, readonly keyDim: number, readonly hiddenDim: number, options: { bias?: boolean; generator?: Generator } = {}) {
    const { bias = false, generator = defaultGenerator } = checkOptions('AdditiveAttention', options, { bias: 1, generator: 1 });
    super();
    this.W = new Linear(queryDim, hiddenDim, { bias: false, generator });
    this.U = new Linear(keyDim, hiddenDim, { bias, generator });
    this.v = new Linear(hiddenDim, 1, { bias: false, generator });
  }
  /** U_a h_j for every key: keys (B, S, Dk) -> (B, S, A). Independent of the query (the paper's appendix A.1.2 precomputes it). */
  projectKeys(keys: Tensor): Tensor {
    return this.U.forward(keys);
  }
  forward(query: Tensor, keys: Tensor, values?: Tensor, options: SeqAttentionOptions = {}): AttentionResult {
    options = checkOptions('AdditiveAttention.forward', options, { projectedKeys: 1, keyPaddingMask: 1, attnMask: 1 });
    const [q, v, single] = seqInputs('AdditiveAttention', query, keys, values, this.queryDim, this.keyDim);
    const wq = F.unsqueeze(this.W.forward(q), 2); // (B, T, A) -> (B, T, 1, A)
    const uk = F.unsqueeze(projected('AdditiveAttention', options.projectedKeys, keys, this.hiddenDim) ?? this.projectKeys(keys), 1); // (B, S, A) -> (B, 1, S, A)
    const scores = F.squeeze(this.v.forward(F.tanh(F.add(wq, uk))), 3); // (B, T, S, A) -> (B, T, S, 1) -> (B, T, S)
    return attend('AdditiveAttention', scores, v, options, single);
  }
}

export type LuongScore = 'dot' | 'general' | 'concat';

/**
 * Luong et al. 2015, eq. (8): score(h_t, h̄_s) = h_t^T h̄_s (dot) | h_t^T W_a h̄_s (general) |
 * v_a^T tanh(W_a [h_t; h̄_s]) (concat). Keys: general `W.weight` (Dq, Dk); concat `W.weight`
 * (A, Dq + Dk) and `v.weight` (1, A). The attentional state h̃_t = tanh(W_c [c_t; h_t]) belongs to
 * the decoder, not here.
 */
export class LuongAttention extends Module {
  W: Linear | null = null;
  v: Linear | null = null;
  constructor(readonly score: LuongScore, readonly queryDim: number, readonly keyDim = queryDim, options: { hiddenDim?: number; generator?: Generator } = {}) {
    const { hiddenDim = queryDim, generator = defaultGenerator } = checkOptions('LuongAttention', options, { hiddenDim: 1, generator: 1 });
    super();
    if (score === 'dot' && queryDim !== keyDim) throw new ArgumentError(`LuongAttention: 'dot' needs queryDim == keyDim, got ${queryDim} and ${keyDim}`);
    if (score === 'general') this.W = new Linear(keyDim, queryDim, { bias: false, generator });
    else if (score === 'concat') {
      this.W = new Linear(queryDim + keyDim, hiddenDim, { bias: false, generator });
      this.v = new Linear(hiddenDim, 1, { bias: false, generator });
    } else if (score !== 'dot') throw new ArgumentError(`LuongAttention: score must be 'dot', 'general' or 'concat', got '${String(score)}'`);
  }
  /**
   * The query-independent part of the score for every key: keys (B, S, Dk) -> W_a h̄_s (B, S, Dq)
   * for general, W_k h̄_s (B, S, A) for concat, the keys themselves for dot.
   */
  projectKeys(keys: Tensor): Tensor {
    if (this.score === 'dot') return keys;
    if (this.score === 'general') return this.W!.forward(keys); // (B, S, Dk) -> (B, S, Dq)
    // W_a [h_t; h̄_s] = W_q h_t + W_k h̄_s with W_a = [W_q | W_k]: no (B, T, S, Dq + Dk) concatenation.
    const wk = F.slice(this.W!.weight, 1, this.queryDim, this.queryDim + this.keyDim); // (A, Dk)
    return F.matmul(keys, F.transpose(wk, 0, 1)); // (B, S, A)
  }
  forward(query: Tensor, keys: Tensor, values?: Tensor, options: SeqAttentionOptions = {}): AttentionResult {
    options = checkOptions('LuongAttention.forward', options, { projectedKeys: 1, keyPaddingMask: 1, attnMask: 1 });
    const [q, v, single] = seqInputs('LuongAttention', query, keys, values, this.queryDim, this.keyDim);
    const width = this.score === 'concat' ? this.v!.inFeatures : this.queryDim;
    const k = projected('LuongAttention', options.projectedKeys, keys, width) ?? this.projectKeys(keys);
    let scores: Tensor;
    if (this.score === 'concat') {
      const wq = F.slice(this.W!.weight, 1, 0, this.queryDim); // (A, Dq)
      const a = F.unsqueeze(F.matmul(q, F.transpose(wq, 0, 1)), 2); // (B, T, A) -> (B, T, 1, A)
      scores = F.squeeze(this.v!.forward(F.tanh(F.add(a, F.unsqueeze(k, 1)))), 3); // (B, T, S, A) -> (B, T, S)
    } else {
      scores = F.matmul(q, F.transpose(k, 1, 2)); // (B, T, Dq) @ (B, Dq, S) -> (B, T, S)
    }
    return attend('LuongAttention', scores, v, options, single);
  }
}

// ---- multi-head attention --------------------------------------------------------------------------

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  /** Key and value widths (default embedDim); when either differs, q/k/v get separate weights. */
  kdim?: number;
  vdim?: number;
  /** (B, T, E) instead of PyTorch's default (T, B, E). */
  batchFirst?: boolean;
  generator?: Generator;
}

export interface MultiheadAttentionForwardOptions {
  /** (B, S): bool true (or additive -inf) at padded keys. */
  keyPaddingMask?: Tensor | null;
  /** (T, S) or (B*H, T, S): bool (true = masked out) or additive float, as PyTorch. */
  attnMask?: Tensor | null;
  /** Return the weights (default true). */
  needWeights?: boolean;
  /** Average the weights over heads -> (B, T, S) (default true); false -> (B, H, T, S). */
  averageAttnWeights?: boolean;
  /** Adds the causal mask (not in torch 1.13's MultiheadAttention; equals attnMask = causal mask). */
  isCausal?: boolean;
}

/**
 * torch.nn.MultiheadAttention (1.13): MultiHead(Q, K, V) = Concat(head_1..head_H) W^O,
 * head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V). Keys as PyTorch: `in_proj_weight` (3E, E) or
 * `q_proj_weight` (E, E), `k_proj_weight` (E, kdim), `v_proj_weight` (E, vdim); `in_proj_bias` (3E);
 * `out_proj.weight`, `out_proj.bias`. Not supported: add_bias_kv, add_zero_attn.
 */
export class MultiheadAttention extends Module {
  q_proj_weight: Parameter | null = null;
  k_proj_weight: Parameter | null = null;
  v_proj_weight: Parameter | null = null;
  in_proj_weight: Parameter | null = null;
  in_proj_bias: Parameter | null;
  out_proj: Linear;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  private readonly generator: Generator;

  constructor(readonly embedDim: number, readonly numHeads: number, o: MultiheadAttentionOptions = {}) {
    o = checkOptions('MultiheadAttention', o, { dropout: 1, bias: 1, kdim: 1, vdim: 1, batchFirst: 1, generator: 1 });
    super();
    this.headDim = embedDim / numHeads;
    if (!Number.isInteger(this.headDim)) throw new ArgumentError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.kdim = o.kdim ?? embedDim;
    this.vdim = o.vdim ?? embedDim;
    this.dropout = o.dropout ?? 0;
    this.batchFirst = o.batchFirst ?? false;
    const g = (this.generator = o.generator ?? defaultGenerator);
    // PyTorch's _reset_parameters: xavier_uniform_ projections, zero biases, out_proj default Linear init.
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = new Parameter(init.xavierUniform([3 * embedDim, embedDim], 1, g));
    } else {
      this.q_proj_weight = new Parameter(init.xavierUniform([embedDim, embedDim], 1, g));
      this.k_proj_weight = new Parameter(init.xavierUniform([embedDim, this.kdim], 1, g));
      this.v_proj_weight = new Parameter(init.xavierUniform([embedDim, this.vdim], 1, g));
    }
    const bias = o.bias ?? true;
    this.in_proj_bias = bias ? new Parameter(init.zeros([3 * embedDim])) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, generator: g });
    if (this.out_proj.bias) this.out_proj.bias.buffer!.fill(0);
  }

  /** x (..., In) @ W^T + b for projection i (0 q, 1 k, 2 v). */
  private project(x: Tensor, i: number): Tensor {
    const E = this.embedDim;
    const w = this.in_proj_weight ? F.narrow(this.in_proj_weight, 0, i * E, E) : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][i]!;
    const y = F.matmul(x, F.transpose(w, 0, 1)); // (..., In) @ (In, E) -> (..., E)
    return this.in_proj_bias ? F.add(y, F.narrow(this.in_proj_bias, 0, i * E, E)) : y;
  }

  /**
   * Incremental decoding: keys and values projected and split into heads once, batch-first
   * (B, S, kdim) -> (B, H, S, D), so a decoder can cache them and append one position per step.
   */
  projectKeyValue(key: Tensor, value: Tensor): { k: Tensor; v: Tensor } {
    const [B, S] = [key.shape[0]!, key.shape[1]!];
    const heads = (x: Tensor): Tensor => F.permute(F.reshape(x, [B, S, this.numHeads, this.headDim]), [0, 2, 1, 3]);
    return { k: heads(this.project(key, 1)), v: heads(this.project(value, 2)) };
  }

  /**
   * Attention of a batch-first query (B, T, E) over keys and values already projected by
   * `projectKeyValue` (B, H, S, D); keyPaddingMask (B, S) true = ignore. Returns the output
   * (B, T, E) and the per-head weights (B, H, T, S). Equal to `forward` on the unprojected inputs.
   */
  attendProjected(query: Tensor, k: Tensor, v: Tensor, keyPaddingMask: Tensor | null = null): [Tensor, Tensor] {
    const [E, H, Dh] = [this.embedDim, this.numHeads, this.headDim];
    const [B, T, S] = [query.shape[0]!, query.shape[1]!, k.shape[2]!];
    const q = F.permute(F.reshape(this.project(query, 0), [B, T, H, Dh]), [0, 2, 1, 3]); // (B, T, E) -> (B, H, T, D)
    const { output, weights } = scaledDotProductAttentionWithWeights(q, k, v, {
      attnMask: keyPaddingMask ? F.reshape(keyPaddingMask, [B, 1, 1, S]) : null,
      dropoutP: this.dropout, training: this.training, generator: this.generator,
    });
    return [this.out_proj.forward(F.reshape(F.permute(output, [0, 2, 1, 3]), [B, T, E])), weights];
  }

  forward(query: Tensor, key: Tensor, value: Tensor, o: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    o = checkOptions('MultiheadAttention.forward', o, { keyPaddingMask: 1, attnMask: 1, needWeights: 1, averageAttnWeights: 1, isCausal: 1 });
    const [E, H, Dh] = [this.embedDim, this.numHeads, this.headDim];
    const unbatched = query.ndim === 2;
    const nd = unbatched ? 2 : 3;
    if (query.ndim !== nd || key.ndim !== nd || value.ndim !== nd || query.shape[nd - 1] !== E || key.shape[nd - 1] !== this.kdim || value.shape[nd - 1] !== this.vdim
      || !sameShape(key.shape.slice(0, -1), value.shape.slice(0, -1))) {
      const layout = this.batchFirst ? 'B, T' : 'T, B';
      throw new ShapeError(`MultiheadAttention: expected query (${layout}, ${E}), key (${layout.replace('T', 'S')}, ${this.kdim}), value (${layout.replace('T', 'S')}, ${this.vdim}) or unbatched; got ${fmtShape(query.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)}`);
    }
    // Work batch-first: (T, B, E) -> (B, T, E).
    const toBTE = (x: Tensor): Tensor => (unbatched ? F.unsqueeze(x, 0) : this.batchFirst ? x : F.transpose(x, 0, 1));
    const [qb, kb, vb] = [toBTE(query), toBTE(key), toBTE(value)];
    const [B, T, S] = [qb.shape[0]!, qb.shape[1]!, kb.shape[1]!];
    if (kb.shape[0] !== B) throw new ShapeError(`MultiheadAttention: query batch ${B} != key batch ${kb.shape[0]}`);
    // 1. Linear projections, split into heads: (B, T, E) -> (B, T, H, D) -> (B, H, T, D).
    const heads = (x: Tensor, n: number): Tensor => F.permute(F.reshape(x, [B, n, H, Dh]), [0, 2, 1, 3]);
    const q = heads(this.project(qb, 0), T);
    const k = heads(this.project(kb, 1), S);
    const v = heads(this.project(vb, 2), S);
    // 2. Masks as (B, H, T, S)-broadcastable tensors.
    let mask: Tensor | null = null;
    if (o.attnMask) {
      const m = o.attnMask;
      if (m.ndim === 2 && m.shape[0] === T && m.shape[1] === S) mask = m;
      else if (m.ndim === 3 && m.shape[0] === B * H && m.shape[1] === T && m.shape[2] === S) mask = F.reshape(m, [B, H, T, S]); // (B*H, T, S) -> (B, H, T, S)
      else throw new ShapeError(`MultiheadAttention: attnMask ${fmtShape(m.shape)} must be (${T}, ${S}) or (${B * H}, ${T}, ${S})`);
    }
    let kpm: Tensor | null = null;
    if (o.keyPaddingMask) {
      const m = unbatched && o.keyPaddingMask.ndim === 1 ? F.unsqueeze(o.keyPaddingMask, 0) : o.keyPaddingMask; // (S) -> (1, S)
      if (m.ndim !== 2 || m.shape[0] !== B || m.shape[1] !== S) throw new ShapeError(`MultiheadAttention: keyPaddingMask ${fmtShape(o.keyPaddingMask.shape)} must be (${B}, ${S})`);
      kpm = F.reshape(m, [B, 1, 1, S]); // (B, S) -> (B, 1, 1, S)
    }
    // 3. Scaled dot-product attention per head.
    const { output, weights } = scaledDotProductAttentionWithWeights(q, k, v, {
      attnMask: mask && kpm ? applyMask(applyMask(F.constant(0, [B, H, T, S]), mask), kpm) : mask ?? kpm,
      isCausal: o.isCausal ?? false,
      dropoutP: this.dropout,
      training: this.training,
      generator: this.generator,
    });
    // 4. Concatenate heads and project: (B, H, T, D) -> (B, T, H, D) -> (B, T, E).
    let out = this.out_proj.forward(F.reshape(F.permute(output, [0, 2, 1, 3]), [B, T, E])); // (B, H, T, D) -> (B, T, H, D) -> (B, T, E)
    out = unbatched ? F.squeeze(out, 0) : this.batchFirst ? out : F.transpose(out, 0, 1); // (B, T, E) -> input's layout
    if (!(o.needWeights ?? true)) return [out, null];
    let w = (o.averageAttnWeights ?? true) ? F.mean(weights, 1) : weights; // (B, H, T, S) -> (B, T, S)
    if (unbatched) w = F.squeeze(w, 0); // (1, ..., T, S) -> (..., T, S)
    return [out, w];
  }
}
