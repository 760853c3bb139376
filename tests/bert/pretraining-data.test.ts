/**
 * Pretraining data on a generated corpus: MLM masking statistics (15% of real tokens, 80/10/10,
 * specials never masked, whole words together, same seed same data, masks a function of the epoch)
 * and NSP pairs (random-next share, is-next really consecutive, lengths within maxSeqLength);
 * malformed corpora give errors naming the file and line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertTokenizer, Generator, trainWordPiece } from '../../src/index.js';
import {
  IGNORE_INDEX, PretrainingDataset, createNspInstances, pairIds, readPretrainingCorpus, tokenizeDocuments, type NspInstance,
} from '../../src/bert/data/pretraining.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPICS = [
  { nouns: ['cow', 'horse', 'farmer', 'barnyard', 'tractor', 'wheatfield'], verbs: ['feeds', 'notices', 'pulls', 'discovers'], adjs: ['old', 'brownish', 'muddy'] },
  { nouns: ['ship', 'sailor', 'whale', 'wave', 'harbormaster', 'captain'], verbs: ['sails', 'watches', 'follows', 'encounters'], adjs: ['blue', 'stormy', 'saltwater'] },
  { nouns: ['taxi', 'banker', 'skyscraper', 'street', 'subway', 'mayor'], verbs: ['constructs', 'drives', 'visits', 'crosses'], adjs: ['busy', 'towering', 'noisy'] },
  { nouns: ['rocket', 'planet', 'astronaut', 'comet', 'moon', 'spacestation'], verbs: ['orbits', 'launches', 'reaches', 'circles'], adjs: ['distant', 'brilliant', 'frozen'] },
];

/** Documents of one topic each; sentences of varying length; blank lines between documents. */
function corpusText(docs: number, sentences: number, seed: number): string {
  const g = new Generator(seed);
  const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
  const out: string[] = [];
  for (let d = 0; d < docs; d++) {
    const t = TOPICS[d % TOPICS.length]!;
    const n = sentences + g.randint(-3, 4);
    for (let s = 0; s < n; s++) {
      let line = `the ${pick(t.adjs)} ${pick(t.nouns)} ${pick(t.verbs)} the ${pick(t.nouns)}`;
      if (g.random() < 0.5) line += ` and the ${pick(t.nouns)}`;
      out.push(`${line} .`);
    }
    out.push('');
  }
  return out.join('\n');
}

const corpusFile = join(dir, 'corpus.txt');
writeFileSync(corpusFile, corpusText(60, 14, 1));
const corpus = readPretrainingCorpus(corpusFile);
// A small vocabulary, so that longer words split into "##" pieces.
const tokenizer = new BertTokenizer(trainWordPiece(corpus.documents.flat().map((s) => s.text), { vocabSize: 90 }));
const documents = tokenizeDocuments(corpus.documents, tokenizer);
const MAX = 48;
const instances = createNspInstances(documents, new Generator(3), { maxSeqLength: MAX });
const [PAD, CLS, SEP, MASK] = ['[PAD]', '[CLS]', '[SEP]', '[MASK]'].map((t) => tokenizer.convertTokensToIds(t)) as [number, number, number, number];

/** Word groups of a sequence: a word start and the "##" pieces after it. */
function words(ids: ArrayLike<number>): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === CLS || id === SEP || id === PAD) continue;
    if (tokenizer.vocab[id]!.startsWith('##') && out.length && out[out.length - 1]!.at(-1) === i - 1) out[out.length - 1]!.push(i);
    else out.push([i]);
  }
  return out;
}

describe('MLM masking', () => {
  test('15% of the real tokens are targets; 80% [MASK], 10% random, 10% kept; specials never', (t) => {
    const ds = new PretrainingDataset(instances, tokenizer, { seed: 5 });
    let candidates = 0; let targets = 0; let masked = 0; let kept = 0; let random = 0;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let i = 0; i < ds.length; i++) {
        const ex = ds.example(i, epoch);
        const { ids } = pairIds(instances[i]!, CLS, SEP);
        assert.equal(ex.inputIds.length, ids.length);
        for (let t = 0; t < ids.length; t++) {
          const special = ids[t] === CLS || ids[t] === SEP || ids[t] === PAD;
          if (special) {
            assert.equal(ex.labels[t], IGNORE_INDEX, `special token at ${t} of instance ${i} became a target`);
            assert.equal(ex.inputIds[t], ids[t], 'special tokens are never replaced');
            continue;
          }
          candidates++;
          if (ex.labels[t] === IGNORE_INDEX) {
            assert.equal(ex.inputIds[t], ids[t], 'a token that is not a target is left alone');
            continue;
          }
          assert.equal(ex.labels[t], ids[t], 'the label is the original token');
          targets++;
          if (ex.inputIds[t] === MASK) masked++;
          else if (ex.inputIds[t] === ids[t]) kept++;
          else random++;
        }
        assert.ok(ex.labels.some((l) => l !== IGNORE_INDEX), `instance ${i} has no target`);
      }
    }
    const share = targets / candidates;
    t.diagnostic(`${targets} targets of ${candidates} tokens (${(100 * share).toFixed(2)}%): [MASK] ${(100 * masked / targets).toFixed(1)}%, random ${(100 * random / targets).toFixed(1)}%, kept ${(100 * kept / targets).toFixed(1)}%`);
    assert.ok(Math.abs(share - 0.15) < 0.01, `targets are ${(100 * share).toFixed(2)}% of ${candidates} tokens`);
    assert.ok(targets > 4000, `${targets} targets`);
    // 4000+ targets: the standard error of each share is below 0.7 points; allow 2.5.
    assert.ok(Math.abs(masked / targets - 0.8) < 0.025, `[MASK] ${(100 * masked / targets).toFixed(1)}%`);
    assert.ok(Math.abs(random / targets - 0.1) < 0.025, `random ${(100 * random / targets).toFixed(1)}%`);
    assert.ok(Math.abs(kept / targets - 0.1) < 0.025, `kept ${(100 * kept / targets).toFixed(1)}%`);
  });

  test('whole-word masking masks a word with all its ## pieces', () => {
    const ww = new PretrainingDataset(instances, tokenizer, { seed: 1, wholeWordMask: true });
    const plain = new PretrainingDataset(instances, tokenizer, { seed: 1 });
    let multi = 0; let partialPlain = 0; let candidates = 0; let targets = 0;
    for (let i = 0; i < ww.length; i++) {
      const { ids } = pairIds(instances[i]!, CLS, SEP);
      const a = ww.example(i, 0);
      const b = plain.example(i, 0);
      for (const w of words(ids)) {
        candidates += w.length;
        const hits = w.filter((t) => a.labels[t] !== IGNORE_INDEX).length;
        targets += hits;
        assert.ok(hits === 0 || hits === w.length, `instance ${i}: word at ${w.join(',')} partly masked (${hits} of ${w.length})`);
        if (w.length > 1) {
          multi++;
          const h = w.filter((t) => b.labels[t] !== IGNORE_INDEX).length;
          if (h > 0 && h < w.length) partialPlain++;
        }
      }
    }
    assert.ok(multi > 500, `only ${multi} multi-piece words: the vocabulary should split words`);
    assert.ok(partialPlain > 20, 'without whole-word masking, pieces are masked independently');
    // Skipping words that would overshoot keeps the count near 15%, a little under.
    assert.ok(targets / candidates > 0.12 && targets / candidates < 0.165, `whole-word targets ${(100 * targets / candidates).toFixed(2)}%`);
  });

  test('same seed, same data; masks change with the epoch (dynamic) or not (static)', () => {
    const again = createNspInstances(tokenizeDocuments(readPretrainingCorpus(corpusFile).documents, tokenizer), new Generator(3), { maxSeqLength: MAX });
    assert.deepEqual(again, instances);
    const other = createNspInstances(documents, new Generator(4), { maxSeqLength: MAX });
    assert.notDeepEqual(other, instances);
    const a = new PretrainingDataset(instances, tokenizer, { seed: 9 });
    const b = new PretrainingDataset(again, tokenizer, { seed: 9 });
    const c = new PretrainingDataset(instances, tokenizer, { seed: 10 });
    const fixed = new PretrainingDataset(instances, tokenizer, { seed: 9, dynamicMasking: false });
    let sameEpochs = 0; let sameSeeds = 0;
    for (let i = 0; i < 200; i++) {
      // Order-independent: asking in any order gives the same example.
      assert.deepEqual(a.example(i, 2), b.example(i, 2));
      if (JSON.stringify(a.example(i, 0).labels) === JSON.stringify(a.example(i, 1).labels)) sameEpochs++;
      if (JSON.stringify(a.example(i, 0).labels) === JSON.stringify(c.example(i, 0).labels)) sameSeeds++;
      assert.deepEqual(fixed.example(i, 0), fixed.example(i, 3));
    }
    assert.ok(sameEpochs < 20, `${sameEpochs} of 200 instances kept their masks across epochs`);
    assert.ok(sameSeeds < 20, `${sameSeeds} of 200 instances have the same masks under another seed`);
  });
});

describe('NSP instances', () => {
  const concat = (doc: number, [s, e]: [number, number]): number[] => documents[doc]!.slice(s, e).flat();
  const within = (part: number[], whole: number[]): boolean => {
    for (let k = 0; k + part.length <= whole.length; k++) if (part.every((v, j) => whole[k + j] === v)) return true;
    return false;
  };

  test('half of the coin flips are random-next; is-next pairs are consecutive; lengths fit', (t) => {
    const flips = instances.filter((x) => !x.forced);
    const randomShare = flips.filter((x) => x.isRandomNext).length / flips.length;
    assert.ok(flips.length > 400, `${flips.length} instances`);
    assert.ok(Math.abs(randomShare - 0.5) < 0.06, `random-next share ${(100 * randomShare).toFixed(1)}% of ${flips.length}`);
    const overall = instances.filter((x) => x.isRandomNext).length / instances.length;
    t.diagnostic(`${instances.length} instances: random-next ${(100 * randomShare).toFixed(1)}% of ${flips.length} coin flips, ${(100 * overall).toFixed(1)}% overall`);
    assert.ok(overall >= randomShare - 0.01 && overall < 0.7, `overall random-next ${(100 * overall).toFixed(1)}% (forced ones add to it)`);
    for (const x of instances) {
      assert.ok(x.tokensA.length >= 1 && x.tokensB.length >= 1);
      assert.ok(x.tokensA.length + x.tokensB.length + 3 <= MAX, `instance of ${x.tokensA.length + x.tokensB.length + 3} tokens`);
      assert.ok(within(x.tokensA, concat(x.docA, x.sentencesA)), 'A is a (possibly trimmed) run of its sentences');
      assert.ok(within(x.tokensB, concat(x.docB, x.sentencesB)), 'B is a (possibly trimmed) run of its sentences');
      if (x.isRandomNext) {
        assert.notEqual(x.docB, x.docA, 'a random next comes from another document');
      } else {
        assert.equal(x.docB, x.docA);
        assert.equal(x.sentencesB[0], x.sentencesA[1], 'B starts with the sentence after A');
        assert.ok(x.sentencesB[1] > x.sentencesB[0]);
      }
    }
    // Untruncated is-next pairs read as the document itself.
    const whole = instances.filter((x: NspInstance) => !x.isRandomNext && x.tokensA.length + x.tokensB.length === concat(x.docA, [x.sentencesA[0], x.sentencesB[1]]).length);
    assert.ok(whole.length > 10, `${whole.length} untruncated is-next pairs`);
    for (const x of whole) assert.deepEqual([...x.tokensA, ...x.tokensB], concat(x.docA, [x.sentencesA[0], x.sentencesB[1]]));
    // Most instances fill the sequence (10% aim shorter).
    const long = instances.filter((x) => x.tokensA.length + x.tokensB.length + 3 >= MAX - 8).length / instances.length;
    assert.ok(long > 0.5, `${(100 * long).toFixed(0)}% of instances are near maxSeqLength`);
  });

  test('pairIds: [CLS] A [SEP] B [SEP] with token types 0 then 1', () => {
    const { ids, tokenTypeIds } = pairIds({ tokensA: [7, 8], tokensB: [9] }, CLS, SEP);
    assert.deepEqual([...ids], [CLS, 7, 8, SEP, 9, SEP]);
    assert.deepEqual([...tokenTypeIds], [0, 0, 0, 0, 1, 1]);
  });
});

describe('corpus files', () => {
  test('documents are split at blank lines; CRLF and whitespace-only lines work', () => {
    const f = join(dir, 'crlf.txt');
    writeFileSync(f, 'one a .\r\none b .\r\n  \r\ntwo a .\r\n\r\n\r\nthree a .\r\nthree b .');
    const c = readPretrainingCorpus(f);
    assert.deepEqual(c.documents.map((d) => d.map((s) => s.text)), [['one a .', 'one b .'], ['two a .'], ['three a .', 'three b .']]);
    assert.deepEqual(c.documents[2]!.map((s) => s.line), [7, 8]);
    assert.equal(c.sentences, 5);
  });

  test('invalid UTF-8 names the file, line and byte; an empty corpus is an error', () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.concat([Buffer.from('fine line .\n\nalso fine .\nbroken '), Buffer.from([0xc3, 0x28]), Buffer.from(' here\n')]));
    assert.throws(() => readPretrainingCorpus(bad), (e: Error) => /bad\.txt:4:9: invalid UTF-8 at byte 9/.test(e.message));
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n \n\n');
    assert.throws(() => readPretrainingCorpus(empty), /empty\.txt: empty corpus/);
    writeFileSync(empty, '');
    assert.throws(() => readPretrainingCorpus(empty), /empty\.txt: empty corpus/);
  });
});
