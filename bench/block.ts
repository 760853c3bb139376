/**
 * One Transformer-encoder block (post-norm: x + MHA -> LayerNorm -> x + FFN -> LayerNorm) with an
 * MSE loss and a plain SGD update, written with zhuyi ops. bench/pytorch/block.py is the same
 * computation in PyTorch, parameter for parameter.
 */
import * as z from '../src/index.js';
import type { Tensor } from '../src/index.js';

export interface BlockConfig { B: number; T: number; C: number; H: number; FF: number }
export const BLOCK: BlockConfig = { B: 32, T: 64, C: 256, H: 4, FF: 1024 };

export interface BlockState { params: Tensor[]; x: Tensor; target: Tensor }

/** Parameters in x @ W layout: Wqkv [C,3C], bqkv, Wo [C,C], bo, ln1 w/b, W1 [C,FF], b1, W2 [FF,C], b2, ln2 w/b. */
export async function initBlock(cfg: BlockConfig, seed = 0): Promise<BlockState> {
  const g = new z.Generator(seed);
  const { B, T, C, FF } = cfg;
  const w = (i: number, o: number): Tensor => z.randn([i, o], { generator: g }).mul(1 / Math.sqrt(i));
  const made = [
    w(C, 3 * C), z.zeros([3 * C]), w(C, C), z.zeros([C]), z.ones([C]), z.zeros([C]),
    w(C, FF), z.zeros([FF]), w(FF, C), z.zeros([C]), z.ones([C]), z.zeros([C]),
  ];
  await z.realize(...made);
  const params = made.map((p) => p.requiresGrad_()); // realized without history: leaves, as in PyTorch
  return { params, x: z.randn([B, T, C], { generator: g }), target: z.randn([B, T, C], { generator: g }) };
}

/** The block's output for input x [B,T,C]. */
export function blockForward(cfg: BlockConfig, p: readonly Tensor[], x: Tensor): Tensor {
  const { B, T, C, H } = cfg;
  const D = C / H;
  const [wqkv, bqkv, wo, bo, g1, b1n, w1, b1, w2, b2, g2, b2n] = p as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const qkv = x.matmul(wqkv).add(bqkv); // [B,T,3C]
  const heads = (t: Tensor): Tensor => t.reshape(B, T, H, D).permute(0, 2, 1, 3); // [B,H,T,D]
  const [q, k, v] = z.split(qkv, C, -1).map(heads) as [Tensor, Tensor, Tensor];
  const att = z.softmax(q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(D)), -1);
  const ctx = att.matmul(v).permute(0, 2, 1, 3).reshape(B, T, C);
  const h1 = z.layerNorm(x.add(ctx.matmul(wo).add(bo)), C, g1, b1n);
  const ff = z.gelu(h1.matmul(w1).add(b1)).matmul(w2).add(b2);
  return z.layerNorm(h1.add(ff), C, g2, b2n);
}

/** Mean squared error of the block's output against a target. */
export function blockLoss(cfg: BlockConfig, p: readonly Tensor[], x: Tensor, target: Tensor): Tensor {
  const d = blockForward(cfg, p, x).sub(target);
  return d.mul(d).mean();
}

/** Builds loss and SGD-updated parameters (lazy): realize them together for one training step. */
export function blockStep(cfg: BlockConfig, s: BlockState, lr = 0.01): { loss: Tensor; updated: Tensor[] } {
  const loss = blockLoss(cfg, s.params, s.x, s.target);
  const grads = z.grad(loss, s.params);
  return { loss, updated: z.noGrad(() => s.params.map((p, i) => p.sub(grads[i]!.mul(lr)))) };
}

/** Moves the realized updates into the parameters (no copy: the leaves take the new buffers). */
export function applyStep(s: BlockState, updated: readonly Tensor[]): void {
  s.params.forEach((p, i) => p.assign(updated[i]!));
}
