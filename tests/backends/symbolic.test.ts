/** Symbolic batch and sequence sizes: one ONNX Runtime session serves every bucket shape, with the same numbers as the js backend. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { lowerGraph, sizeLabels } from '../../src/backends/ort/builder.js';
import { buildModel, modelPreset } from '../../src/translate/translator.js';

/** A tiny Transformer (d 32, 4 heads of 8, FFN 64, vocab 50/40) in eval mode, so js and ort must agree. */
function tinyTransformer() {
  z.manualSeed(0);
  const model = buildModel('transformer', { ...modelPreset('transformer', 'tiny'), srcVocabSize: 50, tgtVocabSize: 40, padId: 0, bosId: 2, eosId: 3 });
  model.eval();
  return model;
}

/** Loss and gradients of one padded (B, S, T) batch: a training step's graph without the optimizer. */
function stepGraph(model: ReturnType<typeof tinyTransformer>, B: number, S: number, T: number): z.Tensor[] {
  const g = new z.Generator(B * 100 + S * 10 + T);
  const src = z.randint(4, 50, [B, S], { generator: g, dtype: 'int32' });
  const tgtIn = z.randint(4, 40, [B, T], { generator: g, dtype: 'int32' });
  const tgtOut = z.randint(4, 40, [B, T], { generator: g, dtype: 'int32' });
  const lengths = Array.from({ length: B }, (_, i) => Math.max(1, S - (i % 3)));
  const logits = model.forward(src, lengths, tgtIn);
  const loss = z.crossEntropy(logits.reshape(-1, 40), tgtOut.reshape(-1), { ignoreIndex: 0, labelSmoothing: 0.1 });
  return [loss, ...z.grad(loss, model.parameters())];
}

async function values(backend: string, outs: () => z.Tensor[]): Promise<number[]> {
  const previous = z.getBackend();
  z.setBackend(backend);
  try {
    const ts = outs();
    await z.realize(...ts);
    const all: number[] = [];
    for (const t of ts) all.push(...(await t.data()));
    return all;
  } finally {
    z.setBackend(previous);
  }
}

// Shapes whose sizes coincide with no model size (heads 4, head size 8, d 32, FFN 64, vocabularies).
const SHAPES = [[6, 5, 7], [12, 11, 13], [3, 9, 10]] as const;

describe('symbolic shapes', () => {
  test('three bucket shapes of a Transformer training graph share one session, equal to js within 1e-4', async () => {
    const model = tinyTransformer();
    await z.realize(...model.parameters());
    z.configureOrt({ graphOptimizationLevel: 'basic' }); // a fresh cache
    try {
      z.resetOrtStats();
      for (const [B, S, T] of SHAPES) {
        const ort = await values('ort', () => stepGraph(model, B, S, T));
        const js = await values('js', () => stepGraph(model, B, S, T));
        const worst = Math.max(...ort.map((x, i) => Math.abs(x - js[i]!) / (1e-3 + Math.abs(js[i]!))));
        assert.ok(worst < 1e-4, `(${B}, ${S}, ${T}): max relative difference ${worst}`);
      }
      const s = z.ortStats();
      assert.deepEqual([s.misses, s.hits, s.sessions, s.cached], [1, 2, 1, 3]);
      assert.ok(s.modelBytes > 10_000, `one training graph's model, ${s.modelBytes} bytes`);
    } finally {
      z.configureOrt({ graphOptimizationLevel: undefined });
    }
  });

  test('symbolicShapes: false compiles each shape on its own', async () => {
    const model = tinyTransformer();
    await z.realize(...model.parameters());
    z.configureOrt({ symbolicShapes: false });
    try {
      z.resetOrtStats();
      for (const [B, S, T] of SHAPES) await values('ort', () => stepGraph(model, B, S, T));
      assert.equal(z.ortStats().misses, 3);
    } finally {
      z.configureOrt({ symbolicShapes: undefined });
    }
  });

  test('memoryPattern recompiles the session and changes no number (off by default in Node)', async () => {
    const model = tinyTransformer();
    await z.realize(...model.parameters());
    assert.equal(z.ortConfig().memoryPattern, false);
    const [B, S, T] = SHAPES[0];
    const off = await values('ort', () => stepGraph(model, B, S, T));
    z.configureOrt({ memoryPattern: true });
    try {
      z.resetOrtStats();
      const on = await values('ort', () => stepGraph(model, B, S, T));
      assert.equal(z.ortStats().misses, 1); // the cached session was dropped with the knob
      assert.deepEqual(on, off);
    } finally {
      z.configureOrt({ memoryPattern: undefined });
    }
  });

  test('sizes follow the ops that move them, not equal values: a head size equal to the batch size stays a constant', () => {
    const x = z.randint(0, 5, [8, 7], { dtype: 'int32' });            // (B, T) token ids: B = 8, T = 7
    const h = z.randn([8, 7, 32]);                                       // (B, T, C)
    const heads = h.reshape(8, 7, 4, 8).permute(0, 2, 1, 3);           // (B, H, T, D) with D = 8 = B
    const flat = h.reshape(56, 32);                                      // (B*T, C)
    const back = flat.reshape(8, 7, 32);
    const graph = z.buildGraph([heads, back, x.add(1)]);
    const labels = sizeLabels(graph);
    const [atHeads, atBack] = [labels[graph.outputs[0]!]!, labels[graph.outputs[1]!]!];
    assert.deepEqual(atHeads, ['s0', '4', 's1', '8']);
    assert.deepEqual(atBack, ['s0', 's1', '32']);
    assert.ok(labels.some((l) => l.join() === 's0*s1,32'), 'the (B*T, C) reshape in between');
    void flat;
    const lowered = lowerGraph(graph, { symbolic: true });
    assert.deepEqual(lowered.symbols, ['s0=8', 's1=7']);
    assert.ok(lowered.nodes.some((n) => n.opType === 'Shape'), 'sizes read from an input at run time');
    assert.ok(!lowerGraph(graph).nodes.some((n) => n.opType === 'Shape'), 'concrete lowering reads none');
  });

  test('slices near a symbolic end count from it, and to-the-end stays so, for every size', async () => {
    const run = async (T: number) => {
      const ids = z.arange(0, 3 * T, 1, { dtype: 'int32' }).reshape(3, T);
      await z.realize(ids); // an input of the graph below: (3, T) int32, so T is a symbol
      const before = z.ortStats().misses;
      const out = await values('ort', () => [ids.narrow(1, 0, T - 1), ids.narrow(1, 1, T - 1), ids.narrow(1, 0, T).add(0)]);
      compiled += z.ortStats().misses - before;
      return out;
    };
    let compiled = 0;
    for (const T of [5, 9, 12]) {
      const expect: number[] = [];
      for (let b = 0; b < 3; b++) for (let t = 0; t < T - 1; t++) expect.push(b * T + t);
      for (let b = 0; b < 3; b++) for (let t = 1; t < T; t++) expect.push(b * T + t);
      for (let i = 0; i < 3 * T; i++) expect.push(i);
      assert.deepEqual(await run(T), expect);
    }
    assert.ok(compiled <= 1, `one session for three sizes, got ${compiled}`);
  });
});
