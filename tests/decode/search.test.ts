/** Greedy and beam search against brute force on a Markov-chain "model" whose probabilities are known. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import { type DecoderStepper, beamSearch, greedySearch } from '../../src/decode/search.js';
import { assertClose } from '../helpers.js';

const BOS = 0, EOS = 1, V = 4;
// Transition log-probabilities P(next | last), rows = last token. Greedy is tempted by token 2,
// which leads to poor continuations; the best full sequence starts with 3.
const P = [
  [0, 0, 0.55, 0.45],
  [0, 1, 0, 0],
  [0, 0.1, 0.45, 0.45],
  [0, 0.9, 0.05, 0.05],
].map((row) => row.map((p) => Math.log(p)));

/** State: the row index is all it needs; select must still reorder it, so the stepper checks it. */
const stepper: DecoderStepper<z.Tensor> = {
  step(last, state) {
    const tokens = last.buffer as Int32Array;
    const lp = new Float32Array(tokens.length * V);
    tokens.forEach((tok, r) => P[tok]!.forEach((v, j) => { lp[r * V + j] = v; }));
    return { logProbs: z.tensor(lp, { shape: [tokens.length, V] }), state };
  },
  select(state, rows) {
    return state.indexSelect(0, rows);
  },
};

function bruteForce(maxLen: number, alpha: number): { tokens: number[]; score: number } {
  let best = { tokens: [] as number[], score: -Infinity };
  const visit = (seq: number[], lp: number, last: number): void => {
    for (let v = 1; v < V; v++) {
      const l = lp + P[last]![v]!;
      if (l === -Infinity) continue;
      const length = seq.length + 1;
      const pen = alpha === 0 ? 1 : ((5 + length) / 6) ** alpha;
      if (v === EOS || length >= maxLen) {
        const tokens = v === EOS ? seq : [...seq, v];
        if (l / pen > best.score) best = { tokens, score: l / pen };
        continue;
      }
      visit([...seq, v], l, v);
    }
  };
  visit([], 0, BOS);
  return best;
}

test('greedy search follows the argmax chain', async () => {
  const [h] = await greedySearch(stepper, z.zeros(1, 1), 1, { bos: BOS, eos: EOS, maxLength: 6 });
  // 2 (0.55), then 2 (0.45 ties with 3 -> first index), ... until the cap.
  assert.deepEqual(h!.tokens, [2, 2, 2, 2, 2, 2]);
});

test('beam search with a wide beam finds the brute-force optimum, with and without length penalty', async () => {
  for (const alpha of [0, 0.6, 1.0]) {
    const expected = bruteForce(6, alpha);
    const h = (await beamSearch(stepper, z.zeros(1, 1), 1, { bos: BOS, eos: EOS, maxLength: 6, beamSize: 8, lengthPenalty: alpha }))[0]![0]!;
    assert.deepEqual(h.tokens, expected.tokens, `alpha ${alpha}`);
    assertClose([h.score], [expected.score], { what: `score alpha ${alpha}` });
  }
});

test('beam search is batched: two sentences with different length caps, n-best sorted', async () => {
  const res = await beamSearch(stepper, z.zeros(2, 1), 2, { bos: BOS, eos: EOS, maxLength: 10, maxLengthRatio: 1, sourceLengths: [2, 6], beamSize: 4, nBest: 3 });
  assert.equal(res.length, 2);
  assert.deepEqual(res[0]![0]!.tokens, bruteForce(2, 0).tokens);
  assert.deepEqual(res[1]![0]!.tokens, bruteForce(6, 0).tokens);
  for (const list of res) {
    assert.equal(list.length, 3);
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.score >= list[i]!.score);
  }
});
