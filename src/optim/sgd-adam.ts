/**
 * SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW (decoupled weight decay,
 * Loshchilov & Hutter 2019), each the formula of torch.optim's single-tensor implementation.
 */
import * as F from '../ops/functional.js';
import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState, type Scalars, type Update } from './optimizer.js';
import { checkOptions } from '../tensor/options.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Ascend instead of descend. */
  maximize?: boolean;
}

/** torch.optim.SGD. */
export class SGD extends Optimizer {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, options: SGDOptions = {}) {
    options = checkOptions('SGD', options, { lr: 1, momentum: 1, dampening: 1, weightDecay: 1, nesterov: 1, maximize: 1 });
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected override validate(g: ParamGroup): void {
    super.validate(g);
    if (!((g.momentum as number) >= 0)) throw new ArgumentError(`SGD: invalid momentum ${g.momentum}`);
    if (!((g.weightDecay as number) >= 0)) throw new ArgumentError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (!((g.momentum as number) > 0) || g.dampening !== 0)) throw new ArgumentError('SGD: Nesterov momentum requires a momentum and zero dampening');
  }

  protected scalars(g: ParamGroup): Record<string, number> {
    return { lr: g.lr };
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup, s: Scalars, state: ParamState): Update {
    const momentum = g.momentum as number;
    const wd = g.weightDecay as number;
    let d = g.maximize ? F.neg(grad) : grad;
    if (wd !== 0) d = F.add(d, F.mul(p, wd));
    const next: ParamState = {};
    if (momentum !== 0) {
      const prev = state.momentum_buffer as Tensor | undefined;
      // The first step's buffer is the gradient itself (no dampening), as in PyTorch.
      const buf = prev ? F.add(F.mul(prev, momentum), F.mul(d, 1 - (g.dampening as number))) : d;
      next.momentum_buffer = buf;
      d = g.nesterov ? F.add(d, F.mul(buf, momentum)) : buf;
    }
    return { param: F.sub(p, F.mul(d, s.lr!)), state: next };
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** torch.optim.Adam (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, options: AdamOptions = {}, defaults: AdamOptions = {}) {
    options = checkOptions(new.target.name, options, { lr: 1, betas: 1, eps: 1, weightDecay: 1, amsgrad: 1, maximize: 1 });
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...defaults, ...options });
  }

  protected override validate(g: ParamGroup): void {
    super.validate(g);
    const [b1, b2] = g.betas as [number, number];
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new ArgumentError(`${this.constructor.name}: invalid betas [${b1}, ${b2}] (each in [0, 1))`);
    if (!((g.eps as number) >= 0)) throw new ArgumentError(`${this.constructor.name}: invalid eps ${g.eps}`);
    if (!((g.weightDecay as number) >= 0)) throw new ArgumentError(`${this.constructor.name}: invalid weightDecay ${g.weightDecay}`);
  }

  /** Every parameter of a group steps together, so the group's step count is the first one's + 1. */
  private nextStep(g: ParamGroup): number {
    for (const p of g.params) {
      const s = this.state.get(p);
      if (p.grad && s && typeof s.step === 'number') return s.step + 1;
    }
    return 1;
  }

  protected scalars(g: ParamGroup): Record<string, number> {
    const [b1, b2] = g.betas as [number, number];
    const t = this.nextStep(g);
    return {
      lr: g.lr,
      // step_size = lr / (1 - b1^t); denom = sqrt(v) / sqrt(1 - b2^t) + eps
      stepSize: g.lr / (1 - b1 ** t),
      invBc2Sqrt: 1 / Math.sqrt(1 - b2 ** t),
      decay: 1 - g.lr * (g.weightDecay as number),
    };
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup, s: Scalars, state: ParamState): Update {
    const [b1, b2] = g.betas as [number, number];
    const wd = g.weightDecay as number;
    let d = g.maximize ? F.neg(grad) : grad;
    let param = p;
    if (wd !== 0) {
      if (this.decoupled) param = F.mul(p, s.decay!);
      else d = F.add(d, F.mul(p, wd));
    }
    const m0 = state.exp_avg as Tensor | undefined;
    const v0 = state.exp_avg_sq as Tensor | undefined;
    // m = b1 m + (1 - b1) g ; v = b2 v + (1 - b2) g^2 (zero state on the first step)
    const m = m0 ? F.add(F.mul(m0, b1), F.mul(d, 1 - b1)) : F.mul(d, 1 - b1);
    const v = v0 ? F.add(F.mul(v0, b2), F.mul(F.mul(d, d), 1 - b2)) : F.mul(F.mul(d, d), 1 - b2);
    const next: ParamState = { step: ((state.step as number | undefined) ?? 0) + 1, exp_avg: m, exp_avg_sq: v };
    let vHat = v;
    if (g.amsgrad) {
      const vMax0 = state.max_exp_avg_sq as Tensor | undefined;
      vHat = vMax0 ? F.maximum(vMax0, v) : v;
      next.max_exp_avg_sq = vHat;
    }
    const denom = F.add(F.mul(F.sqrt(vHat), s.invBc2Sqrt!), g.eps as number);
    return { param: F.sub(param, F.mul(F.div(m, denom), s.stepSize!)), state: next };
  }
}

/** torch.optim.AdamW: decoupled weight decay p <- p (1 - lr wd) before the Adam step; default wd 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, options: AdamOptions = {}) {
    options = checkOptions('AdamW', options, { lr: 1, betas: 1, eps: 1, weightDecay: 1, amsgrad: 1, maximize: 1 });
    super(params, options, { weightDecay: 1e-2 });
  }
}
