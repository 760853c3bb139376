/**
 * The Anki/Tatoeba English-Chinese pairs (`cmn-eng-tatoeba/v2020-23610/cmn.txt`: en \t zh \t
 * attribution, 23,610 lines) as train / valid / test, the same on every machine. The file is read
 * at run time from a data folder (default `../shared/data`, or $ZHUYI_DATA); it never ships.
 *
 * The split rule, in order:
 * 1. Duplicate pairs are removed, the first kept: the same English and the same Chinese once
 *    normalized as below (v2020-23610 has no byte-exact duplicates, and 4 that differ only in
 *    case, spacing or full-width forms).
 * 2. Pairs are linked when they share a normalized English sentence (lowercase, NFKC, whitespace
 *    collapsed) or a normalized Chinese one (NFKC, no whitespace): "Hi." has two translations, and
 *    one Chinese sentence may translate two English ones. A linked group moves as one, so no
 *    sentence of either side crosses splits, in either direction of translation.
 * 3. Each group goes where the FNV-1a 32-bit hash of its smallest normalized English sentence (by
 *    code unit order), taken mod 100 over its UTF-8 bytes, falls: 0-4 test, 5-9 valid, 10-99 train.
 *    So about 5% / 5% / 90%, and adding lines to the file moves no existing group.
 */
import { checkOptions } from '../tensor/options.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZhuyiError } from '../tensor/errors.js';
import { readParallelTsv } from './read.js';

/** Where the recommended release sits inside the shared data folder. */
export const CMN_ENG_FILE = 'cmn-eng-tatoeba/v2020-23610/cmn.txt';

/** The data folder: `dir` if given, else $ZHUYI_DATA, else `../shared/data` (from the working directory). */
export function dataDir(dir?: string): string {
  return resolve(dir ?? process.env.ZHUYI_DATA ?? '../shared/data');
}

/** The path of cmn.txt, or a clear error saying where it was looked for. */
export function cmnEngPath(dir?: string): string {
  const file = join(dataDir(dir), CMN_ENG_FILE);
  if (!existsSync(file)) {
    throw new ZhuyiError(`cmn-eng: ${file} not found. The Tatoeba English-Chinese pairs are read at run time, never shipped: `
      + 'put manythings.org\'s cmn.txt there, or point --data-dir (or $ZHUYI_DATA) at the folder that holds ' + CMN_ENG_FILE);
  }
  return file;
}

export interface CmnEngPair {
  en: string;
  zh: string;
  /** 1-based line in cmn.txt. */
  line: number;
}

export interface CmnEngSplits {
  train: CmnEngPair[];
  valid: CmnEngPair[];
  test: CmnEngPair[];
  /** Lines read from the file. */
  lines: number;
  /** Duplicate pairs removed (step 1): equal once normalized ... */
  duplicates: number;
  /** ... of which equal byte for byte (after trimming). */
  exactDuplicates: number;
  /** Linked groups (step 2), each wholly in one split. */
  groups: number;
}

export interface CmnEngSplitOptions {
  /** Hash buckets (of 100) for test and valid: default 5 and 5. */
  testPercent?: number;
  validPercent?: number;
}

export const normalizeEnglish = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
export const normalizeChinese = (s: string): string => s.normalize('NFKC').replace(/\s+/gu, '');

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Splits pairs by the rule in this file's header. */
export function splitCmnEng(pairs: readonly CmnEngPair[], o: CmnEngSplitOptions = {}): CmnEngSplits {
  o = checkOptions('splitCmnEng', o, { testPercent: 1, validPercent: 1 });
  const { testPercent = 5, validPercent = 5 } = o;
  const seen = new Set<string>();
  const seenExact = new Set<string>();
  const unique: CmnEngPair[] = [];
  let exactDuplicates = 0;
  for (const p of pairs) {
    const exact = `${p.en}\t${p.zh}`;
    if (seenExact.has(exact)) exactDuplicates++;
    seenExact.add(exact);
    const key = `${normalizeEnglish(p.en)}\t${normalizeChinese(p.zh)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  // Union-find over sentences: node i is pair i; pairs meet through a shared English or Chinese key.
  const parent = unique.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) { parent[i] = parent[parent[i]!]!; i = parent[i]!; }
    return i;
  };
  const firstWith = new Map<string, number>();
  unique.forEach((p, i) => {
    for (const key of [`en:${normalizeEnglish(p.en)}`, `zh:${normalizeChinese(p.zh)}`]) {
      const j = firstWith.get(key);
      if (j === undefined) firstWith.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const smallestEnglish = new Map<number, string>();
  unique.forEach((p, i) => {
    const root = find(i);
    const en = normalizeEnglish(p.en);
    const cur = smallestEnglish.get(root);
    if (cur === undefined || en < cur) smallestEnglish.set(root, en);
  });
  const out: CmnEngSplits = { train: [], valid: [], test: [], lines: pairs.length, duplicates: pairs.length - unique.length, exactDuplicates, groups: smallestEnglish.size };
  unique.forEach((p, i) => {
    const bucket = fnv1a32(smallestEnglish.get(find(i))!) % 100;
    (bucket < testPercent ? out.test : bucket < testPercent + validPercent ? out.valid : out.train).push(p);
  });
  return out;
}

/** Reads cmn.txt (en \t zh \t attribution) and splits it. */
export function readCmnEng(file: string, o: CmnEngSplitOptions = {}): CmnEngSplits {
  o = checkOptions('readCmnEng', o, { testPercent: 1, validPercent: 1 });
  const corpus = readParallelTsv(file, { sourceColumn: 0, targetColumn: 1 });
  return splitCmnEng(corpus.pairs.map((p) => ({ en: p.source, zh: p.target, line: p.line })), o);
}
