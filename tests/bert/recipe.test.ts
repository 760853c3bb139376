/**
 * HF-safe fine-tuning: the defaults picked per init (Hugging Face Trainer's for a pretrained
 * folder, the tuned preset from scratch) reach the optimizer of a real run; biases and LayerNorm
 * parameters are never decayed; gradient accumulation over two half batches steps as one full batch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertConfig, BertForPreTraining, BertTokenizer, manualSeed, trainWordPiece } from '../../src/index.js';
import { FROM_SCRATCH_RECIPE, HF_TRAINER_RECIPE, finetuneTrainOptions } from '../../src/bert/recipe.js';
import { bertPreset } from '../../src/bert/run.js';
import { finetuneBert } from '../../src/bert/classify.js';
import { Module } from '../../src/nn/module.js';
import { LayerNorm, Linear } from '../../src/nn/layers.js';
import * as F from '../../src/ops/functional.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { noDecayOnBiasAndNorm, train, type TrainTask } from '../../src/train/trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-recipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** PyTorch's state_dict keys (snake_case). */
interface GroupMeta { lr: number; initial_lr: number; betas: number[]; eps: number; weight_decay: number; params: number[] }

/** The optimizer's parameter groups as saved in a run's last checkpoint. */
function savedGroups(out: string): GroupMeta[] {
  const state = loadCheckpoint<{ optimizer: string; options: { warmup: number; totalSteps: number } }>(join(out, 'last.safetensors')).state;
  return (JSON.parse(state.optimizer) as { param_groups: GroupMeta[] }).param_groups;
}

describe('fine-tuning defaults', () => {
  test('per init: HF Trainer for a pretrained model, the from-scratch preset otherwise; set options win', () => {
    const pre = finetuneTrainOptions({}, 'pretrained');
    assert.deepEqual([pre.lr, pre.epochs, pre.betas, pre.eps, pre.weightDecay, pre.warmup, pre.schedule], [5e-5, 3, [0.9, 0.999], 1e-8, 0, 0, 'linear']);
    const scratch = finetuneTrainOptions({}, 'random');
    assert.deepEqual([scratch.lr, scratch.epochs, scratch.betas, scratch.weightDecay, scratch.warmup], [1e-3, 10, [0.9, 0.98], 0.01, undefined]);
    assert.equal(pre.noDecay, noDecayOnBiasAndNorm);
    assert.equal(scratch.noDecay, noDecayOnBiasAndNorm);
    const set = finetuneTrainOptions({ lr: 2e-5, weightDecay: 0.01, warmupRatio: 0.1, epochs: undefined }, 'pretrained');
    assert.deepEqual([set.lr, set.weightDecay, set.warmupRatio, set.warmup, set.epochs], [2e-5, 0.01, 0.1, undefined, 3]);
    assert.notDeepEqual(HF_TRAINER_RECIPE, FROM_SCRATCH_RECIPE);
  });

  test('the HF names excluded from decay: biases and LayerNorm, not weights', () => {
    for (const n of ['bert.embeddings.LayerNorm.weight', 'bert.encoder.layer.0.output.LayerNorm.bias', 'classifier.bias', 'cls.predictions.bias']) assert.ok(noDecayOnBiasAndNorm(n), n);
    for (const n of ['bert.encoder.layer.0.attention.self.query.weight', 'bert.embeddings.word_embeddings.weight', 'classifier.weight', 'bias_free.weight']) assert.ok(!noDecayOnBiasAndNorm(n), n);
  });

  test('a run from a pretrained folder gets lr 5e-5, betas (0.9, 0.999), eps 1e-8, decay 0 and no warmup; --init random the preset', async () => {
    const texts = ['a good film', 'a bad film', 'not good at all', 'really bad food', 'quite good', 'very bad'];
    const tok = new BertTokenizer(trainWordPiece(texts, { vocabSize: 60 }), { modelMaxLength: 16 });
    const pre = join(dir, 'pre');
    await new BertForPreTraining(new BertConfig({ ...bertPreset('tiny'), vocab_size: tok.vocabSize, max_position_embeddings: 32 })).savePretrained(pre);
    tok.savePretrained(pre);
    const data = join(dir, 'data.csv');
    writeFileSync(data, ['text,label', ...texts.map((t, i) => `${t},${i % 2 ? 'neg' : 'pos'}`)].join('\n'));
    const common = { train: data, valid: data, maxSeqLength: 16, batchTokens: 64, maxSteps: 2 };
    await finetuneBert({ ...common, model: pre, outDir: join(dir, 'pre-run') });
    const hf = savedGroups(join(dir, 'pre-run'));
    assert.equal(hf.length, 2, 'a decayed and an undecayed group');
    for (const g of hf) {
      assert.deepEqual([g.initial_lr, g.betas, g.eps, g.weight_decay], [5e-5, [0.9, 0.999], 1e-8, 0]);
      // Linear decay without warmup: 5e-5 * (2 - 2) / 2 after the last of 2 steps.
      assert.equal(g.lr, 0);
    }
    await finetuneBert({ ...common, init: 'random', size: 'tiny', vocab: join(pre, 'vocab.txt'), outDir: join(dir, 'random-run') });
    const scratch = savedGroups(join(dir, 'random-run'));
    assert.deepEqual(scratch.map((g) => [g.initial_lr, g.betas, g.weight_decay]), [[1e-3, [0.9, 0.98], 0.01], [1e-3, [0.9, 0.98], 0]]);
    await finetuneBert({ ...common, model: pre, lr: 3e-5, weightDecay: 0.01, outDir: join(dir, 'pre-set') });
    assert.deepEqual(savedGroups(join(dir, 'pre-set')).map((g) => [g.initial_lr, g.weight_decay]), [[3e-5, 0.01], [3e-5, 0]]);
    // --batch-size: 6 short examples (one length bucket) in batches of 2 -> 3 steps; --grad-accum 3 -> 1 step.
    const { maxSteps: _m, ...epochOnly } = common;
    void _m;
    const bs = await finetuneBert({ ...epochOnly, model: pre, epochs: 1, batchSize: 2, outDir: join(dir, 'bs') });
    assert.equal(bs.summary.steps, 3);
    const acc = await finetuneBert({ ...epochOnly, model: pre, epochs: 1, batchSize: 2, gradAccum: 3, outDir: join(dir, 'bs-acc') });
    assert.equal(acc.summary.steps, 1);
  });
});

/** Linear -> LayerNorm -> Linear: weights, biases and a LayerNorm under HF-like names. */
class Small extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly out: Linear;
  constructor() {
    super();
    this.dense = new Linear(4, 6);
    this.LayerNorm = new LayerNorm(6);
    this.out = new Linear(6, 1);
  }
  forward(x: Tensor): Tensor {
    return this.out.forward(this.LayerNorm.forward(F.tanh(this.dense.forward(x))));
  }
}

/** A task over fixed batches of (x, y) rows with a mean squared error. */
function regressionTask(model: Small, batches: Array<{ x: number[][]; y: number[] }>, lossOf?: (pred: Tensor, y: Tensor) => Tensor): TrainTask<{ x: number[][]; y: number[] }> {
  let index = 0;
  return {
    model, batchesPerEpoch: batches.length,
    *epochBatches() { while (index < batches.length) yield batches[index++]!; },
    startNextEpoch() { index = 0; },
    dataPosition: () => index,
    setDataPosition: (p) => { index = p as number; },
    loss: (b) => {
      const pred = model.forward(tensor(b.x)).reshape([b.x.length]);
      const y = tensor(b.y);
      return { loss: lossOf ? lossOf(pred, y) : F.mean(F.mul(F.sub(pred, y), F.sub(pred, y))), tokens: b.y.length };
    },
  };
}

async function snapshot(m: Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, p] of m.namedParameters()) out.set(n, Float32Array.from(await p.data()));
  return out;
}

describe('trainer: decay groups and gradient accumulation', () => {
  const rows = Array.from({ length: 8 }, (_, i) => [Math.sin(i), Math.cos(i), i / 8, 1 - i / 8]);
  const ys = rows.map((r) => r[0]! - 2 * r[2]!);

  test('lr > 0, weight decay > 0, zero gradients: weights shrink by (1 - lr wd), biases and LayerNorm stay', async () => {
    manualSeed(1);
    const model = new Small();
    const before = await snapshot(model);
    // The loss is 0 x output: every parameter gets a gradient, all zeros, so only the decay moves them.
    const task = regressionTask(model, [{ x: rows, y: ys }], (pred) => F.mul(F.sum(pred), 0));
    const lr = 0.1, wd = 0.5;
    await train(task, { outDir: join(dir, 'decay'), epochs: 1, lr, weightDecay: wd, noDecay: noDecayOnBiasAndNorm, warmup: 0, schedule: 'constant', clipNorm: 0, progress: false });
    const afterStep = await snapshot(model);
    let weights = 0, kept = 0;
    for (const [name, was] of before) {
      const now = afterStep.get(name)!;
      if (noDecayOnBiasAndNorm(name)) {
        assert.deepEqual(now, was, `${name} is not decayed`);
        kept++;
      } else {
        was.forEach((v, i) => assert.ok(Math.abs(now[i]! - v * (1 - lr * wd)) < 1e-6, `${name}[${i}]: ${now[i]} != ${v} x ${1 - lr * wd}`));
        assert.ok(was.some((v) => v !== 0));
        weights++;
      }
    }
    assert.deepEqual([weights, kept], [2, 4], 'dense/out weights decayed; dense/out biases and LayerNorm weight/bias kept');
  });

  test('accumulating 2 half batches steps as one full batch (within 1e-5), loss logged the same', async () => {
    // eps 1 (and no clipping) makes Adam's step depend on the gradient's scale, so a missing 1/k would show.
    const options = { epochs: 1, lr: 0.05, eps: 1, weightDecay: 0.01, noDecay: noDecayOnBiasAndNorm, warmup: 0, schedule: 'constant' as const, clipNorm: 0, logEvery: 1, progress: false };
    manualSeed(3);
    const full = new Small();
    const fullRun = await train(regressionTask(full, [{ x: rows, y: ys }]), { ...options, outDir: join(dir, 'full') });
    manualSeed(3);
    const accumulated = new Small();
    const halves = [{ x: rows.slice(0, 4), y: ys.slice(0, 4) }, { x: rows.slice(4), y: ys.slice(4) }];
    const accRun = await train(regressionTask(accumulated, halves), { ...options, gradAccum: 2, outDir: join(dir, 'acc') });
    assert.equal(fullRun.steps, 1);
    assert.equal(accRun.steps, 1, 'two batches, one optimizer step');
    const a = await snapshot(full), b = await snapshot(accumulated);
    let moved = 0;
    for (const [name, w] of a) {
      b.get(name)!.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) < 1e-5, `${name}[${i}]: ${v} vs ${w[i]}`));
      moved++;
    }
    assert.equal(moved, 6);
    assert.ok(Math.abs(accRun.history[0]!.train_loss! - fullRun.history[0]!.train_loss!) < 1e-5);
    // Without accumulation the two halves take two steps and end elsewhere.
    manualSeed(3);
    const twoSteps = new Small();
    await train(regressionTask(twoSteps, halves), { ...options, outDir: join(dir, 'two') });
    const c = await snapshot(twoSteps);
    assert.ok([...a].some(([name, w]) => c.get(name)!.some((v, i) => Math.abs(v - w[i]!) > 1e-4)), 'two steps differ from one');
  });

  test('gradAccum and warmupRatio are checked; warmupRatio sets the warmup steps', async () => {
    const model = new Small();
    const batches = Array.from({ length: 10 }, () => ({ x: rows.slice(0, 2), y: ys.slice(0, 2) }));
    await assert.rejects(train(regressionTask(model, batches), { outDir: join(dir, 'bad1'), gradAccum: 0, progress: false }), /gradAccum must be a positive integer/);
    await assert.rejects(train(regressionTask(model, batches), { outDir: join(dir, 'bad2'), warmup: 1, warmupRatio: 0.1, progress: false }), /not both/);
    await train(regressionTask(model, batches), { outDir: join(dir, 'ratio'), epochs: 1, gradAccum: 3, warmupRatio: 0.3, progress: false });
    const state = loadCheckpoint<{ options: { warmup: number; totalSteps: number } }>(join(dir, 'ratio', 'last.safetensors')).state;
    // 10 batches in groups of 3 -> 4 steps (the last group holds one batch); warmup ceil(0.3 x 4) = 2.
    assert.deepEqual(state.options, { ...state.options, totalSteps: 4, warmup: 2 });
  });
});


