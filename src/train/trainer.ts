/**
 * The training loop every zhuyi task shares: AdamW, a warmup schedule, gradient clipping, one
 * realize per step, validation each epoch, best and last checkpoints written atomically, exact
 * resume, Ctrl-C that saves and stops, a NaN/Inf guard, a progress bar and a JSONL log.
 *
 * A task supplies the model, the batches (with a resumable position) and the loss of a batch; the
 * trainer owns everything else. Checkpoints are single safetensors files (see checkpoint.ts):
 * `last.safetensors` (every `saveEvery` steps, at every epoch end and on Ctrl-C) and
 * `best.safetensors` (when the validation metric improves). Everything a resumed run needs is in
 * them: weights, optimizer moments, schedule, data position, the global RNG and the log position,
 * so `--resume` ends with the same weights as an uninterrupted run.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import * as F from '../ops/functional.js';
import type { ParamGroupInput } from '../optim/optimizer.js';
import { AdamW } from '../optim/sgd-adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { getSchedule, type LambdaLR, type ScheduleName, type SchedulerState } from '../optim/lr-scheduler.js';
import { ZhuyiError } from '../tensor/errors.js';
import { defaultGenerator } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { progressBar } from '../io/progress.js';
import { ortStats } from '../backends/ort/backend.js';
import { loadCheckpoint, removeCheckpointTemps, saveCheckpoint } from './checkpoint.js';
import { withRunLock } from './lock.js';
import { type OptionKeys, checkOptions } from '../tensor/options.js';

export class TrainingError extends ZhuyiError {}

export interface TrainOptions {
  /** Folder for checkpoints and the log (created). */
  outDir: string;
  /** Stop after this many epochs (default 10) ... */
  epochs?: number;
  /** ... or this many optimizer steps, whichever comes first. */
  maxSteps?: number;
  /** Peak learning rate (default 5e-4). */
  lr?: number;
  /** Warmup steps (default: `warmupRatio` of the planned steps, else 4% of them, at least 1) ... */
  warmup?: number;
  /** ... or this share of the planned optimizer steps, rounded up as Hugging Face's warmup_ratio. */
  warmupRatio?: number;
  /** 'noam' (warmup then inverse square root, the paper's), 'linear' (default), 'cosine', 'constant'. */
  schedule?: ScheduleName;
  /** AdamW's decoupled weight decay (default 0.01) ... */
  weightDecay?: number;
  /**
   * ... applied to no parameter whose name this returns true for (default: decay every parameter).
   * BERT fine-tuning passes `noDecayOnBiasAndNorm`, Hugging Face's and Google's rule.
   */
  noDecay?: (name: string) => boolean;
  /** AdamW's betas (default [0.9, 0.98]) and eps (default 1e-8). */
  betas?: [number, number];
  eps?: number;
  /**
   * Batches whose gradients are summed before one optimizer step (default 1). Each batch's loss is
   * divided by the number of batches in its step, so k batches of mean loss step as one batch of
   * k times the rows would (equal sizes); a step counts once for the schedule, logs and --max-steps.
   */
  gradAccum?: number;
  /** Max global gradient norm; 0 disables (default 1). */
  clipNorm?: number;
  /** Continue from outDir/last.safetensors. */
  resume?: boolean;
  /** Also save last.safetensors every this many steps (default 0: epoch ends only). */
  saveEvery?: number;
  /**
   * Also validate (and keep best.safetensors if better) every this many steps, as Hugging Face's
   * eval_steps (default 0: at epoch ends only). Validation runs in eval mode and draws no random
   * numbers, so it does not change the training trajectory.
   */
  validEvery?: number;
  /** Log a train line every this many steps (default 50). */
  logEvery?: number;
  /** Show the progress bar (default: when stderr is a TTY). */
  progress?: boolean;
  /** Extra JSON saved in every checkpoint (model config, tokenizer ...). */
  meta?: Record<string, unknown>;
  /** Stop after this many steps in this process (tests: simulates a crash after a checkpoint). */
  stopAfterSteps?: number;
}

const TRAIN_OPTIONS: OptionKeys<TrainOptions> = {
  outDir: 1, epochs: 1, maxSteps: 1, lr: 1, warmup: 1, warmupRatio: 1, schedule: 1, weightDecay: 1, noDecay: 1, betas: 1, eps: 1, gradAccum: 1, clipNorm: 1,
  resume: 1, saveEvery: 1, validEvery: 1, logEvery: 1, progress: 1, meta: 1, stopAfterSteps: 1,
};

const TRAIN_OPTION_KEYS = ['epochs', 'maxSteps', 'lr', 'warmup', 'warmupRatio', 'schedule', 'weightDecay', 'noDecay', 'betas', 'eps', 'gradAccum', 'clipNorm', 'resume', 'saveEvery', 'validEvery', 'logEvery', 'progress', 'stopAfterSteps'] as const;

/** The trainer's options among a task's (those set), for tasks whose options extend TrainOptions. */
export function pickTrainOptions(o: Partial<TrainOptions>): Omit<TrainOptions, 'outDir'> {
  const r: Record<string, unknown> = {};
  for (const k of TRAIN_OPTION_KEYS) if (o[k] !== undefined) r[k] = o[k];
  return r as Omit<TrainOptions, 'outDir'>;
}

/** What the trainer needs from a task. */
export interface TrainTask<B> {
  model: Module;
  /** Batches per epoch (for the schedule's total and the progress bar). */
  batchesPerEpoch: number;
  /** The remaining batches of the current epoch (all of them at its start). */
  epochBatches(): Iterable<B>;
  /** Moves the data to the next epoch (a new order from the data's seeded generator). */
  startNextEpoch(): void;
  /** JSON-serialisable data position, restored on resume. */
  dataPosition(): unknown;
  setDataPosition(p: unknown): void;
  /** Mean loss over the batch's target tokens (lazy), and the token count for throughput. */
  loss(batch: B): { loss: Tensor; tokens: number };
  /** Validation metrics (the model is in eval mode; build forwards under noGrad). */
  validate?(): Promise<Record<string, number>>;
  /** The metric that picks the best checkpoint and whether higher is better (default valid_loss, lower). */
  bestMetric?: { name: string; higherIsBetter: boolean };
}

export interface TrainerState {
  step: number;
  epoch: number;
  data: unknown;
  rng: number[];
  scheduler: SchedulerState;
  optimizer: string;
  best: { name: string; value: number; step: number } | null;
  meta: Record<string, unknown>;
  options: { lr: number; warmup: number; schedule: ScheduleName; totalSteps: number };
}

export interface TrainSummary {
  steps: number;
  epochs: number;
  lastLoss: number;
  best: TrainerState['best'];
  seconds: number;
  interrupted: boolean;
  history: Array<Record<string, number>>;
  /** ONNX Runtime sessions compiled during the run (training steps, validation, decoding), and the seconds spent compiling them. */
  sessionsCompiled: number;
  compileSeconds: number;
}

export const LAST = 'last.safetensors';
export const BEST = 'best.safetensors';
export const LOG = 'log.jsonl';

/**
 * Runs the loop; resolves when training ends, stops on Ctrl-C, throws TrainingError on a NaN/Inf loss.
 * Holds outDir's run lock (see lock.ts): a second run in the same folder is refused.
 */
export async function train<B>(task: TrainTask<B>, options: TrainOptions): Promise<TrainSummary> {
  options = checkOptions('train', options, TRAIN_OPTIONS);
  return withRunLock(options.outDir, 'train', () => trainLocked(task, options));
}

async function trainLocked<B>(task: TrainTask<B>, options: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  const compiledBefore = ortStats();
  const out = options.outDir;
  const epochs = options.epochs ?? 10;
  const gradAccum = options.gradAccum ?? 1;
  if (!(Number.isInteger(gradAccum) && gradAccum >= 1)) throw new TrainingError(`train: gradAccum must be a positive integer, got ${gradAccum}`);
  // The last group of an epoch may hold fewer than gradAccum batches; it is still a step.
  const stepsPerEpoch = Math.ceil(task.batchesPerEpoch / gradAccum);
  const totalSteps = Math.min(options.maxSteps ?? Infinity, epochs * stepsPerEpoch);
  if (!Number.isFinite(totalSteps) || totalSteps <= 0) throw new TrainingError(`train: nothing to do (epochs ${epochs}, maxSteps ${options.maxSteps}, ${task.batchesPerEpoch} batches per epoch)`);
  const lr = options.lr ?? 5e-4;
  const ratio = options.warmupRatio;
  if (ratio !== undefined && !(ratio >= 0 && ratio <= 1)) throw new TrainingError(`train: warmupRatio must be in [0, 1], got ${ratio}`);
  if (ratio !== undefined && options.warmup !== undefined) throw new TrainingError('train: give warmup steps or a warmup ratio, not both');
  const warmup = options.warmup ?? (ratio !== undefined ? Math.ceil(ratio * totalSteps) : Math.max(1, Math.round(0.04 * totalSteps)));
  const schedule = options.schedule ?? 'linear';
  const bestSpec = task.bestMetric ?? { name: 'valid_loss', higherIsBetter: false };
  const model = task.model;
  const params = model.parameters();
  const optimizer = new AdamW(decayGroups(model, options.weightDecay ?? 0.01, options.noDecay), { lr, betas: options.betas ?? [0.9, 0.98], eps: options.eps ?? 1e-8 });
  const scheduler: LambdaLR = getSchedule(optimizer, schedule, warmup, totalSteps);
  const logPath = join(out, LOG);

  let step = 0;
  let epoch = 0;
  let best: TrainerState['best'] = null;
  // A run killed while saving leaves its half-written temp file (the checkpoint itself is intact).
  removeCheckpointTemps(out, [LAST, BEST]);
  if (options.resume) {
    const path = join(out, LAST);
    const ck = loadCheckpoint<TrainerState>(path);
    const result = await model.loadStateDict(ck.model);
    void result;
    optimizer.loadFlatStateDict(ck.optimizer, ck.state.optimizer);
    scheduler.loadStateDict(ck.state.scheduler);
    task.setDataPosition(ck.state.data);
    defaultGenerator.setState(ck.state.rng);
    ({ step, epoch, best } = ck.state);
    truncateLog(logPath, step);
  } else if (existsSync(join(out, LAST))) {
    throw new TrainingError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
  } else {
    writeFileAtomic(logPath, '');
  }

  const history: Array<Record<string, number>> = [];
  const log = (entry: Record<string, number>): void => {
    history.push(entry);
    appendFileSync(logPath, `${JSON.stringify(entry)}\n`);
  };
  const save = async (file: string): Promise<void> => {
    const flat = optimizer.flatStateDict();
    const state: TrainerState = {
      step, epoch, data: task.dataPosition(), rng: defaultGenerator.getState(), scheduler: scheduler.stateDict(), optimizer: flat.meta, best,
      meta: options.meta ?? {}, options: { lr, warmup, schedule, totalSteps },
    };
    await saveCheckpoint(join(out, file), model.stateDict(), flat.tensors, state);
  };

  let interrupted = false;
  const onSigint = (): void => { interrupted = true; };
  process.on('SIGINT', onSigint);
  // src/io/progress.ts: on stderr in a terminal only; validation decoding shows inside this bar.
  const bar = progressBar({
    label: 'training', total: totalSteps, start: step, format: 'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}',
    payload: { epoch: epoch + 1, loss: '-', tps: '-' }, ...(options.progress !== undefined && { enabled: options.progress }),
  });

  const logEvery = options.logEvery ?? 50;
  let lastLoss = NaN;
  let windowLoss = 0;
  let windowSteps = 0;
  let windowTokens = 0;
  let windowStart = performance.now();
  let stepsThisRun = 0;
  let validatedAt = -1;
  model.train();
  try {
    while (step < totalSteps && epoch < epochs && !interrupted) {
      let finishedEpoch = true;
      for (const group of accumulationGroups(task.epochBatches(), gradAccum)) {
        optimizer.zeroGrad();
        // Every batch but the last is forward + backward only, its gradients realized (the graph cut
        // there); the last one's graph also holds the clipping and the update: one run per batch.
        let value = 0;
        let tokens = 0;
        let last: Tensor | null = null;
        for (const [k, batch] of group.entries()) {
          const r = task.loss(batch);
          const scaled = group.length === 1 ? r.loss : F.div(r.loss, group.length);
          scaled.backward();
          tokens += r.tokens;
          if (k < group.length - 1) {
            await realize(r.loss, ...params.flatMap((p) => (p.grad ? [p.grad] : [])));
            value += (await r.loss.item()) / group.length;
          } else last = r.loss;
        }
        const loss = last!;
        const norm = options.clipNorm === 0 ? null : clipGradNorm(params, options.clipNorm ?? 1);
        await (norm ? optimizer.step(loss, norm) : optimizer.step(loss));
        value += (await loss.item()) / group.length;
        if (!Number.isFinite(value)) {
          throw new TrainingError(`loss is ${value} at step ${step + 1} (epoch ${epoch + 1}); stopped. The last good checkpoint is ${join(out, LAST)}${existsSync(join(out, LAST)) ? '' : ' (none written yet)'}; lower --lr or raise --warmup`);
        }
        scheduler.step();
        step++;
        stepsThisRun++;
        lastLoss = value;
        windowLoss += value;
        windowSteps++;
        windowTokens += tokens;
        const secs = (performance.now() - windowStart) / 1000;
        bar.update(step, { epoch: epoch + 1, loss: value.toFixed(3), tps: Math.round(windowTokens / Math.max(secs, 1e-9)) });
        if (step % logEvery === 0 || step === totalSteps) {
          log({ step, epoch: epoch + 1, train_loss: windowLoss / windowSteps, lr: optimizer.paramGroups[0]!.lr, tokens_per_s: windowTokens / Math.max(secs, 1e-9), ...(norm ? { grad_norm: await norm.item() } : {}) });
          windowLoss = 0; windowSteps = 0; windowTokens = 0; windowStart = performance.now();
        }
        // Mid-epoch validation (the epoch-end one follows the loop); it is logged with the epoch in progress.
        if (options.validEvery && step % options.validEvery === 0 && step < totalSteps) await validate(epoch + 1);
        if (options.saveEvery && step % options.saveEvery === 0) await save(LAST);
        if (options.stopAfterSteps !== undefined && stepsThisRun >= options.stopAfterSteps) interrupted = true;
        if (interrupted || step >= totalSteps) { finishedEpoch = false; break; }
      }
      if (interrupted) { await save(LAST); break; }
      if (finishedEpoch) epoch++;
      // Epoch end (or the step budget ran out mid-epoch): validate, keep the best, move the data to
      // the next epoch, then save last: a resumed run starts exactly there.
      if (validatedAt !== step) await validate(finishedEpoch ? epoch : epoch + 1);
      if (finishedEpoch && epoch < epochs && step < totalSteps) task.startNextEpoch();
      await save(LAST);
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
  const compiled = ortStats();
  return {
    steps: step, epochs: epoch, lastLoss, best, seconds: (performance.now() - started) / 1000, interrupted, history,
    sessionsCompiled: Math.max(0, compiled.misses - compiledBefore.misses), compileSeconds: Math.max(0, compiled.compileMs - compiledBefore.compileMs) / 1000,
  };

  async function validate(epochNumber: number): Promise<void> {
    if (!task.validate) return;
    validatedAt = step;
    model.eval();
    const metrics = await task.validate!();
    model.train();
    log({ step, epoch: epochNumber, ...metrics });
    const value = metrics[bestSpec.name];
    if (value !== undefined && Number.isFinite(value) && (best === null || (bestSpec.higherIsBetter ? value > best.value : value < best.value))) {
      best = { name: bestSpec.name, value, step };
      await save(BEST);
    }
  }
}

/** Drops log lines written after the checkpoint's step (a killed run may have logged past it). */
function truncateLog(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { step?: number }).step! <= step;
    } catch {
      return false;
    }
  });
  writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}

/**
 * Hugging Face's and Google BERT's weight-decay exclusion: biases and LayerNorm parameters (HF's
 * `get_decay_parameter_names` skips LayerNorm modules and names containing 'bias'; Google's
 * optimization.py excludes 'LayerNorm', 'layer_norm' and 'bias').
 */
export function noDecayOnBiasAndNorm(name: string): boolean {
  return /(^|\.)bias$/.test(name) || /(^|\.)(LayerNorm|layer_norm)\./.test(name);
}

/** @internal AdamW's parameter groups: decayed, and (when `noDecay` picks any) undecayed; empty groups left out. */
export function decayGroups(model: Module, weightDecay: number, noDecay?: (name: string) => boolean): ParamGroupInput[] {
  const named = model.namedParameters();
  if (!noDecay) return [{ params: named.map(([, p]) => p), weightDecay }];
  const groups: ParamGroupInput[] = [
    { params: named.filter(([n]) => !noDecay(n)).map(([, p]) => p), weightDecay },
    { params: named.filter(([n]) => noDecay(n)).map(([, p]) => p), weightDecay: 0 },
  ];
  return groups.filter((g) => (g.params as Tensor[]).length > 0);
}

/** The epoch's batches in groups of `size` (the last may be shorter): the batches of one optimizer step. */
function* accumulationGroups<B>(batches: Iterable<B>, size: number): IterableIterator<B[]> {
  let group: B[] = [];
  for (const b of batches) {
    group.push(b);
    if (group.length === size) { yield group; group = []; }
  }
  if (group.length > 0) yield group;
}
