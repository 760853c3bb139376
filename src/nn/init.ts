/**
 * Parameter initialisation, PyTorch's formulas, all drawn from zhuyi's seeded generator. Each
 * function returns a new realized tensor; modules wrap it in a Parameter.
 */
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { numel } from '../tensor/shape.js';

function fill(shape: readonly number[], draw: () => number): Tensor {
  const values = new Float32Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw();
  return Tensor.fromBuffer(values, shape);
}

/** (fanIn, fanOut) as PyTorch computes them: dim 1 and dim 0 times the receptive field. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw new ArgumentError(`init: fan in and fan out need at least 2 dims, got [${shape.join(',')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

export function uniform(shape: readonly number[], low = 0, high = 1, g: Generator = defaultGenerator): Tensor {
  return fill(shape, () => low + (high - low) * g.random());
}

export function normal(shape: readonly number[], mean = 0, std = 1, g: Generator = defaultGenerator): Tensor {
  return fill(shape, () => mean + std * g.normal());
}

export function zeros(shape: readonly number[]): Tensor {
  return fill(shape, () => 0);
}

export function ones(shape: readonly number[]): Tensor {
  return fill(shape, () => 1);
}

/** Glorot & Bengio: U(-a, a), a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: readonly number[], gain = 1, g: Generator = defaultGenerator): Tensor {
  const [fi, fo] = fans(shape);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform(shape, -a, a, g);
}

export function xavierNormal(shape: readonly number[], gain = 1, g: Generator = defaultGenerator): Tensor {
  const [fi, fo] = fans(shape);
  return normal(shape, 0, gain * Math.sqrt(2 / (fi + fo)), g);
}

/** He et al.: U(-b, b), b = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2)) for leaky_relu (PyTorch's default nonlinearity). */
export function kaimingUniform(shape: readonly number[], a = 0, mode: 'fanIn' | 'fanOut' = 'fanIn', g: Generator = defaultGenerator): Tensor {
  const [fi, fo] = fans(shape);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / (mode === 'fanIn' ? fi : fo));
  return uniform(shape, -bound, bound, g);
}

export function kaimingNormal(shape: readonly number[], a = 0, mode: 'fanIn' | 'fanOut' = 'fanIn', g: Generator = defaultGenerator): Tensor {
  const [fi, fo] = fans(shape);
  const gain = Math.sqrt(2 / (1 + a * a));
  return normal(shape, 0, gain / Math.sqrt(mode === 'fanIn' ? fi : fo), g);
}

/** Normal truncated to [mean - 2std, mean + 2std] by redrawing (BERT's initializer_range init uses plain normal; this is for users who want it). */
export function truncNormal(shape: readonly number[], mean = 0, std = 1, g: Generator = defaultGenerator): Tensor {
  return fill(shape, () => {
    for (;;) {
      const v = g.normal();
      if (v >= -2 && v <= 2) return mean + std * v;
    }
  });
}
