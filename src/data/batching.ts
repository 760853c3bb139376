/**
 * Length-bucketed batches sized by token count. Each side of an example is padded up to the
 * smallest length in a small fixed set of buckets, and a batch holds examples of one (source
 * bucket, target bucket) pair, as many rows as fit the token budget: rows * max(S, T) <= maxTokens
 * (fairseq's convention: padded tokens count). So a whole run uses a handful of shapes and the
 * ONNX Runtime session cache stays small (DESIGN.md, "Shapes are concrete").
 *
 * The order of an epoch comes from a seeded zhuyi Generator; the position (epoch, batch index,
 * generator state at the start of the epoch) is plain JSON, saved in checkpoints, and
 * `setPosition` continues with exactly the batches an uninterrupted run would have seen.
 */
import { Generator } from '../tensor/random.js';
import { ArgumentError } from '../tensor/errors.js';
import { checkOptions } from '../tensor/options.js';

/** Token ids of one example (add `<bos>`/`<eos>` before batching if the model wants them). */
export interface TokenizedExample {
  source: ArrayLike<number>;
  target: ArrayLike<number>;
}

export interface LengthFilter {
  /** Longest source kept, in tokens. */
  maxSourceLength?: number;
  maxTargetLength?: number;
  /** Shortest side kept (default 1). */
  minLength?: number;
  /** Drop pairs whose longer side is more than this many times the shorter (e.g. 9 as Moses' clean-corpus). */
  maxRatio?: number;
}

/** Keeps the examples that pass; `dropped` says how many did not (report it). */
export function filterByLength<T extends TokenizedExample>(examples: readonly T[], f: LengthFilter): { kept: T[]; dropped: number } {
  const { maxSourceLength = Infinity, maxTargetLength = Infinity, minLength = 1, maxRatio = Infinity } = f;
  const kept = examples.filter(({ source: s, target: t }) =>
    s.length >= minLength && t.length >= minLength && s.length <= maxSourceLength && t.length <= maxTargetLength &&
    Math.max(s.length, t.length) <= maxRatio * Math.min(s.length, t.length));
  return { kept, dropped: examples.length - kept.length };
}

export const DEFAULT_BUCKETS: readonly number[] = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

export interface BatchOptions {
  /** Token budget per batch: rows * max(paddedSource, paddedTarget) <= maxTokens. */
  maxTokens: number;
  /** Padded lengths, ascending (default 8, 12, 16, 24, 32, 48, ... 512). */
  buckets?: readonly number[];
  /** Shuffle examples within buckets and the order of batches each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the batcher's own generator (default 0). */
  seed?: number;
  padId?: number;
  /**
   * Pad every batch of a bucket pair to the same row count with empty rows (source length 1, all
   * padding, target length 0). Batch shapes then repeat exactly, so a compiling backend builds one
   * graph per bucket pair instead of one per leftover row count. Loss over non-padding targets is
   * unchanged (empty rows have no targets). Default false.
   */
  fixedRows?: boolean;
  /**
   * Rows per batch, whatever their length (sentence batches, as Hugging Face's batch_size): the token
   * budget then only bounds fixedRows. Default: as many rows as fit maxTokens.
   */
  maxRows?: number;
  /**
   * Pad source and target to one bucket, the larger of the two (default false). A model unrolled
   * over time (the GRU rungs) compiles one graph per (source, target) shape; square shapes cut
   * Multi30k's ~24 training shapes to 6, for a few per cent more padded steps. Rows per batch are
   * unchanged (they already follow the longer side).
   */
  squareBuckets?: boolean;
}

export interface Batch {
  /** (B, S) row-major, padded with padId. */
  source: Int32Array;
  /** (B, T) row-major, padded with padId. */
  target: Int32Array;
  sourceLengths: Int32Array;
  targetLengths: Int32Array;
  rows: number;
  sourceLength: number;
  targetLength: number;
  /** Indices of the examples, in row order (empty rows added by fixedRows have none). */
  indices: number[];
  /** Real (unpadded) tokens, source + target. */
  tokens: number;
}

/** Where the batcher stands: JSON-serialisable, saved with checkpoints. */
export interface DataPosition {
  epoch: number;
  /** Next batch within the epoch. */
  index: number;
  /** Generator state at the start of `epoch`, from which the epoch's order is rebuilt. */
  generatorState: number[];
}

export class BucketBatcher {
  readonly buckets: readonly number[];
  private readonly generator: Generator;
  private epoch = 0;
  private index = 0;
  private epochStartState: number[];
  private plan: number[][];

  constructor(readonly examples: readonly TokenizedExample[], readonly options: BatchOptions) {
    options = checkOptions('BucketBatcher', options, { maxTokens: 1, buckets: 1, shuffle: 1, seed: 1, padId: 1, fixedRows: 1, maxRows: 1, squareBuckets: 1 });
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
    if (!(options.maxTokens > 0)) throw new ArgumentError(`BucketBatcher: maxTokens must be positive, got ${options.maxTokens}`);
    if (options.maxRows !== undefined && !(Number.isInteger(options.maxRows) && options.maxRows > 0)) throw new ArgumentError(`BucketBatcher: maxRows must be a positive integer, got ${options.maxRows}`);
    if (this.buckets.length === 0 || this.buckets.some((b, i) => !(b > 0) || (i > 0 && b <= this.buckets[i - 1]!))) {
      throw new ArgumentError(`BucketBatcher: buckets must be positive and ascending, got [${this.buckets.join(', ')}]`);
    }
    const largest = this.buckets[this.buckets.length - 1]!;
    examples.forEach((e, i) => {
      const n = Math.max(e.source.length, e.target.length);
      if (n > largest) throw new ArgumentError(`BucketBatcher: example ${i} has ${n} tokens, longer than the largest bucket ${largest}; filter by length first`);
      if (options.maxRows === undefined && this.bucketOf(n) > options.maxTokens) {
        throw new ArgumentError(`BucketBatcher: example ${i} pads to ${this.bucketOf(n)} tokens, more than maxTokens ${options.maxTokens}; raise maxTokens or filter by length`);
      }
    });
    this.generator = new Generator(options.seed ?? 0);
    this.epochStartState = this.generator.getState();
    this.plan = this.makePlan();
  }

  private bucketOf(n: number): number {
    return this.buckets.find((b) => b >= n) ?? this.buckets[this.buckets.length - 1]!;
  }

  /** The padded (source, target) lengths of an example's batch. */
  private shapeOf(e: TokenizedExample): [number, number] {
    const s = this.bucketOf(e.source.length);
    const t = this.bucketOf(e.target.length);
    return this.options.squareBuckets ? [Math.max(s, t), Math.max(s, t)] : [s, t];
  }

  /** The epoch's batches as lists of example indices; advances the generator. */
  private makePlan(): number[][] {
    const shuffle = this.options.shuffle ?? true;
    const order = shuffle ? Array.from(this.generator.permutation(this.examples.length)) : this.examples.map((_, i) => i);
    const groups = new Map<string, { s: number; t: number; members: number[] }>();
    for (const i of order) {
      const [s, t] = this.shapeOf(this.examples[i]!);
      const key = `${s}x${t}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { s, t, members: [] }));
      g.members.push(i);
    }
    const batches: number[][] = [];
    for (const g of [...groups.values()].sort((a, b) => a.s - b.s || a.t - b.t)) {
      const rows = this.options.maxRows ?? Math.max(1, Math.floor(this.options.maxTokens / Math.max(g.s, g.t)));
      for (let k = 0; k < g.members.length; k += rows) batches.push(g.members.slice(k, k + rows));
    }
    if (!shuffle) return batches;
    const perm = this.generator.permutation(batches.length);
    return Array.from(perm, (p) => batches[p]!);
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.plan.length;
  }

  get position(): DataPosition {
    return { epoch: this.epoch, index: this.index, generatorState: [...this.epochStartState] };
  }

  /** Continues from a saved position: the next batch is the one an uninterrupted run would see. */
  setPosition(p: DataPosition): void {
    this.generator.setState(p.generatorState);
    this.epochStartState = [...p.generatorState];
    this.epoch = p.epoch;
    this.plan = this.makePlan();
    if (!(p.index >= 0 && p.index <= this.plan.length)) throw new ArgumentError(`BucketBatcher: position index ${p.index} outside [0, ${this.plan.length}]`);
    this.index = p.index;
  }

  /** The next batch, starting a new epoch (new order) when the current one is done. */
  next(): Batch {
    this.startNextEpoch();
    return this.materialize(this.plan[this.index++]!);
  }

  /** Starts the next epoch (a new order) once the current one is done; a no-op before that. */
  startNextEpoch(): void {
    if (this.index < this.plan.length) return;
    this.epoch++;
    this.index = 0;
    this.epochStartState = this.generator.getState();
    this.plan = this.makePlan();
  }

  /** The remaining batches of the current epoch (for a `for` loop over one epoch). */
  *epochRest(): IterableIterator<Batch> {
    while (this.index < this.plan.length) yield this.materialize(this.plan[this.index++]!);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  private materialize(indices: number[]): Batch {
    // Every member of a batch shares one (source bucket, target bucket) pair.
    const [S, T] = this.shapeOf(this.examples[indices[0]!]!);
    const B = this.options.fixedRows ? Math.max(indices.length, Math.floor(this.options.maxTokens / Math.max(S, T))) : indices.length;
    const pad = this.options.padId ?? 0;
    const source = new Int32Array(B * S).fill(pad);
    const target = new Int32Array(B * T).fill(pad);
    const sourceLengths = new Int32Array(B).fill(1); // empty rows (fixedRows): one padding token
    const targetLengths = new Int32Array(B);
    let tokens = 0;
    indices.forEach((ex, r) => {
      const e = this.examples[ex]!;
      for (let j = 0; j < e.source.length; j++) source[r * S + j] = e.source[j]!;
      for (let j = 0; j < e.target.length; j++) target[r * T + j] = e.target[j]!;
      sourceLengths[r] = e.source.length;
      targetLengths[r] = e.target.length;
      tokens += e.source.length + e.target.length;
    });
    return { source, target, sourceLengths, targetLengths, rows: B, sourceLength: S, targetLength: T, indices, tokens };
  }
}
