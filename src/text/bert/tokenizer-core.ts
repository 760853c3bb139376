/**
 * BertTokenizerCore: Hugging Face's BertTokenizer (BasicTokenizer + WordPiece) with the encoding API of
 * its fast tokenizers (pairs, truncation with stride windows, padding, offsets), loading and saving
 * HF's files. With a tokenizer.json the text runs through @huggingface/tokenizers (engine 'auto');
 * our own implementation (engine 'builtin') reads vocab.txt and is what computes offsets either way.
 *
 * Special tokens (unk/sep/pad/cls/mask and additional_special_tokens) found in input text stay whole on both
 * engines, as in HF's PreTrainedTokenizerFast, which adds every special token missing from tokenizer.json's
 * added_tokens as a special added token (normalized false: matched in the raw text). Here that is done for the
 * special tokens that are in the vocabulary; one that is not (HF would append it with a new id) stays whole on
 * the builtin path ([UNK]'s id) and is split by @huggingface/tokenizers.
 *
 * This module touches no file system (browsers import it): `fromFiles` / `toFiles` take and give file texts;
 * BertTokenizer (tokenizer.ts) adds fromPretrained / savePretrained over a folder.
 */
import { BasicTokenizer } from './basic.js';
import { assemble, padBatch, type BertEncoding, type EncodeOptions, type SpecialTokenIds, type TokenSeq } from './encoding.js';
import { HfTokenizersEngine } from './engine.js';
import { BertTokenizerError } from './errors.js';
import { buildTokenizerJson, optionalBoolean, parseJsonObject, parseTokenizerJson, parseVocabTxt, tokenContent } from './files.js';
import { WordpieceTokenizer } from './wordpiece.js';
import { checkOptions } from '../../tensor/options.js';

export interface BertTokenizerOptions {
  /** Default true (uncased checkpoints). */
  doLowerCase?: boolean;
  /** Run BasicTokenizer before WordPiece. Default true; false = WordPiece on whitespace-split words only. */
  doBasicTokenize?: boolean;
  /**
   * 'bert' (default): BasicTokenizer as doBasicTokenize says. 'whitespace': the builtin runs what a tokenizer.json
   * with no normalizer and a Whitespace pre-tokenizer does: no cleaning, lowercasing or accent stripping, words are
   * the matches of \w+|[^\w\s]+ (Unicode classes, as HF's Rust regex), then WordPiece.
   */
  preTokenizer?: 'bert' | 'whitespace';
  /** Words kept whole (see BasicTokenizer). */
  neverSplit?: readonly string[];
  tokenizeChineseChars?: boolean;
  /** null (default) follows doLowerCase. */
  stripAccents?: boolean | null;
  unkToken?: string;
  sepToken?: string;
  padToken?: string;
  clsToken?: string;
  maskToken?: string;
  additionalSpecialTokens?: readonly string[];
  /** Default length limit for truncation and max_length padding; undefined = unbounded (HF's 1e30). */
  modelMaxLength?: number;
  maxInputCharsPerWord?: number;
  continuingSubwordPrefix?: string;
  /** decode(): glue " ." " ," " 's" etc. back. Default true, as in bert-base-uncased's config. */
  cleanUpTokenizationSpaces?: boolean;
  /** A parsed tokenizer.json whose WordPiece model should run through @huggingface/tokenizers. */
  tokenizerJson?: Record<string, unknown>;
  /** tokenizer_config.json contents handed to the engine with tokenizerJson. */
  tokenizerConfig?: Record<string, unknown>;
}

export interface FromPretrainedOptions {
  /** 'auto' (default): @huggingface/tokenizers when tokenizer.json exists; 'builtin': our implementation only. */
  engine?: 'auto' | 'builtin';
}

export interface FromFilesOptions extends FromPretrainedOptions {
  /** The folder the texts came from, for error messages. */
  source?: string;
}

/** The files of an HF tokenizer folder, by name, as text; vocab.txt or tokenizer.json must be there. */
export interface BertTokenizerFiles {
  'vocab.txt'?: string;
  'tokenizer.json'?: string;
  'tokenizer_config.json'?: string;
  'special_tokens_map.json'?: string;
}

/** The file names of BertTokenizerFiles, in the order HF writes them. */
export const BERT_TOKENIZER_FILES = ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json'] as const satisfies readonly (keyof BertTokenizerFiles)[];

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  cleanUpTokenizationSpaces?: boolean;
}

const SPECIAL_KEYS = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
// Python's str.split() whitespace, used when doBasicTokenize is false.
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
// HF's Whitespace pre-tokenizer, \w+|[^\w\s]+ with the Rust regex crate's Unicode classes: \w is Alphabetic, marks,
// decimal digits, connector punctuation and join controls; \s is White_Space. (@huggingface/tokenizers 0.2 uses
// JS's ASCII \w, so the two engines agree on ASCII text only; offsets on other text then report the disagreement.)
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const HF_WHITESPACE = new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, 'u');

/**
 * tokenizer.json with every special token that is in the vocabulary but missing from added_tokens appended as a
 * special added token, as PreTrainedTokenizerFast.__init__ does (AddedToken(t, special=True): normalized false,
 * no lstrip/rstrip, not single-word). The same object when nothing is missing.
 */
export function withSpecialAddedTokens(json: Record<string, unknown>, specials: readonly string[], ids: ReadonlyMap<string, number>): Record<string, unknown> {
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Array<Record<string, unknown>>) : [];
  const have = new Set(added.map((t) => t.content));
  const extra: Array<Record<string, unknown>> = [];
  for (const t of specials) {
    const id = ids.get(t);
    if (id === undefined || have.has(t)) continue;
    have.add(t);
    extra.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  // Sorted by id, as the tokenizers library serializes them.
  return extra.length ? { ...json, added_tokens: [...added, ...extra].sort((a, b) => Number(a.id) - Number(b.id)) } : json;
}

export class BertTokenizerCore {
  /** id -> token (line order of vocab.txt). */
  readonly vocab: readonly string[];
  readonly basicTokenizer: BasicTokenizer | null;
  readonly wordpieceTokenizer: WordpieceTokenizer;
  readonly unkToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly clsToken: string;
  readonly maskToken: string;
  readonly additionalSpecialTokens: readonly string[];
  readonly modelMaxLength: number | undefined;
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean | null;
  readonly tokenizeChineseChars: boolean;
  readonly cleanUpTokenizationSpaces: boolean;
  /** How the builtin splits text into words before WordPiece (see BertTokenizerOptions.preTokenizer). */
  readonly preTokenizer: 'bert' | 'whitespace';
  /** Which implementation turns text into tokens. */
  readonly engine: 'builtin' | '@huggingface/tokenizers';
  private readonly tokenToId = new Map<string, number>();
  private readonly hf: HfTokenizersEngine | null;
  private readonly tokenizerJson: Record<string, unknown> | undefined;
  // Special tokens found verbatim in input text stay whole (HF's no-split trie); longest first.
  private readonly noSplit: string[];

  constructor(vocab: readonly string[], options: BertTokenizerOptions = {}) {
    options = checkOptions(new.target.name, options, { doLowerCase: 1, doBasicTokenize: 1, preTokenizer: 1, neverSplit: 1, tokenizeChineseChars: 1, stripAccents: 1, unkToken: 1, sepToken: 1, padToken: 1, clsToken: 1, maskToken: 1, additionalSpecialTokens: 1, modelMaxLength: 1, maxInputCharsPerWord: 1, continuingSubwordPrefix: 1, cleanUpTokenizationSpaces: 1, tokenizerJson: 1, tokenizerConfig: 1 });
    if (vocab.length === 0) throw new BertTokenizerError('BertTokenizer: empty vocabulary');
    this.vocab = [...vocab];
    // HF's load_vocab: a token listed twice maps to its last line.
    this.vocab.forEach((t, i) => this.tokenToId.set(t, i));
    this.doLowerCase = options.doLowerCase ?? true;
    this.stripAccents = options.stripAccents ?? null;
    this.tokenizeChineseChars = options.tokenizeChineseChars ?? true;
    this.unkToken = options.unkToken ?? '[UNK]';
    this.sepToken = options.sepToken ?? '[SEP]';
    this.padToken = options.padToken ?? '[PAD]';
    this.clsToken = options.clsToken ?? '[CLS]';
    this.maskToken = options.maskToken ?? '[MASK]';
    this.additionalSpecialTokens = [...(options.additionalSpecialTokens ?? [])];
    this.modelMaxLength = options.modelMaxLength;
    this.cleanUpTokenizationSpaces = options.cleanUpTokenizationSpaces ?? true;
    for (const t of [this.unkToken, this.sepToken, this.padToken, this.clsToken]) {
      if (!this.tokenToId.has(t)) throw new BertTokenizerError(`BertTokenizer: special token ${JSON.stringify(t)} is not in the vocabulary (${vocab.length} tokens)`);
    }
    this.preTokenizer = options.preTokenizer ?? 'bert';
    if (this.preTokenizer !== 'bert' && this.preTokenizer !== 'whitespace') throw new BertTokenizerError(`BertTokenizer: preTokenizer must be 'bert' or 'whitespace', got ${JSON.stringify(this.preTokenizer)}`);
    this.basicTokenizer = options.doBasicTokenize === false || this.preTokenizer === 'whitespace' ? null : new BasicTokenizer({
      doLowerCase: this.doLowerCase,
      neverSplit: options.neverSplit ?? [],
      tokenizeChineseChars: this.tokenizeChineseChars,
      stripAccents: this.stripAccents,
    });
    this.wordpieceTokenizer = new WordpieceTokenizer(this.tokenToId, this.unkToken, options.maxInputCharsPerWord ?? 100, options.continuingSubwordPrefix ?? '##');
    this.noSplit = [...new Set(this.allSpecialTokens)].sort((x, y) => y.length - x.length);
    this.tokenizerJson = options.tokenizerJson ? withSpecialAddedTokens(options.tokenizerJson, this.allSpecialTokens, this.tokenToId) : undefined;
    this.hf = this.tokenizerJson ? new HfTokenizersEngine(this.tokenizerJson, options.tokenizerConfig ?? {}, 'tokenizer.json') : null;
    this.engine = this.hf ? '@huggingface/tokenizers' : 'builtin';
  }

  /**
   * Builds a tokenizer from the contents of a Hugging Face tokenizer folder's files: tokenizer.json and/or
   * vocab.txt, with tokenizer_config.json and special_tokens_map.json when present (config keys win over
   * defaults, the special-tokens map over the config). `source` (the folder) names the files in errors.
   */
  static fromFiles<T extends BertTokenizerCore>(this: new (vocab: readonly string[], options?: BertTokenizerOptions) => T, files: BertTokenizerFiles, fromFilesOptions: FromFilesOptions = {}): T {
    const { engine = 'auto', source = '' } = checkOptions(`${this.name}.fromFiles`, fromFilesOptions, { source: 1, engine: 1 });
    const path = (name: string): string => (source ? `${source.replace(/\/+$/, '')}/${name}` : name);
    const vocabFile = path('vocab.txt');
    const jsonFile = path('tokenizer.json');
    const configFile = path('tokenizer_config.json');
    const mapFile = path('special_tokens_map.json');
    const hasJson = files['tokenizer.json'] !== undefined;
    if (!hasJson && files['vocab.txt'] === undefined) throw new BertTokenizerError(`${source || 'tokenizer files'}: neither vocab.txt nor tokenizer.json found`);
    const parsed = (name: keyof BertTokenizerFiles, file: string): Record<string, unknown> | null => {
      const text = files[name];
      return text === undefined ? null : parseJsonObject(text, file);
    };
    const config = parsed('tokenizer_config.json', configFile) ?? {};
    const map = parsed('special_tokens_map.json', mapFile) ?? {};
    const opts: BertTokenizerOptions = {};
    let vocab: string[];
    if (hasJson) {
      const json = parsed('tokenizer.json', jsonFile)!;
      const info = parseTokenizerJson(json, jsonFile);
      vocab = info.vocab;
      Object.assign(opts, {
        unkToken: info.unkToken,
        continuingSubwordPrefix: info.continuingSubwordPrefix,
        maxInputCharsPerWord: info.maxInputCharsPerWord,
      });
      if (info.lowercase !== undefined) opts.doLowerCase = info.lowercase;
      if (info.stripAccents !== undefined) opts.stripAccents = info.stripAccents;
      if (info.handleChineseChars !== undefined) opts.tokenizeChineseChars = info.handleChineseChars;
      const pre = json.pre_tokenizer as { type?: unknown } | null | undefined;
      if ((json.normalizer === null || json.normalizer === undefined) && pre && (pre.type === 'Whitespace' || pre.type === 'WhitespaceSplit')) {
        // No normalizer: nothing is lowercased, and words are split as the pre-tokenizer says (WhitespaceSplit is
        // what doBasicTokenize false does; do_lower_case in tokenizer_config.json does not apply to the fast tokenizer).
        Object.assign(opts, { doLowerCase: false, stripAccents: false, tokenizeChineseChars: false });
        if (pre.type === 'Whitespace') opts.preTokenizer = 'whitespace';
        else opts.doBasicTokenize = false;
      }
      if (engine === 'auto') {
        opts.tokenizerJson = json;
        opts.tokenizerConfig = config;
      }
    } else {
      vocab = parseVocabTxt(files['vocab.txt']!, vocabFile);
    }
    // tokenizer_config.json describes the slow tokenizer; when a tokenizer.json exists its normalizer is what HF runs.
    if (!hasJson) {
      const lower = optionalBoolean(config, 'do_lower_case', configFile);
      if (lower !== undefined) opts.doLowerCase = lower;
      const strip = optionalBoolean(config, 'strip_accents', configFile);
      if (strip !== undefined) opts.stripAccents = strip;
      const cjk = optionalBoolean(config, 'tokenize_chinese_chars', configFile);
      if (cjk !== undefined) opts.tokenizeChineseChars = cjk;
    }
    const basic = optionalBoolean(config, 'do_basic_tokenize', configFile);
    if (basic !== undefined && opts.doBasicTokenize === undefined && opts.preTokenizer === undefined) opts.doBasicTokenize = basic;
    const cleanup = optionalBoolean(config, 'clean_up_tokenization_spaces', configFile);
    if (cleanup !== undefined) opts.cleanUpTokenizationSpaces = cleanup;
    if (config.never_split !== undefined && config.never_split !== null) {
      if (!Array.isArray(config.never_split) || !config.never_split.every((t) => typeof t === 'string')) {
        throw new BertTokenizerError(`${configFile}: key "never_split" should be a list of strings`);
      }
      opts.neverSplit = config.never_split as string[];
    }
    const maxLen = config.model_max_length;
    if (maxLen !== undefined && maxLen !== null) {
      if (typeof maxLen !== 'number' || maxLen <= 0) throw new BertTokenizerError(`${configFile}: key "model_max_length" should be a positive number, got ${JSON.stringify(maxLen)}`);
      // HF writes int(1e30) for "no limit".
      if (maxLen < 1e15) opts.modelMaxLength = maxLen;
    }
    const camel = { unk_token: 'unkToken', sep_token: 'sepToken', pad_token: 'padToken', cls_token: 'clsToken', mask_token: 'maskToken' } as const;
    for (const key of SPECIAL_KEYS) {
      const v = tokenContent(map[key], mapFile, key) ?? tokenContent(config[key], configFile, key);
      if (v !== undefined) opts[camel[key]] = v;
    }
    const extra = map.additional_special_tokens ?? config.additional_special_tokens;
    if (Array.isArray(extra)) opts.additionalSpecialTokens = extra.map((t, k) => tokenContent(t, mapFile, `additional_special_tokens[${k}]`)!);
    return new this(vocab, opts);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  get allSpecialTokens(): string[] {
    return [this.unkToken, this.sepToken, this.padToken, this.clsToken, this.maskToken, ...this.additionalSpecialTokens];
  }

  get allSpecialIds(): number[] {
    return this.allSpecialTokens.map((t) => this.tokenToId.get(t)).filter((id): id is number => id !== undefined);
  }

  /** WordPiece tokens of a text, without special tokens. */
  tokenize(text: string): string[] {
    return this.encodeText(text, false).tokens;
  }

  /** Unknown tokens map to [UNK]'s id, as in HF. */
  convertTokensToIds(tokens: string): number;
  convertTokensToIds(tokens: readonly string[]): number[];
  convertTokensToIds(tokens: string | readonly string[]): number | number[] {
    const one = (t: string): number => this.tokenToId.get(t) ?? this.tokenToId.get(this.unkToken)!;
    return typeof tokens === 'string' ? one(tokens) : tokens.map(one);
  }

  /** Ids outside the vocabulary map to [UNK], as in HF. */
  convertIdsToTokens(ids: number, skipSpecialTokens?: boolean): string;
  convertIdsToTokens(ids: readonly number[], skipSpecialTokens?: boolean): string[];
  convertIdsToTokens(ids: number | readonly number[], skipSpecialTokens = false): string | string[] {
    const one = (id: number): string => this.vocab[id] ?? this.unkToken;
    if (typeof ids === 'number') return one(ids);
    const special = new Set(skipSpecialTokens ? this.allSpecialIds : []);
    return ids.filter((id) => !special.has(id)).map(one);
  }

  /** Encodes a text or a pair. `encode(text, options)` is accepted too. */
  encode(text: string, textPair?: string | null | EncodeOptions, options: EncodeOptions = {}): BertEncoding {
    options = checkOptions(`${this.constructor.name}.encode`, options, { addSpecialTokens: 1, maxLength: 1, truncation: 1, padding: 1, padToMultipleOf: 1, stride: 1, returnOverflowingTokens: 1, returnOffsetsMapping: 1, returnSpecialTokensMask: 1 });
    if (typeof textPair === 'object' && textPair !== null) return this.encode(text, null, textPair);
    const enc = this.encodeUnpadded(text, textPair ?? null, options);
    padBatch([enc], options, this.specialIds(), this.modelMaxLength);
    return enc;
  }

  /** Encodes a batch; padding 'longest' pads to the longest encoding in the batch (overflowing windows included). */
  encodeBatch(texts: readonly string[], pairs?: readonly string[] | null, options: EncodeOptions = {}): BertEncoding[] {
    options = checkOptions(`${this.constructor.name}.encodeBatch`, options, { addSpecialTokens: 1, maxLength: 1, truncation: 1, padding: 1, padToMultipleOf: 1, stride: 1, returnOverflowingTokens: 1, returnOffsetsMapping: 1, returnSpecialTokensMask: 1 });
    if (pairs && pairs.length !== texts.length) throw new BertTokenizerError(`encodeBatch: ${texts.length} texts but ${pairs.length} pairs`);
    const encs = texts.map((t, i) => this.encodeUnpadded(t, pairs ? pairs[i]! : null, options));
    padBatch(encs, options, this.specialIds(), this.modelMaxLength);
    return encs;
  }

  /** HF's slow decode: join with spaces, glue "##" pieces, trim, then optional clean-up of spaces before punctuation. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const { skipSpecialTokens = false, cleanUpTokenizationSpaces = this.cleanUpTokenizationSpaces } = checkOptions(`${this.constructor.name}.decode`, options, { skipSpecialTokens: 1, cleanUpTokenizationSpaces: 1 });
    const prefix = this.wordpieceTokenizer.continuingSubwordPrefix;
    let text = this.convertIdsToTokens(ids, skipSpecialTokens).join(' ').split(` ${prefix}`).join('').trim();
    if (cleanUpTokenizationSpaces) {
      for (const [from, to] of [[' .', '.'], [' ?', '?'], [' !', '!'], [' ,', ','], [" ' ", "'"], [" n't", "n't"], [" 'm", "'m"], [" 's", "'s"], [" 've", "'ve"], [" 're", "'re"]]) {
        text = text.split(from!).join(to!);
      }
    }
    return text;
  }

  /** The texts of vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json, as HF's save_pretrained writes them. */
  toFiles(): Required<BertTokenizerFiles> {
    const vocabTxt = this.vocab.map((t) => `${t}\n`).join('');
    const specials = { unk_token: this.unkToken, sep_token: this.sepToken, pad_token: this.padToken, cls_token: this.clsToken, mask_token: this.maskToken };
    const extra = this.additionalSpecialTokens.length ? { additional_special_tokens: this.additionalSpecialTokens } : {};
    const config = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: this.doLowerCase,
      do_basic_tokenize: this.basicTokenizer !== null,
      never_split: this.basicTokenizer && this.basicTokenizer.neverSplit.size ? [...this.basicTokenizer.neverSplit] : null,
      strip_accents: this.stripAccents,
      tokenize_chinese_chars: this.tokenizeChineseChars,
      clean_up_tokenization_spaces: this.cleanUpTokenizationSpaces,
      model_max_length: this.modelMaxLength ?? 1e30,
      ...specials,
      ...extra,
    };
    let json = this.tokenizerJson;
    if (!json) {
      json = buildTokenizerJson({
        vocab: this.vocab, specialTokens: this.allSpecialTokens, clsToken: this.clsToken, sepToken: this.sepToken, unkToken: this.unkToken,
        lowercase: this.doLowerCase, stripAccents: this.stripAccents, handleChineseChars: this.tokenizeChineseChars,
        continuingSubwordPrefix: this.wordpieceTokenizer.continuingSubwordPrefix, maxInputCharsPerWord: this.wordpieceTokenizer.maxInputCharsPerWord,
      });
      if (this.preTokenizer === 'whitespace') json = { ...json, normalizer: null, pre_tokenizer: { type: 'Whitespace' } };
    }
    return {
      'vocab.txt': vocabTxt,
      'tokenizer_config.json': `${JSON.stringify(config, null, 2)}\n`,
      'special_tokens_map.json': `${JSON.stringify({ ...specials, ...extra }, null, 2)}\n`,
      'tokenizer.json': JSON.stringify(json),
    };
  }

  private specialIds(): SpecialTokenIds {
    const id = (t: string): [string, number] => [t, this.tokenToId.get(t)!];
    return { cls: id(this.clsToken), sep: id(this.sepToken), pad: id(this.padToken) };
  }

  private encodeUnpadded(text: string, pair: string | null, options: EncodeOptions): BertEncoding {
    const withOffsets = options.returnOffsetsMapping ?? false;
    const a = this.encodeText(text, withOffsets);
    const b = pair === null ? null : this.encodeText(pair, withOffsets);
    return assemble(a, b, options, this.specialIds(), this.modelMaxLength);
  }

  /** One text to tokens, ids and offsets (offsets only filled when asked, or on the builtin path where they come free). */
  private encodeText(text: string, withOffsets: boolean): TokenSeq {
    if (!this.hf) return this.encodeBuiltin(text);
    const e = this.hf.encode(text);
    if (!withOffsets) return { ...e, offsets: e.ids.map(() => [0, 0]) };
    // The engine has no offsets: take ours, after checking both implementations split the text the same way.
    const own = this.encodeBuiltin(text);
    if (own.tokens.length !== e.tokens.length || own.tokens.some((t, k) => t !== e.tokens[k])) {
      throw new BertTokenizerError(
        `encode: @huggingface/tokenizers and the builtin tokenizer disagree on ${JSON.stringify(text.slice(0, 80))} ` +
        `(${JSON.stringify(e.tokens.slice(0, 12))} vs ${JSON.stringify(own.tokens.slice(0, 12))}), so offsets cannot be aligned; ` +
        "load with { engine: 'builtin' } to use the builtin tokenizer throughout",
      );
    }
    return { ids: e.ids, tokens: e.tokens, offsets: own.offsets };
  }

  private encodeBuiltin(text: string): TokenSeq {
    const seq: TokenSeq = { ids: [], tokens: [], offsets: [] };
    const push = (token: string, start: number, end: number): void => {
      seq.tokens.push(token);
      seq.ids.push(this.convertTokensToIds(token));
      seq.offsets.push([start, end]);
    };
    let pos = 0;
    while (pos <= text.length) {
      const [at, special] = this.nextSpecial(text, pos);
      const chunk = text.slice(pos, at);
      if (chunk.length > 0) this.encodeChunk(chunk, pos, push);
      if (special === null) break;
      push(special, at, at + special.length);
      pos = at + special.length;
    }
    return seq;
  }

  private nextSpecial(text: string, from: number): [number, string | null] {
    let best: [number, string | null] = [text.length, null];
    for (const s of this.noSplit) {
      const at = text.indexOf(s, from);
      if (at >= 0 && at < best[0]) best = [at, s];
    }
    return best;
  }

  private encodeChunk(chunk: string, base: number, push: (token: string, start: number, end: number) => void): void {
    if (!this.basicTokenizer) {
      const re = this.preTokenizer === 'whitespace' ? new RegExp(HF_WHITESPACE.source, 'gu') : new RegExp(`[^${PY_SPACE.source.slice(1, -1)}]+`, 'gu');
      for (const m of chunk.matchAll(re)) {
        const chars = [...m[0]];
        let at = base + m.index;
        const ends = chars.map((c) => (at += c.length));
        for (const p of this.wordpieceTokenizer.split(chars)) push(p.token, p.from === 0 ? base + m.index : ends[p.from - 1]!, ends[p.to - 1]!);
      }
      return;
    }
    for (const t of this.basicTokenizer.tokenizeAligned(chunk, base)) {
      if (t.neverSplit) {
        push(t.text, Math.min(...t.starts), Math.max(...t.ends));
        continue;
      }
      for (const p of this.wordpieceTokenizer.split(t.chars)) {
        push(p.token, Math.min(...t.starts.slice(p.from, p.to)), Math.max(...t.ends.slice(p.from, p.to)));
      }
    }
  }
}
