/**
 * A model's weights for export: float32 arrays by state-dict key, with their shapes. Tied
 * parameters (the same tensor under two keys) keep one array, so the graph stores them once.
 */
import type { Module } from '../nn/module.js';
import { ZhuyiError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GraphBuilder } from './onnx-builder.js';

export class ExportError extends ZhuyiError {}

export interface Weight { data: Float32Array; shape: number[] }

export class Weights {
  private constructor(private readonly byKey: Map<string, Weight>, readonly source: string) {}

  /** Reads every parameter and persistent buffer of `model` as float32. */
  static async of(model: Module, source: string): Promise<Weights> {
    const byTensor = new Map<Tensor, Weight>();
    const byKey = new Map<string, Weight>();
    for (const [key, t] of Object.entries(model.stateDict())) {
      let w = byTensor.get(t);
      if (!w) {
        const data = t.dtype === 'float32' && t.buffer instanceof Float32Array ? t.buffer : Float32Array.from(await t.to('float32').data());
        w = { data, shape: [...t.shape] };
        byTensor.set(t, w);
      }
      byKey.set(key, w);
    }
    return new Weights(byKey, source);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): Weight {
    const w = this.byKey.get(key);
    if (!w) throw new ExportError(`export ${this.source}: the model has no weight '${key}'`);
    return w;
  }

  /** The weight as an initializer of `b`, named by its key. */
  init(b: GraphBuilder, key: string): string {
    const w = this.get(key);
    return b.weight(key, w.data, w.shape);
  }

  /** The weight if the model has it (optional biases), else null. */
  maybe(b: GraphBuilder, key: string): string | null {
    return this.has(key) ? this.init(b, key) : null;
  }
}
