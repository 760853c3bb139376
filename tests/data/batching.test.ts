/** Bucketed batches: shapes from a small set, token budget held, every example once per epoch, exact resume. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BucketBatcher, filterByLength, type TokenizedExample } from '../../src/data/index.js';
import { Generator } from '../../src/tensor/random.js';

function examples(n: number, seed = 1): TokenizedExample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + g.randint(0, 40);
    return { source: Array.from({ length: len }, () => 4 + i % 50), target: Array.from({ length: Math.max(1, len + g.randint(-3, 4)) }, () => 5) };
  });
}

describe('BucketBatcher', () => {
  test('padded shapes come from the buckets, the budget holds, every example appears once per epoch', () => {
    const ex = examples(500);
    const b = new BucketBatcher(ex, { maxTokens: 256, buckets: [8, 16, 32, 48], seed: 3 });
    const seen: number[] = [];
    const shapes = new Set<string>();
    for (const batch of b.epochRest()) {
      assert.ok([8, 16, 32, 48].includes(batch.sourceLength) && [8, 16, 32, 48].includes(batch.targetLength));
      assert.ok(batch.rows * Math.max(batch.sourceLength, batch.targetLength) <= 256);
      assert.equal(batch.source.length, batch.rows * batch.sourceLength);
      batch.indices.forEach((ex2, r) => {
        const e = ex[ex2]!;
        assert.equal(batch.sourceLength, [8, 16, 32, 48].find((L) => L >= e.source.length), 'smallest bucket that fits');
        assert.equal(batch.sourceLengths[r], e.source.length);
        assert.equal(batch.source[r * batch.sourceLength], e.source[0]);
        if (e.source.length < batch.sourceLength) assert.equal(batch.source[r * batch.sourceLength + e.source.length], 0, 'padded with 0');
      });
      seen.push(...batch.indices);
      shapes.add(`${batch.rows}x${batch.sourceLength}x${batch.targetLength}`);
    }
    assert.deepEqual(seen.sort((x, y) => x - y), ex.map((_, i) => i));
    assert.ok(shapes.size < 40, `${shapes.size} shapes`);
  });

  test('fixedRows: one shape per bucket pair; empty rows have no targets and source length 1', () => {
    const ex = examples(500);
    const b = new BucketBatcher(ex, { maxTokens: 256, buckets: [8, 16, 32, 48], seed: 3, fixedRows: true });
    const rowsOf = new Map<string, Set<number>>();
    const seen: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const batch of b.epochRest()) {
        const key = `${batch.sourceLength}x${batch.targetLength}`;
        (rowsOf.get(key) ?? rowsOf.set(key, new Set()).get(key)!).add(batch.rows);
        assert.equal(batch.rows, Math.floor(256 / Math.max(batch.sourceLength, batch.targetLength)));
        for (let r = batch.indices.length; r < batch.rows; r++) {
          assert.equal(batch.sourceLengths[r], 1);
          assert.equal(batch.targetLengths[r], 0);
          assert.ok(batch.target.subarray(r * batch.targetLength, (r + 1) * batch.targetLength).every((t) => t === 0));
        }
        if (epoch === 0) seen.push(...batch.indices);
      }
      b.startNextEpoch();
    }
    assert.ok([...rowsOf.values()].every((s) => s.size === 1), 'one row count per bucket pair');
    assert.deepEqual(seen.sort((x, y) => x - y), ex.map((_, i) => i));
  });

  test('squareBuckets: source and target padded to the larger bucket; same rows per batch; fewer shapes', () => {
    const ex = examples(500);
    const opts = { maxTokens: 256, buckets: [8, 16, 32, 48], seed: 3, fixedRows: true };
    const shapesOf = (square: boolean): Set<string> => {
      const shapes = new Set<string>();
      const seen: number[] = [];
      for (const batch of new BucketBatcher(ex, { ...opts, squareBuckets: square }).epochRest()) {
        shapes.add(`${batch.rows}x${batch.sourceLength}x${batch.targetLength}`);
        batch.indices.forEach((i, r) => {
          const e = ex[i]!;
          const want = [8, 16, 32, 48].find((L) => L >= Math.max(e.source.length, e.target.length));
          if (square) assert.deepEqual([batch.sourceLength, batch.targetLength], [want, want], `example ${i}`);
          assert.equal(batch.sourceLengths[r], e.source.length);
          assert.equal(batch.targetLengths[r], e.target.length);
          assert.deepEqual([...batch.target.subarray(r * batch.targetLength, r * batch.targetLength + e.target.length)], e.target);
        });
        assert.equal(batch.rows, Math.floor(256 / Math.max(batch.sourceLength, batch.targetLength)));
        seen.push(...batch.indices);
      }
      assert.deepEqual(seen.sort((x, y) => x - y), ex.map((_, i) => i));
      return shapes;
    };
    const square = shapesOf(true);
    const pairs = shapesOf(false);
    // Lengths 1-40 with targets within 3 of the source: 4 square shapes, against the pairs along the diagonal.
    assert.deepEqual([...square].sort(), ['16x16x16', '32x8x8', '5x48x48', '8x32x32']);
    assert.ok(pairs.size > square.size, `${pairs.size} shapes without`);
  });

  test('same seed, same order; different seed, different order; no shuffle keeps corpus order within buckets', () => {
    const ex = examples(200);
    const order = (seed: number) => [...new BucketBatcher(ex, { maxTokens: 128, seed }).epochRest()].map((b) => b.indices.join(','));
    assert.deepEqual(order(7), order(7));
    assert.notDeepEqual(order(7), order(8));
    const plain = [...new BucketBatcher(ex, { maxTokens: 128, shuffle: false }).epochRest()];
    for (const b of plain) assert.deepEqual(b.indices, [...b.indices].sort((x, y) => x - y));
  });

  test('resume from a saved position gives exactly the batches of an uninterrupted run, across epochs', () => {
    const ex = examples(120);
    const opts = { maxTokens: 96, buckets: [8, 16, 32, 48], seed: 11 };
    const full = new BucketBatcher(ex, opts);
    const all = Array.from({ length: 3 * full.batchesPerEpoch + 5 }, () => full.next().indices.join(','));
    const first = new BucketBatcher(ex, opts);
    const k = full.batchesPerEpoch + 7; // mid second epoch
    for (let i = 0; i < k; i++) first.next();
    const saved = JSON.parse(JSON.stringify(first.position));
    assert.equal(saved.epoch, 1);
    const resumed = new BucketBatcher(ex, opts);
    resumed.setPosition(saved);
    const rest = Array.from({ length: all.length - k }, () => resumed.next().indices.join(','));
    assert.deepEqual(rest, all.slice(k));
  });

  test('errors: example longer than the largest bucket, budget below one row', () => {
    assert.throws(() => new BucketBatcher([{ source: new Array(600).fill(4), target: [4] }], { maxTokens: 1000 }), /example 0 has 600 tokens, longer than the largest bucket 512/);
    assert.throws(() => new BucketBatcher([{ source: new Array(30).fill(4), target: [4] }], { maxTokens: 16 }), /example 0 pads to 32 tokens, more than maxTokens 16/);
  });
});

test('filterByLength reports how many were dropped', () => {
  const ex = [{ source: [1, 2, 3], target: [1] }, { source: [1], target: [1, 2] }, { source: [], target: [1] }, { source: new Array(20).fill(1), target: [1, 2] }];
  const r = filterByLength(ex, { maxSourceLength: 10, maxRatio: 3 });
  assert.deepEqual(r.kept, [ex[0], ex[1]]);
  assert.equal(r.dropped, 2);
});

test('maxRows: batches of that many examples whatever their length (the budget does not bind), each example once', () => {
  const ex = examples(101);
  const b = new BucketBatcher(ex, { maxTokens: 16, maxRows: 8, buckets: [8, 16, 32, 48], seed: 2 });
  const batches = [...b.epochRest()];
  const seen = batches.flatMap((x) => x.indices).sort((p, q) => p - q);
  assert.deepEqual(seen, ex.map((_, i) => i));
  assert.ok(batches.every((x) => x.rows <= 8));
  assert.ok(batches.some((x) => x.rows === 8 && x.rows * Math.max(x.sourceLength, x.targetLength) > 16), 'rows beyond the token budget');
  assert.throws(() => new BucketBatcher(ex, { maxTokens: 16, maxRows: 0 }), /maxRows must be a positive integer/);
});
