/** Numerical and argument edge cases, on every backend. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { backendsUnderTest, onBackend } from './backends.js';

for (const backend of backendsUnderTest()) {
  describe(`edge cases on ${backend}`, () => {
    const on = (name: string, fn: () => Promise<void>, skip: string | false = false): void => {
      test(name, { skip }, () => onBackend(backend, fn));
    };

    on('softmax of [1000, 1000] and of a row of -1000 and 1000', async () => {
      assertClose(await z.tensor([[1000, 1000], [-1000, 1000]]).softmax(-1).data(), [0.5, 0.5, 0, 1]);
      assertClose(await z.tensor([1000, 1000]).logSoftmax(0).data(), [-Math.LN2, -Math.LN2]);
    });

    on('softmax of a fully -inf-masked row is NaN (as PyTorch); a partly masked row ignores the masked entries', async () => {
      const x = z.tensor([[1, 2, 3], [4, 5, 6]]);
      const mask = z.tensor([[false, true, false], [true, true, true]]);
      const p = await x.maskedFill(mask, -Infinity).softmax(-1).data();
      const e = Math.exp(1) + Math.exp(3);
      assertClose(p.slice(0, 3), [Math.exp(1) / e, 0, Math.exp(3) / e]);
      assert.ok([...p.slice(3)].every(Number.isNaN));
    });

    on('broadcasting corners: scalars, rank differences, size-1 on both sides, zero-size dims', async () => {
      assert.deepEqual([...z.ones(3, 1).add(z.ones(1, 4)).shape], [3, 4]);
      assert.deepEqual([...z.ones(2, 1, 5).mul(z.ones(4, 1)).shape], [2, 4, 5]);
      assert.deepEqual(await z.tensor(2).mul(z.tensor([1, 2])).tolist(), [2, 4]);
      const empty = z.zeros(0, 3).add(z.ones(3));
      assert.deepEqual([...empty.shape], [0, 3]);
      assert.equal((await empty.data()).length, 0);
      assert.deepEqual(await z.zeros(0, 3).sum(0).tolist(), [0, 0, 0]);
      assert.throws(() => z.ones(2, 3).add(z.ones(3, 2)), /add: shapes cannot be broadcast together: \[2,3\], \[3,2\]/);
    });

    on('negative axes and size-1 dims', async () => {
      const x = z.arange(24, undefined, 1, { dtype: 'float32' }).reshape(2, 3, 4);
      assert.deepEqual(await x.sum(-1).tolist(), await x.sum(2).tolist());
      assert.deepEqual([...x.unsqueeze(-1).shape], [2, 3, 4, 1]);
      assert.deepEqual([...x.unsqueeze(0).squeeze().shape], [2, 3, 4]);
      assert.deepEqual([...x.squeeze(1).shape], [2, 3, 4], 'squeezing a dim whose size is not 1 leaves it alone');
      assert.deepEqual(await x.amax([-1, -3]).tolist(), [15, 19, 23]);
      assert.throws(() => x.sum(-4), /sum: dim -4 out of range for a tensor of rank 3/);
    });

    on('NaN propagates through amax, argmax and maximum', async () => {
      const x = z.tensor([1, NaN, 3]);
      assert.ok(Number.isNaN(await x.amax().item()));
      assert.equal(await x.argmax().item(), 1);
      assert.ok(Number.isNaN((await x.maximum(z.tensor([2, 2, 2])).data())[1]!));
    });

    on('dtype promotion: int with float, bool arithmetic, true division of ints', async () => {
      const i = z.tensor([1, 2, 3], { dtype: 'int32' });
      assert.equal(i.add(1).dtype, 'int32');
      assert.equal(i.add(0.5).dtype, 'float32');
      assert.equal(i.div(2).dtype, 'float32');
      assert.deepEqual(await i.div(2).tolist(), [0.5, 1, 1.5]);
      assert.deepEqual(await z.tensor([true, false, true]).sum().tolist(), 2);
      assert.equal(i.mul(z.tensor([1.5, 1, 1])).dtype, 'float32');
      assert.equal(z.tensor([1], { dtype: 'float64' }).add(z.tensor([1])).dtype, 'float64');
    });

    on('int32 ops: neg, abs, relu, maximum, sum, matmul, argmax', async () => {
      const a = z.tensor([[-3, 2], [4, -5]], { dtype: 'int32' });
      assert.deepEqual(await a.neg().tolist(), [[3, -2], [-4, 5]]);
      assert.deepEqual(await a.abs().tolist(), [[3, 2], [4, 5]]);
      assert.deepEqual(await a.relu().tolist(), [[0, 2], [4, 0]]);
      assert.deepEqual(await a.matmul(a).tolist(), [[17, -16], [-32, 33]]);
      assert.deepEqual(await a.sum(0).tolist(), [1, -3]);
      assert.deepEqual(await a.argmax(1).tolist(), [1, 0]);
    });

    on('indices out of range are an error naming the op', async () => {
      await assert.rejects(z.ones(3, 2).indexSelect(0, z.tensor([3], { dtype: 'int32' })).data(), /indexSelect: index 3 out of range for dim 0 of size 3/);
    }, backend === 'js' ? false : 'ONNX Runtime checks indices itself, with its own message');

    on('oneHot, tril/triu on int, clamp boundaries pass gradient (PyTorch rule)', async () => {
      assert.deepEqual(await z.tensor([1, 0], { dtype: 'int32' }).oneHot(3).tolist(), [[0, 1, 0], [1, 0, 0]]);
      assert.deepEqual(await z.ones(2, 2, { dtype: 'int32' }).triu(1).tolist(), [[0, 1], [0, 0]]);
      const x = z.tensor([-1, 0, 0.5, 1, 2], { requiresGrad: true });
      x.clamp(0, 1).sum().backward();
      assert.deepEqual(await x.grad!.tolist(), [0, 1, 1, 1, 0]);
    });

    on('matmul at sizes past the js kernel\'s 4x4 blocking agrees with a plain triple loop (batched, ragged edges)', async () => {
      const [B, M, K, N] = [2, 37, 29, 23];
      const a = Float64Array.from({ length: B * M * K }, (_, i) => Math.sin(0.37 * i + 0.1));
      const b = Float64Array.from({ length: K * N }, (_, i) => Math.cos(0.11 * i - 0.3));
      const expected = new Float64Array(B * M * N);
      for (let t = 0; t < B; t++) {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += a[t * M * K + i * K + k]! * b[k * N + j]!;
            expected[t * M * N + i * N + j] = s;
          }
        }
      }
      const out = z.tensor(a, { dtype: 'float32', shape: [B, M, K] }).matmul(z.tensor(b, { dtype: 'float32', shape: [K, N] }));
      assertClose(await out.data(), expected, { atol: 1e-4, rtol: 1e-5, what: 'matmul 2x37x29 @ 29x23' });
    });

    on('dropout: identity for p = 0 and in eval mode, zeros for p = 1, errors outside [0, 1]', async () => {
      const x = z.tensor([[1, -2, 3], [4, 5, -6]]);
      assert.deepEqual(await z.dropout(x, 0, true).tolist(), await x.tolist());
      assert.deepEqual(await z.dropout(x, 0.9, false).tolist(), await x.tolist());
      assertClose(await z.dropout(x, 1, true).data(), [0, 0, 0, 0, 0, 0], { atol: 0, rtol: 0, what: 'dropout p=1' });
      assert.throws(() => z.dropout(x, 1.5), /dropout: probability must be in \[0, 1\], got 1.5/);
      assert.throws(() => z.dropout(x, -0.1), /dropout/);
    });

    on('dropout keeps each dtype\'s own scale: survivors of float64 are x / (1 - p) exactly, of float32 its float32 rounding', async () => {
      for (const [dtype, scale] of [['float64', 1 / 0.7], ['float32', Math.fround(1 / 0.7)]] as const) {
        z.manualSeed(3);
        const y = await z.dropout(z.ones([1000], { dtype }), 0.3).data();
        assert.ok(y.every((v) => v === 0 || v === scale), `${dtype}: ${[...new Set(y)].join(', ')}`);
        assert.ok(y.some((v) => v === 0) && y.some((v) => v !== 0));
      }
    });

    on('dropout statistics: drop rate p, survivors scaled by 1/(1-p), mean kept, gradient equals the mask', async () => {
      const n = 50_000;
      const p = 0.3;
      z.manualSeed(1234);
      const x = z.full([n], 2, { requiresGrad: true });
      const y = z.dropout(x, p);
      y.sum().backward();
      const [out, g] = [await y.data(), await x.grad!.data()];
      const dropped = out.filter((v) => v === 0).length / n;
      // Binomial: sd of the drop rate is sqrt(p(1-p)/n) ~ 0.002; allow 5 sd.
      assert.ok(Math.abs(dropped - p) < 5 * Math.sqrt((p * (1 - p)) / n), `drop rate ${dropped}, expected ${p}`);
      assert.ok(out.every((v) => v === 0 || Math.abs(v - 2 / (1 - p)) < 1e-5), 'survivors are scaled by 1/(1-p)');
      let total = 0;
      for (const v of out) total += v;
      const mean = total / n;
      assert.ok(Math.abs(mean - 2) < 5 * 2 * Math.sqrt(p / (1 - p) / n), `mean ${mean}, expected 2`);
      for (let i = 0; i < n; i++) assertClose([g[i]!], [out[i]! / 2], { atol: 1e-6, rtol: 0, what: `grad[${i}]` });
    });

    on('dropout masks: the same seed gives the same mask, consecutive calls differ', async () => {
      const x = z.ones(4, 64);
      z.manualSeed(7);
      const a = await z.dropout(x, 0.5).data();
      const b = await z.dropout(x, 0.5).data();
      z.manualSeed(7);
      const again = await z.dropout(x, 0.5).data();
      assert.deepEqual([...again], [...a]);
      assert.notDeepEqual([...b], [...a]);
    });
  });
}
