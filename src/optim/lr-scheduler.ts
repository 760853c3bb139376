/**
 * Learning-rate schedules in torch.optim.lr_scheduler's shape: construct after the optimizer (which
 * applies the factor for step 0), call `scheduler.step()` after each `optimizer.step()`. Factors are
 * plain functions of the step so `LambdaLR` reproduces PyTorch's LambdaLR exactly; the named
 * schedules are the lambdas the Transformer paper and Hugging Face use.
 */
import { ArgumentError } from '../tensor/errors.js';
import type { Optimizer } from './optimizer.js';
import { checkOptions } from '../tensor/options.js';

export type LrLambda = (step: number) => number;

export interface SchedulerState {
  last_epoch: number;
  base_lrs: number[];
  _step_count: number;
}

/** torch.optim.lr_scheduler.LambdaLR: lr = initial_lr * lambda(step), one lambda or one per group. */
export class LambdaLR {
  lastEpoch: number;
  readonly baseLrs: number[];
  private stepCount = 0;
  private readonly lambdas: LrLambda[];

  constructor(readonly optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], lastEpoch = -1) {
    const groups = optimizer.paramGroups;
    this.lambdas = Array.isArray(lrLambda) ? lrLambda : groups.map(() => lrLambda);
    if (this.lambdas.length !== groups.length) throw new ArgumentError(`LambdaLR: ${this.lambdas.length} lambdas for ${groups.length} parameter groups`);
    if (lastEpoch === -1) for (const g of groups) g.initialLr = g.lr;
    else if (groups.some((g) => g.initialLr === undefined)) throw new ArgumentError('LambdaLR: resuming (lastEpoch >= 0) needs initialLr in every parameter group');
    this.baseLrs = groups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.step();
  }

  /** Advances one step and sets every group's lr. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.baseLrs[i]! * this.lambdas[i]!(this.lastEpoch);
    });
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return { last_epoch: this.lastEpoch, base_lrs: [...this.baseLrs], _step_count: this.stepCount };
  }

  loadStateDict(s: SchedulerState): void {
    if (typeof s?.last_epoch !== 'number' || !Array.isArray(s.base_lrs) || s.base_lrs.length !== this.baseLrs.length) {
      throw new ArgumentError(`LambdaLR.loadStateDict: expected {last_epoch, base_lrs[${this.baseLrs.length}]}`);
    }
    this.lastEpoch = s.last_epoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...s.base_lrs);
    this.stepCount = s._step_count ?? 0;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = this.baseLrs[i]!;
      g.lr = this.baseLrs[i]! * this.lambdas[i]!(this.lastEpoch);
    });
  }
}

function checkSteps(name: string, warmup: number, total?: number): void {
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new ArgumentError(`${name}: warmup must be a non-negative integer, got ${warmup}`);
  if (total !== undefined && !(Number.isInteger(total) && total > 0)) throw new ArgumentError(`${name}: total steps must be a positive integer, got ${total}`);
}

/**
 * "Noam" (Vaswani et al. 2017, eq. 3, as the Annotated Transformer writes it):
 * factor * dModel^-0.5 * min(s^-0.5, s * warmup^-1.5), with s = max(step, 1). With dModel omitted the
 * factor is normalised to peak at 1 at s = warmup, so the optimizer's lr is the peak rate.
 */
export function noamLambda(warmup: number, options: { dModel?: number; factor?: number } = {}): LrLambda {
  options = checkOptions('noamLambda', options, { dModel: 1, factor: 1 });
  checkSteps('noamLambda', warmup);
  const w = Math.max(warmup, 1);
  const scale = (options.factor ?? 1) * (options.dModel !== undefined ? options.dModel ** -0.5 : Math.sqrt(w));
  return (step) => {
    const s = Math.max(step, 1);
    return scale * Math.min(s ** -0.5, s * w ** -1.5);
  };
}

/** Hugging Face's linear schedule: 0 -> 1 over warmup steps, then 1 -> 0 at totalSteps. */
export function linearWarmupDecayLambda(warmup: number, totalSteps: number): LrLambda {
  checkSteps('linearWarmupDecayLambda', warmup, totalSteps);
  return (step) => (step < warmup ? step / Math.max(1, warmup) : Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup)));
}

/** Hugging Face's cosine schedule: linear warmup, then half a cosine (numCycles 0.5) down to 0. */
export function cosineWarmupLambda(warmup: number, totalSteps: number, numCycles = 0.5): LrLambda {
  checkSteps('cosineWarmupLambda', warmup, totalSteps);
  return (step) => {
    if (step < warmup) return step / Math.max(1, warmup);
    const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

/** Linear warmup to 1, then constant. */
export function constantWarmupLambda(warmup: number): LrLambda {
  checkSteps('constantWarmupLambda', warmup);
  return (step) => (step < warmup ? step / Math.max(1, warmup) : 1);
}

export type ScheduleName = 'noam' | 'linear' | 'cosine' | 'constant';

/** A named schedule as a LambdaLR (what the CLI's --schedule picks). */
export function getSchedule(optimizer: Optimizer, name: ScheduleName, warmup: number, totalSteps?: number): LambdaLR {
  switch (name) {
    case 'noam': return new LambdaLR(optimizer, noamLambda(warmup));
    case 'linear': return new LambdaLR(optimizer, linearWarmupDecayLambda(warmup, need(name, totalSteps)));
    case 'cosine': return new LambdaLR(optimizer, cosineWarmupLambda(warmup, need(name, totalSteps)));
    case 'constant': return new LambdaLR(optimizer, constantWarmupLambda(warmup));
    default: throw new ArgumentError(`schedule must be one of noam, linear, cosine, constant; got '${String(name)}'`);
  }
}

function need(name: string, total: number | undefined): number {
  if (total === undefined) throw new ArgumentError(`the '${name}' schedule needs the total number of steps`);
  return total;
}
