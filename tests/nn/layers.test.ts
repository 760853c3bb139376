/** Linear, Embedding, LayerNorm and the losses against PyTorch 1.13 (tests/golden/gen_layers.py), plus Dropout's contract. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { describeModuleGoldens, loadModuleGoldens, type ModuleBuilder } from './module-golden.js';

const { cases, tensors } = loadModuleGoldens('layers.safetensors');
const constant = (c: string, k: string): z.Tensor => tensors.get(`${c}/const/${k}`)!;
const loss = (f: (i: Record<string, z.Tensor>) => z.Tensor): ModuleBuilder => () => [null, (i) => ({ loss: f(i) })];

const BUILD: Record<string, ModuleBuilder> = {
  linear: () => { const m = new z.Linear(4, 3); return [m, (i) => ({ y: m.forward(i.x!) })]; },
  linear_nobias: () => { const m = new z.Linear(4, 3, { bias: false }); return [m, (i) => ({ y: m.forward(i.x!) })]; },
  embedding_pad: () => { const m = new z.Embedding(10, 4, { paddingIdx: 0 }); return [m, (i) => ({ y: m.forward(i.ids!) })]; },
  layernorm: () => { const m = new z.LayerNorm(5); return [m, (i) => ({ y: m.forward(i.x!) })]; },
  layernorm_2d: () => { const m = new z.LayerNorm([3, 5], 1e-6); return [m, (i) => ({ y: m.forward(i.x!) })]; },
  layernorm_noaffine: () => { const m = new z.LayerNorm(5, 1e-5, { elementwiseAffine: false }); return [m, (i) => ({ y: m.forward(i.x!) })]; },
  ce_mean: loss((i) => z.crossEntropy(i.x!, i.t!)),
  ce_ignore_smooth: loss((i) => z.crossEntropy(i.x!, i.t!, { ignoreIndex: 0, labelSmoothing: 0.1 })),
  ce_weight_smooth: loss((i) => z.crossEntropy(i.x!, i.t!, { weight: constant('ce_weight_smooth', 'w'), labelSmoothing: 0.2 })),
  ce_nd_none: loss((i) => z.crossEntropy(i.x!, i.t!, { reduction: 'none', labelSmoothing: 0.1 })),
  ce_nd_sum: loss((i) => z.crossEntropy(i.x!, i.t!, { reduction: 'sum' })),
  ce_probs: loss((i) => z.crossEntropy(i.x!, i.p!, { labelSmoothing: 0.1 })),
  nll_weight: loss((i) => z.nllLoss(i.x!, i.t!, { weight: constant('nll_weight', 'w') })),
  mse: loss((i) => z.mseLoss(i.x!, i.y!)),
  mse_none: loss((i) => z.mseLoss(i.x!, i.y!, { reduction: 'none' })),
  bce_logits: loss((i) => z.binaryCrossEntropyWithLogits(i.x!, i.y!)),
  bce_logits_pos_weight: loss((i) => z.binaryCrossEntropyWithLogits(i.x!, i.y!, {
    weight: constant('bce_logits_pos_weight', 'w'), posWeight: constant('bce_logits_pos_weight', 'pw'), reduction: 'sum',
  })),
};

describeModuleGoldens('layers and losses', cases, BUILD);

describe('losses: errors and edge cases', () => {
  test('shape and dtype errors name the loss and the shapes', () => {
    assert.throws(() => z.crossEntropy(z.zeros(4, 3), z.zeros([5], { dtype: 'int32' })), /crossEntropy: input \[4,3\] \(class dim 1\) needs an index target of shape \[4\], got \[5\]/);
    assert.throws(() => z.crossEntropy(z.zeros(4, 3), z.zeros([4])), /index targets must be int32/);
    assert.throws(() => z.crossEntropy(z.zeros(4, 3), z.zeros([4], { dtype: 'int32' }), { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\]/);
    assert.throws(() => z.mseLoss(z.zeros(2, 3), z.zeros(3, 2)), /mseLoss: input \[2,3\] and target \[3,2\]/);
    assert.throws(() => z.mseLoss(z.zeros(2), z.zeros(2), { reduction: 'avg' as z.Reduction }), /reduction must be/);
  });
  test('every target ignored gives NaN under mean, as in PyTorch', async () => {
    const v = await z.crossEntropy(z.zeros(2, 3), z.tensor([-100, -100], { dtype: 'int32' })).item();
    assert.ok(Number.isNaN(v));
  });
  test('hand-computed: uniform logits give log(C); smoothing does not change it', async () => {
    const t = z.tensor([0, 2], { dtype: 'int32' });
    assert.ok(Math.abs((await z.crossEntropy(z.zeros(2, 4), t).item()) - Math.log(4)) < 1e-6);
    assert.ok(Math.abs((await z.crossEntropy(z.zeros(2, 4), t, { labelSmoothing: 0.3 }).item()) - Math.log(4)) < 1e-6);
  });
  test('module forms equal the functions', async () => {
    const x = z.randn(3, 4);
    const t = z.tensor([1, 0, 3], { dtype: 'int32' });
    assert.equal(await new z.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(x, t).item(), await z.crossEntropy(x, t, { labelSmoothing: 0.1 }).item());
  });
});

describe('Dropout', () => {
  test('train: zeroes about p of the elements and scales the rest by 1/(1-p); eval: identity', async () => {
    const m = new z.Dropout(0.25);
    const x = z.ones(200, 100);
    const y = await m.forward(x).data();
    const zeros = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.01, `dropped share ${zeros}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    m.eval();
    assert.deepEqual([...(await m.forward(x).data())].every((v) => v === 1), true);
  });
  test('same seed, same mask', async () => {
    z.manualSeed(5);
    const a = await new z.Dropout(0.5).forward(z.ones(64)).data();
    z.manualSeed(5);
    const b = await new z.Dropout(0.5).forward(z.ones(64)).data();
    assert.deepEqual([...a], [...b]);
  });
});

describe('Module.getParameter', () => {
  test('finds a direct parameter, property-assigned or registered, and gives null for others', () => {
    const lin = new z.Linear(4, 3, { bias: false });
    assert.equal(lin.getParameter('weight'), lin.weight);
    assert.equal(lin.getParameter('bias'), null);          // registered as null (bias=False)
    assert.equal(lin.getParameter('training'), null);      // a property that is not a parameter
    const gru = new z.GRU(4, 3, { bidirectional: true });
    const named = new Map(gru.namedParameters());
    assert.equal(gru.getParameter('weight_hh_l0_reverse'), named.get('weight_hh_l0_reverse'));
    assert.equal(gru.getParameter('weight_hh_l1'), null);
  });
});
