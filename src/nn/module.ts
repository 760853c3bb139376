/**
 * Module: the base of every layer and model. Submodules and parameters register themselves by
 * being assigned to properties (like PyTorch's __setattr__), in assignment order; names that are not
 * valid as properties (`weight_ih_l0_reverse` is fine, `0` is not) go through registerParameter /
 * registerModule. State-dict keys are exactly PyTorch's dotted names.
 */
import { ZhuyiError, fmtShape } from '../tensor/errors.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../tensor/options.js';

/** A trainable tensor: a leaf that requires grad. Optimizers replace its values with `assign`. */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (data.buffer === null) throw new ZhuyiError('Parameter: realize the initial value first');
    super(data.meta, null, [], {}, data.buffer, requiresGrad);
  }
}

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export class StateDictError extends ZhuyiError {}

export abstract class Module {
  training = true;
  private readonly _extraParameters = new Map<string, Parameter | null>();
  private readonly _extraModules = new Map<string, Module | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();

  /** Registers a parameter under a name (may be null, like PyTorch's `bias=False`). */
  registerParameter(name: string, p: Parameter | null): void {
    this._extraParameters.set(name, p);
  }

  registerModule(name: string, m: Module | null): void {
    this._extraModules.set(name, m);
  }

  /** Registers a non-trainable tensor that is saved in the state dict (unless persistent is false). */
  registerBuffer(name: string, t: Tensor | null, persistent = true): void {
    this._buffers.set(name, t);
    if (!persistent) this._nonPersistent.add(name);
  }

  getBuffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  /** A direct parameter by name (property-assigned or registered), or null. */
  getParameter(name: string): Parameter | null {
    const own = (this as Record<string, unknown>)[name];
    return own instanceof Parameter ? own : this._extraParameters.get(name) ?? null;
  }

  /** Direct parameters: property-assigned ones first (assignment order), then registered ones. */
  *namedDirectParameters(): Generator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) yield [k, v];
    for (const [k, v] of this._extraParameters) if (v) yield [k, v];
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
    for (const [k, v] of this._extraModules) if (v) yield [k, v];
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  /** All parameters with dotted names; a parameter shared by two modules is listed once. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.namedDirectParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [k, b] of m._buffers) if (b) out.push([path ? `${path}.${k}` : k, b]);
    }
    return out;
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and persistent buffers by PyTorch key. Tied parameters appear under every name, as in PyTorch. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      const key = (k: string): string => (path ? `${path}.${k}` : k);
      for (const [k, p] of m.namedDirectParameters()) out[key(k)] = p;
      for (const [k, b] of m._buffers) if (b && !m._nonPersistent.has(k)) out[key(k)] = b;
    }
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers (the tensors keep their
   * identity, so optimizers holding them stay valid). With `strict` (default), missing or
   * unexpected keys are an error; shape mismatches are always an error. All problems are listed.
   */
  async loadStateDict(dict: StateDict | Map<string, Tensor>, options: { strict?: boolean } = {}): Promise<LoadResult> {
    const { strict = true } = checkOptions(`${this.constructor.name}.loadStateDict`, options, { strict: 1 });
    const source = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !(k in own));
    const mismatched: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const v = source.get(k);
      if (v && !sameShape(v.shape, t.shape)) mismatched.push(`${k}: checkpoint ${fmtShape(v.shape)} vs model ${fmtShape(t.shape)}`);
    }
    const problems: string[] = [];
    if (mismatched.length) problems.push(`size mismatch for ${mismatched.join('; ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) throw new StateDictError(`loadStateDict(${this.constructor.name}): ${problems.join('; ')}`);
    for (const [k, t] of Object.entries(own)) {
      const v = source.get(k);
      if (!v) continue;
      const values = await v.to(t.dtype).data();
      t.buffer = values;
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Number of parameters (elements). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  toString(): string {
    return `${this.constructor.name}(${[...this.namedChildren()].map(([k, m]) => `${k}: ${m.constructor.name}`).join(', ')})`;
  }
}

/** Runs modules in order. */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = (m as unknown as { forward(t: Tensor): Tensor }).forward(y);
    return y;
  }
}

/** A list of submodules named '0', '1', ... (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  get(i: number): M {
    const m = this.items[i < 0 ? i + this.items.length : i];
    if (!m) throw new ZhuyiError(`ModuleList: index ${i} out of range for length ${this.items.length}`);
    return m;
  }
  get length(): number { return this.items.length; }
  [Symbol.iterator](): Iterator<M> { return this.items[Symbol.iterator](); }
}

/** Submodules by name (PyTorch's nn.ModuleDict). */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly items = new Map<string, M>();
  constructor(modules: Record<string, M> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }
  set(key: string, m: M): this {
    this.registerModule(key, m);
    this.items.set(key, m);
    return this;
  }
  get(key: string): M {
    const m = this.items.get(key);
    if (!m) throw new ZhuyiError(`ModuleDict: no module '${key}' (have ${[...this.items.keys()].join(', ')})`);
    return m;
  }
  keys(): string[] { return [...this.items.keys()]; }
}
