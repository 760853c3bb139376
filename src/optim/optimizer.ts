/**
 * Optimizers with PyTorch's formulas and PyTorch's shape of API:
 *
 *   optimizer.zeroGrad(); loss.backward(); clipGradNorm(params, 1); await optimizer.step(loss);
 *
 * Everything stays lazy until `step`: it builds every parameter's update (and new optimizer state)
 * as graph nodes over the lazy gradients, then realizes [extra tensors such as the loss, new
 * parameters, new state] in ONE realize, so on the ort backend forward, backward and update run in
 * one ONNX Runtime call. Hyperparameters that change between steps (lr, bias corrections) enter the
 * graph as scalar input tensors, never as constants, so one compiled graph serves the whole run.
 *
 * The gradients are consumed: after `step` every `p.grad` is null (a lazy gradient refers to the
 * parameter's pre-step values, so it could not be read afterwards anyway).
 */
import * as F from '../ops/functional.js';
import { ArgumentError, ZhuyiError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { realize } from '../tensor/realize.js';
import { Tensor, tensor } from '../tensor/tensor.js';

/** Hyperparameters of a group; `lr` always, the rest per optimizer. */
export interface GroupOptions {
  lr?: number;
  [key: string]: unknown;
}

export interface ParamGroupInput extends GroupOptions {
  params: Iterable<Tensor>;
}

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** The lr the schedule scales (PyTorch's `initial_lr`). */
  initialLr?: number;
  [key: string]: unknown;
}

/** Per-parameter state: tensors (moments, buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** PyTorch's optimizer state_dict layout: parameters are referred to by their index over all groups. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** One update: the new parameter value and the new state, both lazy. */
export interface Update {
  param: Tensor;
  state: ParamState;
}

/** Per-step scalar inputs of a group, shared by all its parameters (one graph input each). */
export type Scalars = Record<string, Tensor>;

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, readonly defaults: Required<Pick<GroupOptions, 'lr'>> & GroupOptions) {
    const list = [...(params as Iterable<Tensor | ParamGroupInput>)];
    if (list.length === 0) throw new ArgumentError(`${this.constructor.name}: got an empty parameter list`);
    const groups: ParamGroupInput[] = list.every((p) => p instanceof Tensor) ? [{ params: list as Tensor[] }] : (list as ParamGroupInput[]);
    for (const g of groups) this.addParamGroup(g);
  }

  addParamGroup(input: ParamGroupInput): void {
    const { params, ...options } = input;
    const ps = [...params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of ps) {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${this.constructor.name}: parameters must be tensors`);
      if (!p.isLeaf) throw new ArgumentError(`${this.constructor.name}: can't optimize a non-leaf tensor (${p})`);
      if (seen.has(p)) throw new ArgumentError(`${this.constructor.name}: some parameters appear in more than one parameter group`);
      seen.add(p);
    }
    const group = { ...this.defaults, ...options, params: ps } as ParamGroup;
    this.validate(group);
    this.paramGroups.push(group);
  }

  /** Checks a group's hyperparameters (PyTorch's ValueErrors). */
  protected validate(group: ParamGroup): void {
    if (!(group.lr >= 0)) throw new ArgumentError(`${this.constructor.name}: invalid learning rate ${group.lr}`);
  }

  /** Forgets every gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** The scalar inputs of one group for this step (realized leaves, so they are graph inputs). */
  protected abstract scalars(group: ParamGroup): Record<string, number>;

  /** One parameter's update from its gradient, hyperparameter tensors and state. */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup, s: Scalars, state: ParamState): Update;

  /**
   * Applies one update to every parameter that has a gradient. `alsoRealize` (the loss, a gradient
   * norm, metrics) is computed in the same run, so `await loss.item()` afterwards costs nothing.
   */
  async step(...alsoRealize: Tensor[]): Promise<void> {
    const pending: Array<{ p: Tensor; next: Update }> = [];
    noGrad(() => {
      for (const group of this.paramGroups) {
        const withGrad = group.params.filter((p) => p.grad);
        if (withGrad.length === 0) continue;
        const dtype = withGrad[0]!.dtype;
        const s: Scalars = {};
        for (const [k, v] of Object.entries(this.scalars(group))) s[k] = tensor([v], { dtype }).reshape([]);
        for (const p of withGrad) {
          const grad = p.grad!.dtype === p.dtype ? p.grad! : F.cast(p.grad!, p.dtype);
          pending.push({ p, next: this.update(p, grad, group, s, this.state.get(p) ?? {}) });
        }
      }
    });
    const stateTensors = pending.flatMap(({ next }) => Object.values(next.state).filter((v): v is Tensor => v instanceof Tensor));
    await realize(...alsoRealize, ...pending.map(({ next }) => next.param), ...stateTensors);
    for (const { p, next } of pending) {
      p.assign(next.param);
      for (const [k, v] of Object.entries(next.state)) if (v instanceof Tensor) next.state[k] = leaf(v);
      this.state.set(p, next.state);
      p.grad = null;
    }
  }

  /** PyTorch's layout: {state: {index: {...}}, param_groups: [{...hyperparameters, params: [indices]}]}. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const groups: OptimizerStateDict['param_groups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) state[index] = { ...s };
        ids.push(index++);
      }
      const { params: _params, initialLr, ...hyper } = g;
      groups.push({ ...snakeCase(hyper), ...(initialLr !== undefined ? { initial_lr: initialLr } : {}), params: ids });
    }
    return { state, param_groups: groups };
  }

  /** Restores state and hyperparameters saved by `stateDict()` (groups must match in number and size). */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || typeof sd.state !== 'object') {
      throw new ArgumentError(`${name}.loadStateDict: expected {state, param_groups}`);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new ArgumentError(`${name}.loadStateDict: the saved state has ${sd.param_groups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    sd.param_groups.forEach((saved, gi) => {
      const group = this.paramGroups[gi]!;
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new ArgumentError(`${name}.loadStateDict: group ${gi} has ${saved.params?.length} saved parameters, this optimizer ${group.params.length}`);
      }
      saved.params.forEach((id, k) => byIndex.set(id, group.params[k]!));
    });
    const restored = new Map<Tensor, ParamState>();
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id));
      if (!p) throw new ArgumentError(`${name}.loadStateDict: state for parameter ${id}, which no group lists`);
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Tensor && v.size !== p.size) {
          throw new ArgumentError(`${name}.loadStateDict: state '${k}' of parameter ${id} has ${v.size} values, the parameter ${p.size}`);
        }
      }
      restored.set(p, { ...s });
    }
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
    sd.param_groups.forEach((saved, gi) => {
      const { params: _p, initial_lr: initialLr, ...hyper } = saved;
      Object.assign(this.paramGroups[gi]!, camelCase(hyper));
      if (typeof initialLr === 'number') this.paramGroups[gi]!.initialLr = initialLr;
    });
  }

  /** The state dict as flat tensors (`state.3.exp_avg`) plus JSON for the rest: one safetensors file holds both. */
  flatStateDict(): { tensors: Record<string, Tensor>; meta: string } {
    const sd = this.stateDict();
    const tensors: Record<string, Tensor> = {};
    const numbers: Record<number, Record<string, number>> = {};
    for (const [id, s] of Object.entries(sd.state)) {
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Tensor) tensors[`state.${id}.${k}`] = v;
        else (numbers[Number(id)] ??= {})[k] = v;
      }
    }
    return { tensors, meta: JSON.stringify({ numbers, param_groups: sd.param_groups }) };
  }

  /** Inverse of `flatStateDict`. */
  loadFlatStateDict(tensors: Map<string, Tensor> | Record<string, Tensor>, meta: string): void {
    let parsed: { numbers: Record<string, Record<string, number>>; param_groups: OptimizerStateDict['param_groups'] };
    try {
      parsed = JSON.parse(meta) as typeof parsed;
    } catch (e) {
      throw new ArgumentError(`${this.constructor.name}.loadFlatStateDict: optimizer metadata is not JSON (${(e as Error).message})`);
    }
    const state: Record<number, ParamState> = {};
    for (const [id, s] of Object.entries(parsed.numbers ?? {})) state[Number(id)] = { ...s };
    const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
    for (const [key, t] of entries) {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key);
      if (!m) throw new ArgumentError(`${this.constructor.name}.loadFlatStateDict: unexpected key '${key}'`);
      (state[Number(m[1])] ??= {})[m[2]!] = t;
    }
    this.loadStateDict({ state, param_groups: parsed.param_groups });
  }
}

/**
 * A realized tensor as a fresh leaf with no history (state must not keep the step's graph alive).
 * Always a new tensor: two state entries computed as one tensor (AMSGrad's first max_exp_avg_sq is
 * exp_avg_sq) stay two graph inputs, so every step compiles to the same graph.
 */
function leaf(t: Tensor): Tensor {
  const out = F.detach(t);
  if (out.buffer === null) throw new ZhuyiError('optimizer: state was not realized');
  return out;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function snakeCase(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snake(k), v]));
}
function camelCase(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));
}
