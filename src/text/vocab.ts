/**
 * A vocabulary: token <-> id, with the four specials every zhuyi sequence model uses at fixed ids
 * (`<pad>` 0, `<unk>` 1, `<bos>` 2, `<eos>` 3), so a padding mask is `id == 0` in every model.
 * Saved as a plain UTF-8 file, one token per line, the id being the line number (like BERT's
 * vocab.txt); the rare token holding a newline, carriage return or backslash is escaped as `\n`,
 * `\r`, `\\`. No file system here (browsers use it): src/text/io.ts reads and writes the files.
 */
import { ZhuyiError } from '../tensor/errors.js';
import { checkOptions } from '../tensor/options.js';

/** A bad vocabulary or tokenizer file, or an unusable tokenizer option. Messages name the file and line. */
export class TokenizerError extends ZhuyiError {}

export const PAD = '<pad>';
export const UNK = '<unk>';
export const BOS = '<bos>';
export const EOS = '<eos>';
export const SPECIAL_TOKENS: readonly string[] = [PAD, UNK, BOS, EOS];

export interface BuildVocabOptions {
  /** Keep tokens seen at least this often (default 1). */
  minFrequency?: number;
  /** At most this many tokens in total, specials included. */
  maxSize?: number;
  /** More special tokens, given ids 4, 5, ... right after the fixed four (e.g. `<sep>`). */
  extraSpecials?: readonly string[];
}

export class Vocab {
  readonly padId = 0;
  readonly unkId = 1;
  readonly bosId = 2;
  readonly eosId = 3;
  private readonly ids = new Map<string, number>();

  /**
   * @param tokens every token in id order; the first four must be `<pad> <unk> <bos> <eos>`.
   * @param specials the special tokens (the fixed four plus any extras), never split by tokenizers.
   */
  constructor(readonly tokens: readonly string[], readonly specials: readonly string[] = SPECIAL_TOKENS) {
    for (let i = 0; i < SPECIAL_TOKENS.length; i++) {
      if (tokens[i] !== SPECIAL_TOKENS[i]) throw new TokenizerError(`Vocab: id ${i} must be '${SPECIAL_TOKENS[i]}', got '${tokens[i] ?? '(missing)'}'`);
    }
    tokens.forEach((t, i) => {
      if (t.length === 0) throw new TokenizerError(`Vocab: empty token at id ${i}`);
      if (this.ids.has(t)) throw new TokenizerError(`Vocab: token '${t}' at id ${i} duplicates id ${this.ids.get(t)}`);
      this.ids.set(t, i);
    });
    for (const s of specials) if (!this.ids.has(s)) throw new TokenizerError(`Vocab: special token '${s}' is not in the vocabulary`);
  }

  /**
   * Builds a vocabulary from token counts: specials first, then tokens by decreasing count, ties
   * in code-unit order of the token, so the same corpus always gives the same ids.
   */
  static fromCounts(counts: ReadonlyMap<string, number>, options: BuildVocabOptions = {}): Vocab {
    const { minFrequency = 1, maxSize, extraSpecials = [] } = checkOptions('Vocab.fromCounts', options, { minFrequency: 1, maxSize: 1, extraSpecials: 1 });
    const specials = [...SPECIAL_TOKENS, ...extraSpecials];
    if (maxSize !== undefined && maxSize < specials.length) throw new TokenizerError(`Vocab: maxSize ${maxSize} is smaller than the ${specials.length} special tokens`);
    const isSpecial = new Set(specials);
    const ranked = [...counts].filter(([t, c]) => c >= minFrequency && !isSpecial.has(t) && t.length > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const room = maxSize === undefined ? ranked.length : maxSize - specials.length;
    return new Vocab([...specials, ...ranked.slice(0, room).map(([t]) => t)], specials);
  }

  /** Counts tokens of already-tokenized sentences and builds the vocabulary. */
  static build(sentences: Iterable<readonly string[]>, opts: BuildVocabOptions = {}): Vocab {
    opts = checkOptions('Vocab.build', opts, { minFrequency: 1, maxSize: 1, extraSpecials: 1 });
    const counts = new Map<string, number>();
    for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
    return Vocab.fromCounts(counts, opts);
  }

  get size(): number {
    return this.tokens.length;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The id of `token`, or `<unk>`'s id. */
  id(token: string): number {
    return this.ids.get(token) ?? this.unkId;
  }

  /** The id of `token`, or undefined (no fallback to `<unk>`). */
  lookup(token: string): number | undefined {
    return this.ids.get(token);
  }

  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new TokenizerError(`Vocab: id ${id} out of range [0, ${this.size})`);
    return t;
  }

  isSpecialId(id: number): boolean {
    return this.specials.includes(this.tokens[id] ?? '');
  }

  /** The file text: one escaped token per line. */
  serialize(): string {
    return this.tokens.map(escapeToken).join('\n') + '\n';
  }

  /** Parses the file text written by `serialize`; `file` names the source in errors. */
  static parse(text: string, file: string, extraSpecials: readonly string[] = []): Vocab {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new TokenizerError(`${file}: empty vocabulary file`);
    const tokens = lines.map((line, i) => {
      try {
        return unescapeToken(line.endsWith('\r') ? line.slice(0, -1) : line);
      } catch (e) {
        throw new TokenizerError(`${file}:${i + 1}: ${(e as Error).message}`);
      }
    });
    const seen = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (t.length === 0) throw new TokenizerError(`${file}:${i + 1}: empty token`);
      const prev = seen.get(t);
      if (prev !== undefined) throw new TokenizerError(`${file}:${i + 1}: token '${t}' already on line ${prev + 1}`);
      seen.set(t, i);
    });
    for (let i = 0; i < SPECIAL_TOKENS.length; i++) {
      if (tokens[i] !== SPECIAL_TOKENS[i]) throw new TokenizerError(`${file}:${i + 1}: expected special token '${SPECIAL_TOKENS[i]}', got '${tokens[i] ?? '(end of file)'}'`);
    }
    return new Vocab(tokens, [...SPECIAL_TOKENS, ...extraSpecials]);
  }
}

function escapeToken(t: string): string {
  return t.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

function unescapeToken(line: string): string {
  return line.replace(/\\(.?)/gs, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    throw new Error(`bad escape '\\${c}' (only \\\\, \\n and \\r are escapes)`);
  });
}
