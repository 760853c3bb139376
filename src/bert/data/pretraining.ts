/**
 * BERT pretraining data, as Google's create_pretraining_data.py builds it:
 *
 *   corpus      one sentence per line, a blank line between documents (UTF-8, gzip accepted)
 *   instances   [CLS] A [SEP] B [SEP]: A is one or more consecutive sentences of a document, B the
 *               sentences that follow it (is-next, label 0) or, half of the time, a run of sentences
 *               from another document (random-next, label 1); the pair is truncated to maxSeqLength
 *               by trimming the longer side at a random end. 10% of instances aim at a shorter length.
 *   masking     15% of the real tokens (never [CLS], [SEP], [PAD] or [MASK]) become prediction
 *               targets; of those 80% are replaced by [MASK], 10% by a random token, 10% kept.
 *               With whole-word masking a word's "##" continuation pieces are masked with it.
 *               Labels are the original ids at the targets and -100 elsewhere.
 *
 * Every random choice comes from a seeded zhuyi Generator. Instances are built once from the seed;
 * the masks of instance i in epoch e come from a generator seeded by (seed, e, i), so the masks do
 * not depend on batch order and a resumed run sees exactly the masks an uninterrupted run would
 * (dynamic masking, as RoBERTa; `dynamicMasking: false` keeps epoch 0's masks, as Google's static data).
 */
import { DataFormatError, readBytes, splitLines } from '../../data/read.js';
import { ArgumentError } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';
import type { BertTokenizer } from '../../text/bert/tokenizer.js';
import { checkOptions } from '../../tensor/options.js';

/** The -100 label: no loss at this position (HF's ignore index). */
export const IGNORE_INDEX = -100;

export interface CorpusSentence {
  text: string;
  /** 1-based line in the corpus file. */
  line: number;
}

export interface PretrainingCorpus {
  file: string;
  /** Documents in file order, each a list of non-empty sentences. */
  documents: CorpusSentence[][];
  sentences: number;
}

/**
 * Reads a pretraining corpus: one sentence per line, blank (or whitespace-only) lines between
 * documents. Invalid UTF-8 is an error naming the file, line and byte; so is a corpus without text.
 */
export function readPretrainingCorpus(file: string): PretrainingCorpus {
  const lines = splitLines(readBytes(file));
  const documents: CorpusSentence[][] = [];
  let current: CorpusSentence[] = [];
  let sentences = 0;
  lines.forEach((l, i) => {
    if (!l.ok) throw new DataFormatError(file, i + 1, l.byteColumn, `invalid UTF-8 at byte ${l.byteColumn}`);
    const text = l.text.trim();
    if (text === '') {
      if (current.length) documents.push(current);
      current = [];
      return;
    }
    current.push({ text, line: i + 1 });
    sentences++;
  });
  if (current.length) documents.push(current);
  if (sentences === 0) throw new DataFormatError(file, 0, 0, `empty corpus: no sentences (${lines.length} blank lines); expected one sentence per line, blank lines between documents`);
  return { file, documents, sentences };
}

/** A document as token ids: one array per sentence (sentences without tokens are left out). */
export type TokenizedDocument = number[][];

/** WordPiece ids of every sentence (no special tokens); empty documents are dropped. */
export function tokenizeDocuments(documents: readonly (readonly CorpusSentence[])[] | readonly (readonly string[])[], tokenizer: BertTokenizer): TokenizedDocument[] {
  const out: TokenizedDocument[] = [];
  for (const doc of documents) {
    const sentences: number[][] = [];
    for (const s of doc) {
      const ids = tokenizer.convertTokensToIds(tokenizer.tokenize(typeof s === 'string' ? s : s.text));
      if (ids.length) sentences.push(ids);
    }
    if (sentences.length) out.push(sentences);
  }
  return out;
}

/** One next-sentence-prediction pair, before [CLS]/[SEP] and masking. */
export interface NspInstance {
  tokensA: number[];
  tokensB: number[];
  /** B is a random run from another document (label 1), not A's continuation (label 0). */
  isRandomNext: boolean;
  /**
   * Random-next without a coin flip: A's chunk held a single sentence, so no real next segment
   * existed (Google does the same; such chunks push the random-next share above randomNextProb).
   */
  forced: boolean;
  /** Where A and B came from: document index and [start, end) sentence range, before truncation. */
  docA: number;
  sentencesA: [number, number];
  docB: number;
  sentencesB: [number, number];
}

export interface NspOptions {
  /** Length limit including [CLS] and the two [SEP] (default 128). */
  maxSeqLength?: number;
  /** Share of instances that aim at a random shorter length (default 0.1, Google's short_seq_prob). */
  shortSeqProb?: number;
  /** Chance of a random next segment when A has room for a real one (default 0.5). */
  randomNextProb?: number;
}

/**
 * Google's create_instances_from_document over the given documents (default all), in order;
 * random-next segments may come from any document in `documents`.
 */
export function createNspInstances(documents: readonly TokenizedDocument[], generator: Generator, options: NspOptions = {}, from?: readonly number[]): NspInstance[] {
  options = checkOptions('createNspInstances', options, { maxSeqLength: 1, shortSeqProb: 1, randomNextProb: 1 });
  const maxSeqLength = options.maxSeqLength ?? 128;
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 5) throw new ArgumentError(`createNspInstances: maxSeqLength must be an integer >= 5, got ${maxSeqLength}`);
  if (documents.length === 0) throw new ArgumentError('createNspInstances: no documents with tokens');
  const out: NspInstance[] = [];
  for (const d of from ?? documents.map((_, i) => i)) instancesFromDocument(documents, d, maxSeqLength, options.shortSeqProb ?? 0.1, options.randomNextProb ?? 0.5, generator, out);
  return out;
}

function instancesFromDocument(all: readonly TokenizedDocument[], d: number, maxSeqLength: number, shortSeqProb: number, randomNextProb: number, rng: Generator, out: NspInstance[]): void {
  const document = all[d]!;
  const maxNumTokens = maxSeqLength - 3; // [CLS], [SEP], [SEP]
  // Mostly fill the sequence; sometimes aim shorter so the model also sees short inputs.
  let targetSeqLength = maxNumTokens;
  if (rng.random() < shortSeqProb) targetSeqLength = rng.randint(2, maxNumTokens + 1);
  let chunkStart = 0;
  let chunk: number[][] = [];
  let length = 0;
  let i = 0;
  while (i < document.length) {
    chunk.push(document[i]!);
    length += document[i]!.length;
    if (i === document.length - 1 || length >= targetSeqLength) {
      // How many of the chunk's sentences go to A.
      const aEnd = chunk.length >= 2 ? rng.randint(1, chunk.length) : 1;
      const tokensA = chunk.slice(0, aEnd).flat();
      let tokensB: number[] = [];
      let isRandomNext = false;
      const forced = chunk.length === 1;
      let docB = d;
      let sentencesB: [number, number];
      if (forced || rng.random() < randomNextProb) {
        isRandomNext = true;
        const targetB = targetSeqLength - tokensA.length;
        // Another document (with a single document there is no other: Google's fallback keeps it).
        for (let t = 0; t < 10; t++) {
          docB = rng.randint(0, all.length);
          if (docB !== d) break;
        }
        const randomDoc = all[docB]!;
        const start = rng.randint(0, randomDoc.length);
        let j = start;
        for (; j < randomDoc.length; j++) {
          tokensB.push(...randomDoc[j]!);
          if (tokensB.length >= targetB) { j++; break; }
        }
        sentencesB = [start, j];
        // The unused sentences of the chunk are not wasted: the next chunk starts with them.
        i -= chunk.length - aEnd;
      } else {
        tokensB = chunk.slice(aEnd).flat();
        sentencesB = [chunkStart + aEnd, chunkStart + chunk.length];
      }
      const sentencesA: [number, number] = [chunkStart, chunkStart + aEnd];
      truncateSeqPair(tokensA, tokensB, maxNumTokens, rng);
      out.push({ tokensA, tokensB, isRandomNext, forced, docA: d, sentencesA, docB, sentencesB });
      chunk = [];
      length = 0;
      chunkStart = i + 1;
    }
    i++;
  }
}

/** Trims the longer side, one token at a time from a random end, until the pair fits. */
function truncateSeqPair(a: number[], b: number[], maxNumTokens: number, rng: Generator): void {
  while (a.length + b.length > maxNumTokens) {
    const longer = a.length > b.length ? a : b;
    if (rng.random() < 0.5) longer.shift();
    else longer.pop();
  }
}

export interface MaskingOptions {
  /** Share of real tokens that become prediction targets (default 0.15). */
  maskProb?: number;
  /** Of the targets: share replaced by [MASK] (default 0.8) and by a random token (default 0.1); the rest are kept. */
  maskReplaceProb?: number;
  randomReplaceProb?: number;
  /** Mask a word's "##" pieces with it (default false). */
  wholeWordMask?: boolean;
  /** At most this many targets per sequence (default: no limit beyond maskProb). */
  maxPredictions?: number;
}

/** A masked sequence: model inputs and MLM labels (original id at targets, -100 elsewhere). */
export interface MaskedSequence {
  inputIds: Int32Array;
  labels: Int32Array;
}

/** MLM masking with a tokenizer's special and continuation tokens. */
export class MlmMasker {
  readonly maskProb: number;
  readonly maskReplaceProb: number;
  readonly randomReplaceProb: number;
  readonly wholeWordMask: boolean;
  readonly maxPredictions: number;
  readonly maskId: number;
  /** Never targets: [CLS], [SEP], [PAD], [MASK]. */
  readonly specialIds: ReadonlySet<number>;
  /** Ids drawn for the random replacement (every non-special token). */
  readonly randomIds: Int32Array;
  private readonly continuation: Uint8Array;

  constructor(tokenizer: BertTokenizer, options: MaskingOptions = {}) {
    options = checkOptions('MlmMasker', options, { maskProb: 1, maskReplaceProb: 1, randomReplaceProb: 1, wholeWordMask: 1, maxPredictions: 1 });
    this.maskProb = options.maskProb ?? 0.15;
    this.maskReplaceProb = options.maskReplaceProb ?? 0.8;
    this.randomReplaceProb = options.randomReplaceProb ?? 0.1;
    this.wholeWordMask = options.wholeWordMask ?? false;
    this.maxPredictions = options.maxPredictions ?? Infinity;
    if (!(this.maskProb > 0 && this.maskProb < 1)) throw new ArgumentError(`MlmMasker: maskProb must be in (0, 1), got ${this.maskProb}`);
    if (!(this.maskReplaceProb >= 0 && this.randomReplaceProb >= 0 && this.maskReplaceProb + this.randomReplaceProb <= 1)) {
      throw new ArgumentError(`MlmMasker: maskReplaceProb ${this.maskReplaceProb} + randomReplaceProb ${this.randomReplaceProb} must lie in [0, 1]`);
    }
    if (!(this.maxPredictions >= 1)) throw new ArgumentError(`MlmMasker: maxPredictions must be at least 1, got ${this.maxPredictions}`);
    const id = (t: string): number => {
      if (!tokenizer.vocab.includes(t)) throw new ArgumentError(`MlmMasker: the vocabulary has no ${t} token`);
      return tokenizer.convertTokensToIds(t);
    };
    this.maskId = id(tokenizer.maskToken);
    this.specialIds = new Set([id(tokenizer.clsToken), id(tokenizer.sepToken), id(tokenizer.padToken), this.maskId]);
    const allSpecial = new Set(tokenizer.allSpecialIds);
    const prefix = tokenizer.wordpieceTokenizer.continuingSubwordPrefix;
    this.continuation = Uint8Array.from(tokenizer.vocab, (t) => (t.startsWith(prefix) && t.length > prefix.length ? 1 : 0));
    const randomIds: number[] = [];
    tokenizer.vocab.forEach((t, i) => { if (!allSpecial.has(i) && !/^\[unused\d+\]$/.test(t)) randomIds.push(i); });
    if (randomIds.length === 0) throw new ArgumentError('MlmMasker: the vocabulary has no ordinary tokens to draw random replacements from');
    this.randomIds = Int32Array.from(randomIds);
  }

  isContinuation(id: number): boolean {
    return this.continuation[id] === 1;
  }

  /** How many targets a sequence with this many candidate (non-special) tokens gets. */
  targetsFor(candidates: number): number {
    return candidates === 0 ? 0 : Math.min(this.maxPredictions, Math.max(1, Math.round(candidates * this.maskProb)));
  }

  /** The most targets any sequence of `length` tokens (with [CLS] and two [SEP]) can get. */
  maxTargetsFor(length: number): number {
    return this.targetsFor(Math.max(1, length - 3));
  }

  /**
   * Google's create_masked_lm_predictions: shuffle the candidate words, take them until the
   * target count is reached (with whole-word masking a word that would overshoot is skipped),
   * then replace each target by [MASK] (80%), a random token (10%) or itself (10%).
   */
  mask(ids: ArrayLike<number>, rng: Generator): MaskedSequence {
    const inputIds = Int32Array.from(ids);
    const labels = new Int32Array(inputIds.length).fill(IGNORE_INDEX);
    const words: number[][] = [];
    let candidates = 0;
    for (let i = 0; i < inputIds.length; i++) {
      const id = inputIds[i]!;
      if (this.specialIds.has(id)) continue;
      candidates++;
      // A continuation piece joins the word before it, if that word ends right before it.
      const last = words[words.length - 1];
      if (this.wholeWordMask && last && last[last.length - 1] === i - 1 && this.isContinuation(id)) last.push(i);
      else words.push([i]);
    }
    const want = this.targetsFor(candidates);
    const order = rng.permutation(words.length);
    let taken = 0;
    for (const w of order) {
      if (taken >= want) break;
      const word = words[w]!;
      if (taken + word.length > want) continue;
      for (const i of word) {
        labels[i] = inputIds[i]!;
        const r = rng.random();
        if (r < this.maskReplaceProb) inputIds[i] = this.maskId;
        else if (r < this.maskReplaceProb + this.randomReplaceProb) inputIds[i] = this.randomIds[rng.randint(0, this.randomIds.length)]!;
        taken++;
      }
    }
    return { inputIds, labels };
  }
}

/** One pretraining example: model inputs, MLM labels and the NSP label (0 = B follows A, 1 = random). */
export interface PretrainingExample extends MaskedSequence {
  tokenTypeIds: Int32Array;
  nextSentenceLabel: number;
}

/** [CLS] A [SEP] B [SEP] with token types 0 for [CLS] A [SEP] and 1 for B [SEP]. */
export function pairIds(inst: Pick<NspInstance, 'tokensA' | 'tokensB'>, clsId: number, sepId: number): { ids: Int32Array; tokenTypeIds: Int32Array } {
  const n = inst.tokensA.length + inst.tokensB.length + 3;
  const ids = new Int32Array(n);
  const tokenTypeIds = new Int32Array(n);
  ids[0] = clsId;
  ids.set(inst.tokensA, 1);
  ids[inst.tokensA.length + 1] = sepId;
  ids.set(inst.tokensB, inst.tokensA.length + 2);
  ids[n - 1] = sepId;
  tokenTypeIds.fill(1, inst.tokensA.length + 2);
  return { ids, tokenTypeIds };
}

/** A 32-bit seed from (seed, epoch, index): the masks of one instance in one epoch. */
export function maskSeed(seed: number, epoch: number, index: number): number {
  let h = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32) ^ 0x9e3779b9) >>> 0;
  for (const v of [epoch, index]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

export interface PretrainingDatasetOptions extends MaskingOptions {
  /** Seed of the masks (default 0). */
  seed?: number;
  /** New masks every epoch (default true); false: epoch 0's masks always. */
  dynamicMasking?: boolean;
}

/** NSP instances with their masks: example(i, epoch) is a pure function of the seed, i and epoch. */
export class PretrainingDataset {
  readonly masker: MlmMasker;
  readonly seed: number;
  readonly dynamicMasking: boolean;
  private readonly clsId: number;
  private readonly sepId: number;

  constructor(readonly instances: readonly NspInstance[], tokenizer: BertTokenizer, options: PretrainingDatasetOptions = {}) {
    options = checkOptions('PretrainingDataset', options, { seed: 1, dynamicMasking: 1, maskProb: 1, maskReplaceProb: 1, randomReplaceProb: 1, wholeWordMask: 1, maxPredictions: 1 });
    const { seed, dynamicMasking, ...masking } = options;
    this.masker = new MlmMasker(tokenizer, masking);
    this.seed = seed ?? 0;
    this.dynamicMasking = dynamicMasking ?? true;
    this.clsId = tokenizer.convertTokensToIds(tokenizer.clsToken);
    this.sepId = tokenizer.convertTokensToIds(tokenizer.sepToken);
  }

  get length(): number {
    return this.instances.length;
  }

  /** Unmasked length of instance i (with the special tokens). */
  lengthOf(i: number): number {
    const inst = this.instances[i]!;
    return inst.tokensA.length + inst.tokensB.length + 3;
  }

  /** Instance i as the model sees it in `epoch`. */
  example(i: number, epoch = 0): PretrainingExample {
    const inst = this.instances[i];
    if (!inst) throw new ArgumentError(`PretrainingDataset: no instance ${i} (${this.instances.length} instances)`);
    const { ids, tokenTypeIds } = pairIds(inst, this.clsId, this.sepId);
    const masked = this.masker.mask(ids, new Generator(maskSeed(this.seed, this.dynamicMasking ? epoch : 0, i)));
    return { ...masked, tokenTypeIds, nextSentenceLabel: inst.isRandomNext ? 1 : 0 };
  }
}
