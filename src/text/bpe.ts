/**
 * Byte-pair encoding (Sennrich et al. 2016) over characters, with an end-of-word suffix (`</w>`)
 * on the last symbol of each word, the subword-nmt convention. Words come from the same
 * normalization and pre-tokenization as the word tokenizer (BertNormalizer + BertPreTokenizer), so
 * CJK ideographs are single-character words.
 *
 * The tokenizer.json it writes is what Hugging Face's `tokenizers` writes for that pipeline (model
 * BPE with `end_of_word_suffix`, a BPEDecoder, specials as added tokens), and
 * `@huggingface/tokenizers` tokenizes with it exactly as we do (tests/text/bpe.test.ts).
 */
import { VocabTokenizer, wordPieces } from './tokenizer.js';
import { BOS, EOS, PAD, SPECIAL_TOKENS, TokenizerError, UNK, Vocab } from './vocab.js';
import { checkOptions } from '../tensor/options.js';

export interface BpeOptions {
  lowercase?: boolean;
  /** Each CJK ideograph is a word of its own (default true). */
  splitCjk?: boolean;
  /** Marks the last symbol of a word (default `</w>`); decoding turns it back into a space. */
  endOfWordSuffix?: string;
}

/** Key of a merge pair in the rank table (symbols never contain U+0001). */
export const pairKey = (a: string, b: string): string => `${a}\u0001${b}`;

export class BpeTokenizer extends VocabTokenizer {
  readonly kind = 'bpe';
  readonly lowercase: boolean;
  readonly splitCjk: boolean;
  readonly endOfWordSuffix: string;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  constructor(vocab: Vocab, readonly merges: ReadonlyArray<readonly [string, string]>, options: BpeOptions = {}) {
    const { lowercase = false, splitCjk = true, endOfWordSuffix = '</w>' } = checkOptions('BpeTokenizer', options, { lowercase: 1, splitCjk: 1, endOfWordSuffix: 1 });
    super(vocab);
    this.lowercase = lowercase;
    this.splitCjk = splitCjk;
    this.endOfWordSuffix = endOfWordSuffix;
    merges.forEach(([a, b], rank) => {
      const key = pairKey(a, b);
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of wordPieces(text, this.vocab.specials, this)) {
      if (piece.special) out.push(piece.text);
      else for (const sym of this.bpeWord(piece.text)) out.push(this.vocab.has(sym) ? sym : UNK);
    }
    return out;
  }

  /**
   * Applies merges to one word: repeatedly merge the adjacent pair with the lowest rank (the
   * leftmost one on ties), exactly the order of HF's `Word::merge_all` and tokenizers.js's queue.
   */
  bpeWord(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const syms = Array.from(word);
    if (syms.length === 0) return [];
    syms[syms.length - 1] += this.endOfWordSuffix;
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(pairKey(syms[i]!, syms[i + 1]!));
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      syms.splice(best, 2, syms[best]! + syms[best + 1]!);
    }
    if (this.cache.size < 100_000) this.cache.set(word, syms);
    return syms;
  }

  protected detokenize(tokens: string[]): string {
    return tokens.join('').replaceAll(this.endOfWordSuffix, ' ').trim();
  }

  config(): Record<string, unknown> {
    return { lowercase: this.lowercase, splitCjk: this.splitCjk, endOfWordSuffix: this.endOfWordSuffix };
  }

  /** tokenizer.json (HF `tokenizers` layout and key order) plus a tokenizer_config.json for transformers. */
  files(): Record<string, string> {
    const tokenizerConfig = {
      tokenizer_class: 'PreTrainedTokenizerFast', pad_token: PAD, unk_token: UNK, bos_token: BOS, eos_token: EOS,
      additional_special_tokens: this.vocab.specials.slice(SPECIAL_TOKENS.length), clean_up_tokenization_spaces: false,
    };
    return {
      'tokenizer.json': JSON.stringify(this.toHfJson(), null, 2) + '\n',
      'tokenizer_config.json': JSON.stringify(tokenizerConfig, null, 2) + '\n',
    };
  }

  toHfJson(): HfTokenizerJson {
    const vocab: Record<string, number> = {};
    this.vocab.tokens.forEach((t, i) => { vocab[t] = i; });
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.vocab.specials.map((content) => ({
        id: this.vocab.id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
      })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: this.splitCjk, strip_accents: false, lowercase: this.lowercase },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: null,
      decoder: { type: 'BPEDecoder', suffix: this.endOfWordSuffix },
      model: {
        type: 'BPE', dropout: null, unk_token: UNK, continuing_subword_prefix: null, end_of_word_suffix: this.endOfWordSuffix,
        fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: this.merges.map(([a, b]) => [a, b]),
      },
    };
  }

  /** Reads a tokenizer.json of the shape `toHfJson` writes; anything else is refused with the key named. */
  static fromHfJson(json: unknown, file: string): BpeTokenizer {
    const j = json as Partial<HfTokenizerJson>;
    const fail = (what: string): never => { throw new TokenizerError(`${file}: ${what}`); };
    const model = j.model ?? fail('no "model" section');
    if (model.type !== 'BPE') fail(`model.type is '${String(model.type)}', expected 'BPE'`);
    const norm = j.normalizer;
    if (!norm || norm.type !== 'BertNormalizer' || norm.strip_accents === true) fail('normalizer must be BertNormalizer with strip_accents false');
    if (j.pre_tokenizer?.type !== 'BertPreTokenizer') fail('pre_tokenizer must be BertPreTokenizer');
    if (model.continuing_subword_prefix) fail('continuing_subword_prefix is not supported');
    const entries = Object.entries(model.vocab ?? fail('model.vocab missing'));
    const tokens: string[] = new Array(entries.length);
    for (const [t, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || tokens[id] !== undefined) fail(`model.vocab: bad or repeated id ${id} for '${t}'`);
      tokens[id] = t;
    }
    const merges = (model.merges ?? fail('model.merges missing')).map((m, i): [string, string] => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (pair.length !== 2) fail(`model.merges[${i}] is not a pair`);
      return [pair[0]!, pair[1]!];
    });
    const specials = (j.added_tokens ?? []).filter((t) => t.special).map((t) => t.content);
    let vocab: Vocab;
    try {
      vocab = new Vocab(tokens, specials.length ? specials : SPECIAL_TOKENS);
    } catch (e) {
      throw new TokenizerError(`${file}: ${(e as Error).message}`);
    }
    return new BpeTokenizer(vocab, merges, { lowercase: norm!.lowercase, splitCjk: norm!.handle_chinese_chars, endOfWordSuffix: model.end_of_word_suffix ?? '' });
  }

  /** Parses the text of a tokenizer.json (see fromHfJson); `file` names it in errors. */
  static fromJsonText(text: string, file: string): BpeTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TokenizerError(`${file}: cannot read JSON: ${(e as Error).message}`);
    }
    return BpeTokenizer.fromHfJson(json, file);
  }
}

/** The parts of a Hugging Face tokenizer.json we write and read. */
export interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: Array<{ id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }>;
  normalizer: { type: string; clean_text: boolean; handle_chinese_chars: boolean; strip_accents: boolean | null; lowercase: boolean };
  pre_tokenizer: { type: string };
  post_processor: null;
  decoder: { type: string; suffix: string };
  model: {
    type: string; dropout: number | null; unk_token: string; continuing_subword_prefix: string | null; end_of_word_suffix: string | null;
    fuse_unk: boolean; byte_fallback: boolean; ignore_merges: boolean; vocab: Record<string, number>; merges: Array<string[] | string>;
  };
}
