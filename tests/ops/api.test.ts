/** The op list exists as functions and as Tensor methods wherever PyTorch has both. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';

const BOTH = `add sub mul div pow neg exp log sqrt rsqrt tanh sigmoid relu gelu erf abs maximum minimum eq ne lt le gt ge
  where maskedFill sum mean max min amax amin argmax argmin topk softmax logSoftmax reshape flatten squeeze unsqueeze
  permute transpose expand broadcastTo slice narrow split chunk pad gather indexSelect scatterAdd matmul tril triu clamp
  sin cos reciprocal logicalAnd logicalOr logicalNot`.split(/\s+/);
// PyTorch: torch.cat/torch.stack and F.layer_norm/F.dropout are functions only; view is a method only.
const FUNCTION_ONLY = ['cat', 'stack', 'layerNorm', 'dropout'];
const METHOD_ONLY = ['view'];

test('every op of the issue list is exported as a function and/or a Tensor method, as in PyTorch', () => {
  const exports = z as unknown as Record<string, unknown>;
  const methods = z.ones(1) as unknown as Record<string, unknown>;
  const missing: string[] = [];
  for (const name of [...BOTH, ...FUNCTION_ONLY]) if (typeof exports[name] !== 'function') missing.push(`function ${name}`);
  for (const name of [...BOTH, ...METHOD_ONLY]) if (typeof methods[name] !== 'function') missing.push(`method ${name}`);
  assert.deepEqual(missing, []);
});

test('shape and dim arguments take both PyTorch forms', async () => {
  const x = z.arange(6, undefined, 1, { dtype: 'float32' });
  assert.deepEqual(await x.reshape(2, 3).tolist(), await x.reshape([2, 3]).tolist());
  assert.deepEqual(await x.view(3, 2).tolist(), await x.view([3, 2]).tolist());
  const y = x.reshape(1, 2, 3);
  assert.deepEqual(await y.permute(2, 0, 1).tolist(), await y.permute([2, 0, 1]).tolist());
  assert.deepEqual([...y.expand(4, 2, 3).shape], [...y.expand([4, 2, 3]).shape]);
});

test('bad shapes, dims and arguments throw a ZhuyiError naming the op, the shapes and what was expected', () => {
  const x = z.arange(6, undefined, 1, { dtype: 'float32' }).reshape(2, 3);
  const cases: [() => unknown, RegExp][] = [
    [() => z.ones(2, 3).matmul(z.ones(4, 5)), /^matmul: inner dimensions differ: \[2,3\] @ \[4,5\]$/],
    [() => z.ones(2, 3).add(z.ones(3, 2)), /^add: shapes cannot be broadcast together: \[2,3\], \[3,2\]/],
    [() => x.reshape(4, 2), /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]/],
    [() => x.topk(4), /^topk: k=4 out of range for dim 1 of size 3 in \[2,3\]/],
    [() => x.narrow(1, 2, 2), /^narrow: start 2 \+ length 2 exceeds dim 1 of size 3 in \[2,3\]/],
    [() => x.split([1, 1], 1), /^split: sections \[1,1\] do not sum to dim 1 of size 3/],
    [() => x.softmax(2), /^softmax: dim 2 out of range for a tensor of rank 2/],
    [() => x.permute(0, 0), /^permute: \[0,0\] is not a permutation/],
    [() => x.expand(3, 3), /^expand: cannot expand \[2,3\] to \[3,3\]/],
    [() => z.layerNorm(x, 4), /^layerNorm: normalizedShape \[4\] does not match the trailing dims of \[2,3\]/],
    [() => z.stack([x, z.ones(3, 2)]), /^stack: all tensors must have one shape, got \[2,3\], \[3,2\]/],
    [() => x.chunk(0), /^chunk: chunks must be positive, got 0/],
    [() => x.gather(1, x), /^gather: index must be an integer tensor, got float32/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof z.ZhuyiError && message.test(e.message), `expected ${message}`);
  }
});
