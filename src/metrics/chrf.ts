/**
 * chrF (Popović 2015) and chrF++ (Popović 2017) with sacreBLEU 2.x's conventions: character
 * n-grams up to order 6 with whitespace removed, beta 2, precision and recall averaged over the
 * orders both sides have (sacreBLEU's "effective order"; `epsSmoothing` selects the chrF++.py /
 * Moses / NLTK variant), best reference per sentence by its own F-score, statistics summed over the
 * corpus. Lengths count code points, like Python.
 */
import { ArgumentError } from '../tensor/errors.js';
import { SACREBLEU_VERSION } from './bleu.js';
import { pySplit } from './tokenizers.js';
import { checkOptions } from '../tensor/options.js';

export interface ChrfOptions {
  /** Character n-gram order, default 6. */
  charOrder?: number;
  /** Word n-gram order: 0 is chrF (default), 2 is chrF++. */
  wordOrder?: number;
  /** Recall weight, default 2 (chrF2). */
  beta?: number;
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false, as sacreBLEU). */
  whitespace?: boolean;
  /** chrF++.py-style epsilon smoothing instead of averaging over effective orders (default false). */
  epsSmoothing?: boolean;
}

export interface ChrfScore {
  /** 0..100 */
  score: number;
  /** `chrF2`, `chrF2++` */
  name: string;
  /** `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.3` */
  signature: string;
  format(): string;
}

/** sacreBLEU's chrF+ punctuation set (Python's string.punctuation). */
const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

type Counter = Map<string, number>;

function count(items: readonly string[]): Counter {
  const c: Counter = new Map();
  for (const it of items) c.set(it, (c.get(it) ?? 0) + 1);
  return c;
}

function charNgrams(line: string, maxOrder: number, whitespace: boolean): Counter[] {
  const chars = Array.from(whitespace ? line : pySplit(line).join(''));
  const out: Counter[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const grams: string[] = [];
    for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(''));
    out.push(count(grams));
  }
  return out;
}

/** sacreBLEU's `_remove_punctuation`: splits one leading or trailing ASCII punctuation mark off each word. */
function removePunctuation(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    const cps = Array.from(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(cps[cps.length - 1]!)) out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]!);
    else if (PUNCTS.has(cps[0]!)) out.push(cps[0]!, cps.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

function wordNgrams(words: readonly string[], n: number): Counter {
  const grams: string[] = [];
  for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(' '));
  return count(grams);
}

function allNgrams(line: string, o: Required<ChrfOptions>): Counter[] {
  const grams = charNgrams(line, o.charOrder, o.whitespace);
  if (o.wordOrder > 0) {
    const words = removePunctuation(line);
    for (let n = 1; n <= o.wordOrder; n++) grams.push(wordNgrams(words, n));
  }
  return grams;
}

/** [hyp, ref, match] for one order; hypothesis n-grams do not count when the reference has none of that order. */
function matchStats(hyp: Counter, ref: Counter): [number, number, number] {
  let match = 0;
  let nHyp = 0;
  for (const [ng, c] of hyp) {
    nHyp += c;
    const r = ref.get(ng);
    if (r !== undefined) match += Math.min(c, r);
  }
  let nRef = 0;
  for (const c of ref.values()) nRef += c;
  return [ref.size > 0 ? nHyp : 0, nRef, match];
}

function fScore(stats: readonly number[], o: Required<ChrfOptions>): number {
  const eps = 1e-16;
  const order = o.charOrder + o.wordOrder;
  const factor = o.beta ** 2;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i]!;
    const nRef = stats[3 * i + 1]!;
    const nMatch = stats[3 * i + 2]!;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) return 0;
  avgPrec /= effectiveOrder;
  avgRec /= effectiveOrder;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

/** Corpus chrF; `references` in sacreBLEU's layout (streams), as in `corpusBleu`. */
export function corpusChrf(hypotheses: readonly string[], references: ReadonlyArray<ReadonlyArray<string | null>>, opts: ChrfOptions = {}): ChrfScore {
  opts = checkOptions('corpusChrf', opts, { charOrder: 1, wordOrder: 1, beta: 1, lowercase: 1, whitespace: 1, epsSmoothing: 1 });
  const o: Required<ChrfOptions> = {
    charOrder: opts.charOrder ?? 6, wordOrder: opts.wordOrder ?? 0, beta: opts.beta ?? 2,
    lowercase: opts.lowercase ?? false, whitespace: opts.whitespace ?? false, epsSmoothing: opts.epsSmoothing ?? false,
  };
  if (!(o.charOrder >= 1) || !(o.wordOrder >= 0) || !(o.beta > 0)) throw new ArgumentError(`chrF: bad options ${JSON.stringify(o)}`);
  if (references.length === 0) throw new ArgumentError('corpusChrf: no reference streams given');
  for (const [k, stream] of references.entries()) {
    if (stream.length !== hypotheses.length) throw new ArgumentError(`corpusChrf: reference stream ${k} has ${stream.length} lines, hypotheses have ${hypotheses.length}`);
  }
  const prep = (s: string): string => (o.lowercase ? s.toLowerCase() : s);
  const order = o.charOrder + o.wordOrder;
  const sums = new Array<number>(3 * order).fill(0);
  const nrefsSeen = new Set<number>();
  for (let i = 0; i < hypotheses.length; i++) {
    const hypGrams = allNgrams(prep(hypotheses[i]!), o);
    let best: number[] = [];
    let bestF = -1;
    let nrefs = 0;
    for (const stream of references) {
      const ref = stream[i];
      if (ref === null || ref === undefined) continue;
      nrefs++;
      const refGrams = allNgrams(prep(ref), o);
      const stats = hypGrams.flatMap((h, j) => matchStats(h, refGrams[j]!));
      const f = fScore(stats, o);
      if (f > bestF) { bestF = f; best = stats; }
    }
    if (nrefs === 0) throw new ArgumentError(`corpusChrf: sentence ${i} has no reference`);
    nrefsSeen.add(nrefs);
    for (let j = 0; j < best.length; j++) sums[j]! += best[j]!;
  }
  const score = fScore(sums, o);
  const name = `chrF${o.beta}${'+'.repeat(o.wordOrder)}`;
  const nrefs = nrefsSeen.size === 1 ? [...nrefsSeen][0]! : 'var';
  const signature = `nrefs:${nrefs}|case:${o.lowercase ? 'lc' : 'mixed'}|eff:${o.epsSmoothing ? 'no' : 'yes'}|nc:${o.charOrder}|nw:${o.wordOrder}|space:${o.whitespace ? 'yes' : 'no'}|version:${SACREBLEU_VERSION}`;
  return { score, name, signature, format: () => `${name} = ${score.toFixed(2)}` };
}

export function sentenceChrf(hypothesis: string, references: readonly string[], opts: ChrfOptions = {}): ChrfScore {
  opts = checkOptions('sentenceChrf', opts, { charOrder: 1, wordOrder: 1, beta: 1, lowercase: 1, whitespace: 1, epsSmoothing: 1 });
  return corpusChrf([hypothesis], references.map((r) => [r]), opts);
}
