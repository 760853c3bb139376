import { getOp } from '../../ops/registry.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { Backend, Graph } from '../../tensor/realize.js';
import { ZhuyiError, fmtShape } from '../../tensor/errors.js';

/**
 * The reference backend: runs a graph op by op with the registry's TypeScript kernels. It defines
 * what every op means; the ort backend is tested against it. Intermediate buffers are dropped as
 * soon as their last reader has run.
 */
export class JsBackend implements Backend {
  readonly name = 'js';
  /** Number of graphs run (for tests). */
  runs = 0;

  async run(graph: Graph): Promise<TypedArray[]> {
    this.runs++;
    const { values, outputs } = graph;
    const lastUse = new Int32Array(values.length).fill(-1);
    values.forEach((v, i) => { if (v.kind === 'op') for (const j of v.inputs) lastUse[j] = i; });
    for (const o of outputs) lastUse[o] = values.length;
    const bufs: (TypedArray | null)[] = new Array(values.length).fill(null);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v.kind === 'input') { bufs[i] = v.buffer; continue; }
      const def = getOp(v.op);
      const ins = v.inputs.map((j) => bufs[j]!);
      const out = def.kernel(ins, v.inputs.map((j) => values[j]!.meta), v.attrs, v.meta);
      if (out.length !== numelOf(v.meta.shape)) {
        throw new ZhuyiError(`js backend: kernel '${v.op}' returned ${out.length} values for shape ${fmtShape(v.meta.shape)}`);
      }
      bufs[i] = out;
      for (const j of v.inputs) if (lastUse[j] === i && values[j]!.kind === 'op') bufs[j] = null;
    }
    // An output that is also a graph input is copied, so callers never alias a leaf's buffer.
    return outputs.map((o) => (values[o]!.kind === 'input' ? bufs[o]!.slice() : bufs[o]!));
  }
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
