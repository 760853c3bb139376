/**
 * Position information for attention models: the fixed sinusoids of Vaswani et al. 2017 (§3.5) and
 * a learned table (BERT, GPT). Both add to x shaped (T, B, E), or (B, T, E) with batchFirst, or (T, E).
 */
import * as F from '../ops/functional.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import * as init from './init.js';
import { Dropout } from './layers.js';
import { Module, Parameter } from './module.js';
import { checkOptions } from '../tensor/options.js';

export interface PositionalOptions {
  /** Longest sequence (default 5000 for sinusoids, as the PyTorch tutorial; required for the learned table). */
  maxLen?: number;
  /** Dropout on the sum (default 0; the paper uses 0.1). */
  dropout?: number;
  /** x is (B, T, E) instead of (T, B, E). */
  batchFirst?: boolean;
  generator?: Generator;
}

/**
 * The positions [offset, offset + T) of `table` (maxLen, E), shaped to broadcast against x; or, with
 * `offset` an int32 tensor (T), the rows it names (a step of incremental decoding passes its
 * position as data, so the step's graph does not change with it).
 */
function addPositions(name: string, x: Tensor, table: Tensor, batchFirst: boolean, offset: number | Tensor): Tensor {
  const [maxLen, E] = [table.shape[0]!, table.shape[1]!];
  if (x.ndim < 2 || x.ndim > 3 || x.shape[x.ndim - 1] !== E) throw new ShapeError(`${name}: input ${fmtShape(x.shape)} must be (${batchFirst ? 'B, T' : 'T, B'}, ${E}) or (T, ${E})`);
  const tAxis = x.ndim === 3 && batchFirst ? 1 : 0;
  const T = x.shape[tAxis]!;
  let pe: Tensor;
  if (typeof offset === 'number') {
    if (offset < 0 || offset + T > maxLen) throw new ArgumentError(`${name}: positions [${offset}, ${offset + T}) exceed maxLen ${maxLen}`);
    pe = F.slice(table, 0, offset, offset + T); // (maxLen, E) -> (T, E)
  } else {
    if (offset.ndim !== 1 || offset.shape[0] !== T) throw new ShapeError(`${name}: positions ${fmtShape(offset.shape)} must be (${T}), one per input position`);
    if (offset.isRealized) {
      const bad = Array.from(offset.buffer!).find((p) => !(p >= 0 && p < maxLen));
      if (bad !== undefined) throw new ArgumentError(`${name}: position ${bad} exceeds maxLen ${maxLen}`);
    }
    pe = F.indexSelect(table, 0, offset); // (maxLen, E) -> (T, E)
  }
  // (T, E) broadcasts against (B, T, E) and (T, E); for (T, B, E): (T, E) -> (T, 1, E).
  return F.add(x, x.ndim === 3 && !batchFirst ? F.unsqueeze(pe, 1) : pe);
}

/**
 * PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)); forward adds PE
 * then dropout. `pe` is a non-persistent buffer (not in the state dict, like the PyTorch tutorial's
 * intent). Deviation: the table is computed in float64 and rounded once, so it can differ from a
 * float32 PyTorch computation by ~1e-4 at positions in the thousands.
 */
export class SinusoidalPositionalEncoding extends Module {
  dropout: Dropout;
  readonly batchFirst: boolean;
  constructor(readonly dModel: number, options: PositionalOptions = {}) {
    const { maxLen = 5000, dropout = 0, batchFirst = false, generator = defaultGenerator } = checkOptions('SinusoidalPositionalEncoding', options, { maxLen: 1, dropout: 1, batchFirst: 1, generator: 1 });
    super();
    const pe = new Float32Array(maxLen * dModel);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let i = 0; 2 * i < dModel; i++) {
        const angle = pos / Math.pow(10000, (2 * i) / dModel);
        pe[pos * dModel + 2 * i] = Math.sin(angle);
        if (2 * i + 1 < dModel) pe[pos * dModel + 2 * i + 1] = Math.cos(angle);
      }
    }
    this.registerBuffer('pe', Tensor.fromBuffer(pe, [maxLen, dModel]), false);
    this.dropout = new Dropout(dropout, generator);
    this.batchFirst = batchFirst;
  }
  /** The (maxLen, dModel) table. */
  get pe(): Tensor { return this.getBuffer('pe')!; }
  /** x + PE[offset : offset + T] (offset for step-by-step decoding), then dropout. */
  /** `offset`: the first position (default 0), or an int32 tensor (T) of positions. */
  forward(x: Tensor, offset: number | Tensor = 0): Tensor {
    return this.dropout.forward(addPositions('SinusoidalPositionalEncoding', x, this.pe, this.batchFirst, offset));
  }
}

/** A learned table `weight` (maxLen, dModel), init N(0, 1) like nn.Embedding; forward adds rows [offset, offset + T), then dropout. */
export class LearnedPositionalEmbedding extends Module {
  weight: Parameter;
  dropout: Dropout;
  readonly batchFirst: boolean;
  constructor(readonly maxLen: number, readonly dModel: number, options: Omit<PositionalOptions, 'maxLen'> = {}) {
    const { dropout = 0, batchFirst = false, generator = defaultGenerator } = checkOptions('LearnedPositionalEmbedding', options, { generator: 1, dropout: 1, batchFirst: 1 });
    super();
    this.weight = new Parameter(init.normal([maxLen, dModel], 0, 1, generator));
    this.dropout = new Dropout(dropout, generator);
    this.batchFirst = batchFirst;
  }
  /** `offset`: the first position (default 0), or an int32 tensor (T) of positions. */
  forward(x: Tensor, offset: number | Tensor = 0): Tensor {
    return this.dropout.forward(addPositions('LearnedPositionalEmbedding', x, this.weight, this.batchFirst, offset));
  }
}
