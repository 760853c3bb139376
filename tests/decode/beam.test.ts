/**
 * The per-sentence beam core (src/decode/beam.ts) that beamSearch and the export runner share, on
 * hand-computed steps: which candidates finish (EOS dropped from the tokens, the cap's token kept),
 * which stay live and whose rows they continue, and when the sentence closes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Decoded, type RowDecoder, type Scored, SentenceBeam, beamDecode, greedyDecode, greedyStep, lengthCap, lengthPenalty, topIndices } from '../../src/decode/beam.js';
import { assertClose } from '../helpers.js';

const EOS = 1;
const rows = (...ps: number[][]): Float64Array => Float64Array.from(ps.flat(), Math.log);
interface Traced extends Scored { path: string }
const extend = (parent: Traced, row: number, token: number, base: Scored): Traced => ({ ...base, path: `${parent.path}>${row}:${token}` });

test('two steps of K = 2: EOS finishes without its token, live beams keep their parents, a better finished hypothesis closes', () => {
  const beam = new SentenceBeam<Traced>({ beamSize: 2, eos: EOS, cap: 3, lengthPenalty: 0, nBest: 1 }, { tokens: [], logProb: 0, path: '' });
  // Step 1, one row: 0 (0.5), EOS (0.3), 2 (0.2).
  assert.deepEqual(beam.advance(rows([0.5, 0.3, 0.2]), 0, 3, extend), [0, 0]);
  assert.deepEqual(beam.live.map((h) => h.tokens), [[0], [2]]);
  assert.deepEqual(beam.finished.map((h) => [h.tokens, h.path]), [[[], '>0:1']]);
  assertClose([beam.finished[0]!.logProb, beam.finished[0]!.score], [Math.log(0.3), Math.log(0.3)]);
  assert.equal(beam.closed, false, 'log 0.3 < log 0.5 of the best live beam');
  // Step 2, rows [0] and [2] (given from row 5 on, as in a batch): [0] EOS (0.8) finishes at log 0.4;
  // [2, 0] (log 0.18) and [0, 0] (log 0.05, tied with [0, 2]: the lower token first) stay live.
  const lp = new Float64Array(7 * 3).fill(NaN);
  lp.set(rows([0.1, 0.8, 0.1], [0.9, 0.05, 0.05]), 5 * 3);
  assert.deepEqual(beam.advance(lp, 5, 3, extend), [1, 0]);
  assert.deepEqual(beam.live.map((h) => [h.tokens, h.path]), [[[2, 0], '>0:2>1:0'], [[0, 0], '>0:0>0:0']]);
  assertClose(beam.live.map((h) => h.logProb), [Math.log(0.2 * 0.9), Math.log(0.5 * 0.1)]);
  assert.equal(beam.closed, true, 'log 0.4 beats every live beam');
  assert.deepEqual(beam.advance(lp, 5, 3, extend), [], 'a closed sentence keeps nothing');
  const [best] = beam.best();
  assert.deepEqual(best!.tokens, [0]);
  assertClose([best!.logProb], [Math.log(0.5 * 0.8)]);
});

test('the length cap finishes every candidate with its token; best() ranks by the penalised score', () => {
  const beam = new SentenceBeam<Traced>({ beamSize: 2, eos: EOS, cap: 1, lengthPenalty: 1, nBest: 3 }, { tokens: [], logProb: 0, path: '' });
  assert.deepEqual(beam.advance(rows([0.5, 0.3, 0.2]), 0, 3, extend), []);
  assert.equal(beam.closed, true, 'nothing left alive');
  const best = beam.best();
  assert.deepEqual(best.map((h) => h.tokens), [[0], [], [2]]);
  // Length 1 everywhere (EOS counts): penalty ((5 + 1) / 6)^1 = 1.
  assertClose(best.map((h) => h.score), [Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
});

test('lengthPenalty is GNMT\'s ((5 + |Y|) / 6)^alpha; topIndices orders ties by index', () => {
  assert.equal(lengthPenalty(7, 0), 1);
  assertClose([lengthPenalty(1, 1), lengthPenalty(7, 0.5)], [1, Math.SQRT2]);
  assert.deepEqual(topIndices([0, 3, 1, 3, 2, 3], 1, 5, 3), [0, 2, 4]); // values 3, 1, 3, 2, 3 from offset 1
  assert.deepEqual(topIndices([5, 4, 4, 4], 0, 4, 2), [0, 1]);
});

test('greedyStep appends the argmax (lowest id among ties), ends at EOS without appending it, or at the cap; lengthCap', () => {
  const h: Scored = { tokens: [], logProb: 0 };
  assert.deepEqual(greedyStep(h, rows([0.4, 0.2, 0.4]), 0, 3, EOS, 2), { token: 0, done: false });
  assert.deepEqual(greedyStep(h, rows([0, 0, 0, 0.1, 0.3, 0.6]), 3, 3, EOS, 2), { token: 2, done: true }, 'the cap');
  assert.deepEqual(h.tokens, [0, 2]);
  assertClose([h.logProb], [Math.log(0.4 * 0.6)]);
  const e: Scored = { tokens: [5], logProb: -1 };
  assert.deepEqual(greedyStep(e, rows([0.1, 0.8, 0.1]), 0, 3, EOS, 9), { token: EOS, done: true });
  assert.deepEqual(e.tokens, [5]);
  assertClose([e.logProb], [-1 + Math.log(0.8)]);
  assert.equal(lengthCap(50, 7, 2, 10), 24);
  assert.equal(lengthCap(20, 7, 2, 10), 20);
  assert.equal(lengthCap(50), 50);
  assert.equal(lengthCap(50, 3, 0, 0), 1, 'at least one token');
});

/** A Markov "decoder" over plain arrays (log p of the next token given the last), recording what it is fed. */
function markov(P: number[][]): RowDecoder & { fed: { last: number[]; prefixes: number[][] }[]; selected: number[][] } {
  const V = P.length;
  const fed: { last: number[]; prefixes: number[][] }[] = [];
  const selected: number[][] = [];
  return {
    fed, selected,
    step: async (last, prefixes) => {
      fed.push({ last: [...last], prefixes: prefixes.map((p) => [...p]) });
      return { logProbs: Float64Array.from(last.flatMap((tok) => P[tok]!.map(Math.log))), V, attention: Float64Array.from(last.flatMap((tok) => [tok, 1 - tok])) }; // attention (rows, 2)
    },
    select: (rows) => { selected.push([...rows]); },
  };
}

test('the loops over plain arrays: greedy and beam feed each row its newest token and prefix, EOS for padding rows; stepLogProbs add up', async () => {
  // BOS 0, EOS 1: from 0, token 2 (0.6) or 3 (0.3); 2 ends (EOS 0.9); 3 goes on to 2 (0.9).
  const P = [[0, 0.1, 0.6, 0.3], [0, 1, 0, 0], [0, 0.9, 0.05, 0.05], [0, 0.05, 0.9, 0.05]];
  const g = markov(P);
  const [h] = await greedyDecode(g, [5], 0, EOS);
  assert.deepEqual(h!.tokens, [2]);
  assert.deepEqual(g.fed.map((f) => f.prefixes), [[[0]], [[0, 2]]]);
  assertClose(h!.stepLogProbs, [Math.log(0.6), Math.log(0.9)]);
  assertClose([h!.logProb, h!.score], [Math.log(0.54), Math.log(0.54)]);
  assert.deepEqual(h!.attention, [[0, 1], [2, -1]], 'each step\'s attention row');

  const b = markov(P);
  const [[best]] = await beamDecode(b, [5], { beamSize: 2, eos: EOS, lengthPenalty: 0, nBest: 1 }, 0) as [[Decoded]];
  assert.deepEqual(best.tokens, [2]);
  assertClose([best.stepLogProbs.reduce((x, y) => x + y)], [best.logProb]);
  // Step 1 keeps [2] and [3]; step 2 finishes [2] EOS (0.54) and keeps [3, 2] (0.27) and [2, 2] (0.03): 0.54 wins, the search stops.
  assert.deepEqual(b.fed.map((f) => f.last), [[0], [2, 3]]);
  assert.deepEqual(b.fed[1]!.prefixes, [[0, 2], [0, 3]]);
  assert.deepEqual(b.selected, [[0, 0]]);
});

test('beamDecode pads a sentence\'s rows with EOS and row 0 when fewer than K stay alive', async () => {
  // Two tokens, BOS 0 and EOS 1: after the first step, one live beam ([0]) for K = 2; the other slot
  // repeats row 0 and feeds EOS, with a prefix as long as the live ones.
  const b = markov([[0.7, 0.3], [0, 1]]);
  await beamDecode(b, [3], { beamSize: 2, eos: EOS, lengthPenalty: 0, nBest: 2 }, 0);
  assert.deepEqual(b.fed[1]!.last, [0, EOS]);
  assert.deepEqual(b.fed[1]!.prefixes, [[0, 0], [0, EOS]]);
  assert.deepEqual(b.selected[0], [0, 0]);
});
