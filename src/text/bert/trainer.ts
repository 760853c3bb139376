/**
 * WordPiece vocabulary training as Hugging Face's WordPieceTrainer does it: BERT basic tokenization,
 * then BPE merges over characters where non-initial symbols carry the "##" prefix; the merged strings
 * become the vocabulary (the merge list itself is thrown away, WordPiece only needs the tokens).
 *
 * Vocabulary order: special tokens, the alphabet (sorted), its "##" forms (sorted), then merges in the
 * order they were made. Deviation from HF: ties between equally frequent pairs are broken by the pair's
 * strings (HF breaks them by internal ids, which depend on hash-map order), so training is deterministic.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/safetensors.js';
import { BasicTokenizer } from './basic.js';
import { BertTokenizerError } from './errors.js';
import { checkOptions } from '../../tensor/options.js';

export interface WordPieceTrainerOptions {
  /** Target size including special tokens. Default 30000. The alphabet is always kept, even if larger. */
  vocabSize?: number;
  /** Pairs seen fewer times are never merged. Default 2 (HF BertWordPieceTokenizer.train). */
  minFrequency?: number;
  /** Placed first, in this order. Default [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0..4). */
  specialTokens?: readonly string[];
  /** BasicTokenizer settings used on the corpus; must match the tokenizer that will use the vocabulary. */
  lowercase?: boolean;
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  /** Keep only this many most frequent characters (default 1000, HF's default); rarer ones become [UNK]. */
  limitAlphabet?: number;
  continuingSubwordPrefix?: string;
  /** When given, vocab.txt is written into this folder. */
  outputDir?: string;
}

interface Word {
  symbols: string[];
  count: number;
}

const SEP = '\u0000';

/** Max-heap of pairs by (count desc, left asc, right asc); stale entries are skipped on pop. */
class PairHeap {
  private readonly items: [number, string, string][] = [];

  push(item: [number, string, string]): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): [number, string, string] | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  private before(x: [number, string, string], y: [number, string, string]): boolean {
    if (x[0] !== y[0]) return x[0] > y[0];
    if (x[1] !== y[1]) return x[1] < y[1];
    return x[2] < y[2];
  }
}

/** Trains a WordPiece vocabulary from lines of text; returns the tokens in id order (and writes vocab.txt if outputDir is set). */
export function trainWordPiece(corpusLines: Iterable<string>, options: WordPieceTrainerOptions = {}): string[] {
  options = checkOptions('trainWordPiece', options, { vocabSize: 1, minFrequency: 1, specialTokens: 1, lowercase: 1, stripAccents: 1, tokenizeChineseChars: 1, limitAlphabet: 1, continuingSubwordPrefix: 1, outputDir: 1 });
  const vocabSize = options.vocabSize ?? 30000;
  const minFrequency = options.minFrequency ?? 2;
  const specials = [...(options.specialTokens ?? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'])];
  const prefix = options.continuingSubwordPrefix ?? '##';
  const limitAlphabet = options.limitAlphabet ?? 1000;
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw new BertTokenizerError(`trainWordPiece: vocabSize must be a positive integer, got ${vocabSize}`);
  const basic = new BasicTokenizer({
    doLowerCase: options.lowercase ?? true,
    stripAccents: options.stripAccents ?? null,
    tokenizeChineseChars: options.tokenizeChineseChars ?? true,
    neverSplit: specials,
  });

  // 1. Word frequencies after basic tokenization.
  const wordCounts = new Map<string, number>();
  for (const line of corpusLines) {
    for (const w of basic.tokenize(line)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }

  // 2. The alphabet: the limitAlphabet most frequent characters.
  const charCounts = new Map<string, number>();
  for (const [w, n] of wordCounts) for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n);
  const alphabet = new Set(
    [...charCounts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, limitAlphabet).map(([c]) => c),
  );

  // 3. Words as symbol sequences: first character bare, the rest "##c"; characters outside the alphabet are dropped (as HF does).
  const words: Word[] = [];
  const continuation = new Set<string>();
  for (const [w, count] of wordCounts) {
    if (specials.includes(w)) continue;
    const symbols: string[] = [];
    for (const c of w) {
      if (!alphabet.has(c)) continue;
      const s = symbols.length === 0 ? c : prefix + c;
      if (symbols.length > 0) continuation.add(s);
      symbols.push(s);
    }
    if (symbols.length > 0) words.push({ symbols, count });
  }
  const vocab: string[] = [];
  const inVocab = new Set<string>();
  const add = (t: string): void => {
    if (!inVocab.has(t)) {
      inVocab.add(t);
      vocab.push(t);
    }
  };
  specials.forEach(add);
  [...alphabet].sort().forEach(add);
  [...continuation].sort().forEach(add);

  // 4. BPE merges until the vocabulary is full or no pair is frequent enough.
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const count = (w: Word, index: number, sign: 1 | -1, touched: Set<string>): void => {
    for (let i = 0; i + 1 < w.symbols.length; i++) {
      const key = w.symbols[i]! + SEP + w.symbols[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * w.count);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(index);
      }
      touched.add(key);
    }
  };
  const pushTouched = (touched: Set<string>): void => {
    for (const key of touched) {
      const n = pairCounts.get(key)!;
      const [l, r] = key.split(SEP) as [string, string];
      if (n > 0) heap.push([n, l, r]);
    }
  };
  const initial = new Set<string>();
  words.forEach((w, i) => count(w, i, 1, initial));
  pushTouched(initial);

  while (vocab.length < vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [n, left, right] = top;
    const key = left + SEP + right;
    if (pairCounts.get(key) !== n) continue; // stale heap entry
    if (n < minFrequency) break;
    const merged = left + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
    add(merged);
    const touched = new Set<string>();
    for (const index of pairWords.get(key) ?? []) {
      const w = words[index]!;
      count(w, index, -1, touched);
      const out: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === left && w.symbols[i + 1] === right) {
          out.push(merged);
          i++;
        } else {
          out.push(w.symbols[i]!);
        }
      }
      w.symbols = out;
      count(w, index, 1, touched);
    }
    pushTouched(touched);
  }

  if (options.outputDir !== undefined) {
    mkdirSync(options.outputDir, { recursive: true });
    writeFileAtomic(join(options.outputDir, 'vocab.txt'), vocab.map((t) => `${t}\n`).join(''));
  }
  return vocab;
}
