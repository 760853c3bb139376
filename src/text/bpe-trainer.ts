/**
 * Learns BPE merges from a corpus: count words, start from characters (the last one carrying the
 * end-of-word suffix), then repeatedly merge the most frequent adjacent pair until the vocabulary
 * is full or no pair is frequent enough. Pair counts are updated incrementally (only the words
 * holding the merged pair are touched) and the best pair comes from a heap with lazy deletion, so
 * Multi30k-sized corpora train in seconds. Ties are broken by the pair's text, so the same corpus
 * always gives the same merges.
 */
import { BpeTokenizer, type BpeOptions, pairKey } from './bpe.js';
import { wordPieces } from './tokenizer.js';
import { type BuildVocabOptions, SPECIAL_TOKENS, TokenizerError, Vocab } from './vocab.js';
import { checkOptions } from '../tensor/options.js';

export interface BpeTrainerOptions extends BpeOptions {
  /** Target vocabulary size, specials and alphabet included (default 8000). */
  vocabSize?: number;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  extraSpecials?: BuildVocabOptions['extraSpecials'];
}

interface HeapItem { count: number; a: string; b: string }

/** Max-heap on count, then smaller (a, b) first. */
class PairHeap {
  private items: HeapItem[] = [];
  private before(x: HeapItem, y: HeapItem): boolean {
    if (x.count !== y.count) return x.count > y.count;
    if (x.a !== y.a) return x.a < y.a;
    return x.b < y.b;
  }
  push(item: HeapItem): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): HeapItem | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export function trainBpe(texts: Iterable<string>, opts: BpeTrainerOptions = {}): BpeTokenizer {
  opts = checkOptions('trainBpe', opts, { vocabSize: 1, minFrequency: 1, extraSpecials: 1, lowercase: 1, splitCjk: 1, endOfWordSuffix: 1 });
  const { vocabSize = 8000, minFrequency = 2, endOfWordSuffix = '</w>' } = opts;
  const specials = [...SPECIAL_TOKENS, ...(opts.extraSpecials ?? [])];
  if (minFrequency < 1) throw new TokenizerError(`trainBpe: minFrequency must be >= 1, got ${minFrequency}`);

  // 1. Word counts.
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const p of wordPieces(text, specials, opts)) if (!p.special) wordCounts.set(p.text, (wordCounts.get(p.text) ?? 0) + 1);
  }
  const words = [...wordCounts.keys()].sort();
  const counts = words.map((w) => wordCounts.get(w)!);
  const symbols = words.map((w) => {
    const s = Array.from(w);
    s[s.length - 1] += endOfWordSuffix;
    return s;
  });

  // 2. The alphabet: every initial symbol, in code-unit order after the specials.
  const alphabet = new Set<string>();
  for (const s of symbols) for (const c of s) alphabet.add(c);
  const tokens = [...specials, ...[...alphabet].filter((c) => !specials.includes(c)).sort()];
  const inVocab = new Set(tokens);

  // 3. Pair statistics: total count and the words holding each pair.
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const pairOf = new Map<string, [string, string]>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<string>) => {
    const s = symbols[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = pairKey(s[i]!, s[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * counts[w]!);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
        if (!pairOf.has(key)) pairOf.set(key, [s[i]!, s[i + 1]!]);
      }
      touched.add(key);
    }
  };
  const initial = new Set<string>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  const heap = new PairHeap();
  for (const key of initial) {
    const [a, b] = pairOf.get(key)!;
    heap.push({ count: pairCounts.get(key)!, a, b });
  }

  // 4. Merge until the vocabulary is full.
  const merges: Array<[string, string]> = [];
  while (tokens.length < vocabSize) {
    const top = heap.pop();
    if (!top || top.count < minFrequency) break;
    const key = pairKey(top.a, top.b);
    if (pairCounts.get(key) !== top.count) continue; // stale heap entry
    const merged = top.a + top.b;
    merges.push([top.a, top.b]);
    if (!inVocab.has(merged)) {
      inVocab.add(merged);
      tokens.push(merged);
    }
    const touched = new Set<string>();
    for (const w of pairWords.get(key) ?? []) {
      const s = symbols[w]!;
      addPairs(w, -1, touched);
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === top.a && s[i + 1] === top.b) { next.push(merged); i++; } else next.push(s[i]!);
      }
      symbols[w] = next;
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    pairCounts.delete(key);
    for (const k of touched) {
      const c = pairCounts.get(k);
      if (c === undefined || k === key) continue;
      if (c <= 0) { pairCounts.delete(k); continue; }
      const [a, b] = pairOf.get(k)!;
      heap.push({ count: c, a, b });
    }
  }
  return new BpeTokenizer(new Vocab(tokens, specials), merges, { lowercase: opts.lowercase, splitCjk: opts.splitCjk, endOfWordSuffix });
}
