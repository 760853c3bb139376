/** GRUCell, LSTMCell, GRU, LSTM against PyTorch 1.13: outputs, final states and gradients, padded batches included. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { checkModuleCase, loadModuleGoldens, describeModuleGoldens } from './module-golden.js';

const { cases } = loadModuleGoldens('rnn.safetensors');

type Forward = Parameters<typeof checkModuleCase>[2];
const BUILD: Record<string, () => [z.Module, Forward]> = {
  gru_cell: () => {
    const m = new z.GRUCell(3, 4);
    return [m, (i) => ({ h1: m.forward(i.x!, i.h!) })];
  },
  lstm_cell: () => {
    const m = new z.LSTMCell(3, 4);
    return [m, (i) => { const [h1, c1] = m.forward(i.x!, [i.h!, i.c!]); return { h1, c1 }; }];
  },
  gru_bi2: () => {
    const m = new z.GRU(3, 4, { numLayers: 2, bidirectional: true });
    return [m, (i) => { const [output, h_n] = m.forward(i.x!, i.h0!, { lengths: i.lengths! }); return { output, h_n }; }];
  },
  lstm_bi2_bf: () => {
    const m = new z.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    return [m, (i) => { const [output, [h_n, c_n]] = m.forward(i.x!, [i.h0!, i.c0!], { lengths: i.lengths! }); return { output, h_n, c_n }; }];
  },
  gru_nobias: () => {
    const m = new z.GRU(3, 4, { bias: false });
    return [m, (i) => { const [output, h_n] = m.forward(i.x!); return { output, h_n }; }];
  },
  lstm_2layer: () => {
    const m = new z.LSTM(3, 4, { numLayers: 2 });
    return [m, (i) => { const [output, [h_n, c_n]] = m.forward(i.x!, [i.h0!, i.c0!]); return { output, h_n, c_n }; }];
  },
};

describeModuleGoldens('rnn', cases, BUILD);

describe('rnn behaviour', () => {
  test('padded steps give zero outputs and final states at each sequence end', async () => {
    const gru = new z.GRU(2, 3, { bidirectional: true });
    const x = z.randn(4, 2, 2);
    const [out, h] = gru.forward(x, null, { lengths: [4, 2] });
    const [outShort, hShort] = gru.forward(z.slice(x, 0, 0, 2), null);
    const o = await out.data();
    // Sequence 1 (length 2) equals running the first two steps alone, in both directions.
    const os = await outShort.data();
    for (let t = 0; t < 2; t++) for (let k = 0; k < 6; k++) assert.ok(Math.abs(o[(t * 2 + 1) * 6 + k]! - os[(t * 2 + 1) * 6 + k]!) < 1e-6);
    for (let t = 2; t < 4; t++) for (let k = 0; k < 6; k++) assert.equal(o[(t * 2 + 1) * 6 + k], 0);
    const hv = await h.data();
    const hs = await hShort.data();
    for (const d of [0, 1]) for (let k = 0; k < 3; k++) assert.ok(Math.abs(hv[d * 6 + 3 + k]! - hs[d * 6 + 3 + k]!) < 1e-6);
  });
  test('unbatched input and shape errors', async () => {
    const lstm = new z.LSTM(2, 3, { numLayers: 2 });
    const [out, [h, c]] = lstm.forward(z.randn(5, 2));
    assert.deepEqual([out.shape, h.shape, c.shape], [[5, 3], [2, 3], [2, 3]]);
    assert.throws(() => lstm.forward(z.randn(5, 1, 4)), (e: Error) => e instanceof z.ShapeError && /LSTM: input \[5,1,4\]/.test(e.message));
    assert.throws(() => lstm.forward(z.randn(5, 2, 2), null, { lengths: [5, 0] }), z.ArgumentError);
    assert.throws(() => lstm.forward(z.randn(5, 2, 2), [z.randn(1, 2, 3), z.randn(2, 2, 3)]), /h0 \[1,2,3\] must be \(2, 2, 3\)/);
  });
  test('default init is U(-1/sqrt(H), 1/sqrt(H)) and keys follow PyTorch', () => {
    const gru = new z.GRU(3, 16, { numLayers: 2, bidirectional: true });
    assert.deepEqual(Object.keys(gru.stateDict()).slice(0, 5), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']);
    assert.deepEqual([...gru.stateDict().weight_ih_l1!.shape], [48, 32]);
    for (const p of gru.parameters()) for (const v of p.buffer!) assert.ok(Math.abs(v) <= 0.25);
  });
});
