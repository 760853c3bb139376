/**
 * The tokenizer interface every zhuyi sequence model uses, and the two simplest tokenizers:
 * character level (every code point a token, spaces included, so decode(encode(s)) == s) and word
 * level (HF BertNormalizer + BertPreTokenizer rules: whitespace and punctuation split, CJK per
 * character). BPE lives in bpe.ts.
 */
import { normalizeText, preTokenize, splitSpecials } from './normalize.js';
import { type BuildVocabOptions, SPECIAL_TOKENS, Vocab } from './vocab.js';
import { checkOptions } from '../tensor/options.js';

export interface EncodeOptions {
  /** Prepend `<bos>`. */
  addBos?: boolean;
  /** Append `<eos>`. */
  addEos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (`<pad>`, `<bos>`, `<eos>`, extras; `<unk>` is kept). Default true. */
  skipSpecialTokens?: boolean;
}

/** What a model folder needs from a tokenizer: text <-> ids, the vocabulary, and the files that restore it. */
export interface Tokenizer {
  /** `char`, `word`, `bpe`, or a kind registered with `registerTokenizerKind`. */
  readonly kind: string;
  readonly vocab: Vocab;
  /** Tokens (strings) of `text`, specials included as themselves. */
  tokenize(text: string): string[];
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
  /** The texts of the files this tokenizer is restored from, by file name (zhuyi-tokenizer.json comes from `config`); see saveTokenizer. */
  files(): Record<string, string>;
  /** The options to restore it: written to zhuyi-tokenizer.json. */
  config(): Record<string, unknown>;
}

/** Shared encode/decode on top of `tokenize` and a vocabulary. */
export abstract class VocabTokenizer implements Tokenizer {
  abstract readonly kind: string;
  constructor(readonly vocab: Vocab) {}
  abstract tokenize(text: string): string[];
  abstract files(): Record<string, string>;
  abstract config(): Record<string, unknown>;
  /** Joins the tokens of one run of non-special ids back into text. */
  protected abstract detokenize(tokens: string[]): string;

  encode(text: string, options: EncodeOptions = {}): number[] {
    const { addBos = false, addEos = false } = checkOptions(`${this.constructor.name}.encode`, options, { addBos: 1, addEos: 1 });
    const ids = this.tokenize(text).map((t) => this.vocab.id(t));
    if (addBos) ids.unshift(this.vocab.bosId);
    if (addEos) ids.push(this.vocab.eosId);
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const { skipSpecialTokens = true } = checkOptions(`${this.constructor.name}.decode`, options, { skipSpecialTokens: 1 });
    const parts: string[] = [];
    let run: string[] = [];
    const flush = () => {
      if (run.length) parts.push(this.detokenize(run));
      run = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (this.vocab.isSpecialId(id) && id !== this.vocab.unkId) {
        flush();
        if (!skipSpecialTokens) parts.push(this.vocab.token(id));
      } else {
        run.push(this.vocab.token(id));
      }
    }
    flush();
    return this.joinParts(parts);
  }

  /** How decoded runs and special tokens are glued together. */
  protected joinParts(parts: string[]): string {
    return parts.join(' ');
  }
}

export interface CharTokenizerOptions {
  lowercase?: boolean;
  /** Trim and collapse whitespace runs to one space before splitting (default true). */
  normalizeWhitespace?: boolean;
}

/** One token per Unicode code point. Lossless apart from the options' normalization. */
export class CharTokenizer extends VocabTokenizer {
  readonly kind = 'char';
  readonly lowercase: boolean;
  readonly normalizeWhitespace: boolean;

  constructor(vocab: Vocab, options: CharTokenizerOptions = {}) {
    const { lowercase = false, normalizeWhitespace = true } = checkOptions('CharTokenizer', options, { lowercase: 1, normalizeWhitespace: 1 });
    super(vocab);
    this.lowercase = lowercase;
    this.normalizeWhitespace = normalizeWhitespace;
  }

  static train(texts: Iterable<string>, opts: CharTokenizerOptions & BuildVocabOptions = {}): CharTokenizer {
    opts = checkOptions('CharTokenizer.train', opts, { lowercase: 1, normalizeWhitespace: 1, minFrequency: 1, maxSize: 1, extraSpecials: 1 });
    const specials = [...SPECIAL_TOKENS, ...(opts.extraSpecials ?? [])];
    const counts = new Map<string, number>();
    for (const text of texts) for (const t of charPieces(text, specials, opts)) if (!t.special) counts.set(t.text, (counts.get(t.text) ?? 0) + 1);
    const { minFrequency, maxSize, extraSpecials, ...tokenizerOptions } = opts;
    return new CharTokenizer(Vocab.fromCounts(counts, { minFrequency, maxSize, extraSpecials }), tokenizerOptions);
  }

  tokenize(text: string): string[] {
    return charPieces(text, this.vocab.specials, this).map((p) => p.text);
  }

  protected detokenize(tokens: string[]): string {
    return tokens.join('');
  }

  protected override joinParts(parts: string[]): string {
    return parts.join('');
  }

  files(): Record<string, string> {
    return { 'vocab.txt': this.vocab.serialize() };
  }

  config(): Record<string, unknown> {
    return { lowercase: this.lowercase, normalizeWhitespace: this.normalizeWhitespace };
  }
}

export interface WordTokenizerOptions {
  lowercase?: boolean;
  /** Split on whitespace only, for text that is already tokenized (Moses, spaCy): no punctuation split. */
  whitespace?: boolean;
  /** Each CJK ideograph is a word of its own (default true). */
  splitCjk?: boolean;
}

/**
 * Words split on whitespace and punctuation, each punctuation mark a token; CJK per character.
 * Decoding joins tokens with spaces (the spacing around punctuation is not restored).
 */
export class WordTokenizer extends VocabTokenizer {
  readonly kind = 'word';
  readonly lowercase: boolean;
  readonly splitCjk: boolean;
  readonly whitespace: boolean;

  constructor(vocab: Vocab, options: WordTokenizerOptions = {}) {
    const { lowercase = false, splitCjk = true, whitespace = false } = checkOptions('WordTokenizer', options, { lowercase: 1, whitespace: 1, splitCjk: 1 });
    super(vocab);
    this.lowercase = lowercase;
    this.splitCjk = splitCjk;
    this.whitespace = whitespace;
  }

  static train(texts: Iterable<string>, opts: WordTokenizerOptions & BuildVocabOptions = {}): WordTokenizer {
    opts = checkOptions('WordTokenizer.train', opts, { lowercase: 1, whitespace: 1, splitCjk: 1, minFrequency: 1, maxSize: 1, extraSpecials: 1 });
    const counts = new Map<string, number>();
    const specials = [...SPECIAL_TOKENS, ...(opts.extraSpecials ?? [])];
    for (const text of texts) for (const t of wordPieces(text, specials, opts)) if (!t.special) counts.set(t.text, (counts.get(t.text) ?? 0) + 1);
    const { minFrequency, maxSize, extraSpecials, ...tokenizerOptions } = opts;
    return new WordTokenizer(Vocab.fromCounts(counts, { minFrequency, maxSize, extraSpecials }), tokenizerOptions);
  }

  tokenize(text: string): string[] {
    return wordPieces(text, this.vocab.specials, this).map((p) => p.text);
  }

  protected detokenize(tokens: string[]): string {
    return tokens.join(' ');
  }

  files(): Record<string, string> {
    return { 'vocab.txt': this.vocab.serialize() };
  }

  config(): Record<string, unknown> {
    return { lowercase: this.lowercase, splitCjk: this.splitCjk, whitespace: this.whitespace };
  }
}

function charPieces(text: string, specials: readonly string[], { lowercase = false, normalizeWhitespace = true }: CharTokenizerOptions): Array<{ text: string; special: boolean }> {
  const t = normalizeWhitespace ? text.trim().replace(/\s+/gu, ' ') : text;
  const out: Array<{ text: string; special: boolean }> = [];
  for (const piece of splitSpecials(t, specials)) {
    if (piece.special) out.push(piece);
    else for (const ch of lowercase ? piece.text.toLowerCase() : piece.text) out.push({ text: ch, special: false });
  }
  return out;
}

/** Specials cut out first, then each plain piece normalized and pre-tokenized. */
export function wordPieces(text: string, specials: readonly string[], opts: WordTokenizerOptions): Array<{ text: string; special: boolean }> {
  const out: Array<{ text: string; special: boolean }> = [];
  for (const piece of splitSpecials(text, specials)) {
    if (piece.special) out.push(piece);
    else if (opts.whitespace) for (const w of normalizeText(piece.text, { lowercase: opts.lowercase, splitCjk: opts.splitCjk }).split(/\s+/u)) { if (w) out.push({ text: w, special: false }); }
    else for (const w of preTokenize(normalizeText(piece.text, { lowercase: opts.lowercase, splitCjk: opts.splitCjk }))) out.push({ text: w, special: false });
  }
  return out;
}


