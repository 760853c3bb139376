import { checkOptions } from '../tensor/options.js';
/**
 * Normalization and pre-tokenization shared by the word and BPE tokenizers. They are exactly Hugging
 * Face's `BertNormalizer` (clean_text, handle_chinese_chars, strip_accents: false, lowercase) and
 * `BertPreTokenizer` (split on whitespace, every punctuation mark its own piece), so a tokenizer.json
 * naming those two components reproduces our tokens in `tokenizers` and `@huggingface/tokenizers`.
 * Special tokens are cut out of the raw text before any of this, as HF does with added tokens.
 */

/** BERT's punctuation: every non-alphanumeric printable ASCII character, plus Unicode category P. */
const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const PRE_TOKEN = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const SPACE = /^\s$/u;

/**
 * BERT's "Chinese character": CJK Unified Ideographs and extensions A-E plus compatibility
 * ideographs. Kana and hangul are not included (they go through like Latin words), as in BERT.
 */
export function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export interface NormalizeOptions {
  /** Lowercase (accents are kept: "Über" -> "über"). Default false. */
  lowercase?: boolean;
  /** Put spaces around CJK ideographs so each is its own token. Default true. */
  splitCjk?: boolean;
}

/**
 * BertNormalizer with strip_accents false: drop NUL, U+FFFD and control/format characters (tab,
 * newline and carriage return are whitespace, not controls), map whitespace to a space, isolate CJK
 * ideographs, lowercase. Iterates code points, so supplementary-plane ideographs (Extension B...)
 * are isolated as in HF's Rust tokenizers; @huggingface/tokenizers 0.2 tests UTF-16 units there
 * and leaves them attached (the only known divergence, outside the BMP).
 */
export function normalizeText(text: string, options: NormalizeOptions = {}): string {
  const { lowercase = false, splitCjk = true } = checkOptions('normalizeText', options, { lowercase: 1, splitCjk: 1 });
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch)) continue;
    if (SPACE.test(ch)) out += ' ';
    else if (splitCjk && isCjkIdeograph(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return lowercase ? out.toLowerCase() : out;
}

/** BertPreTokenizer: runs of non-space non-punctuation characters; each punctuation mark alone. */
export function preTokenize(normalized: string): string[] {
  return normalized.match(PRE_TOKEN) ?? [];
}

/**
 * Splits raw text around special tokens (longest match first, scanning left to right), so "<eos>"
 * in a string is one token and never "<", "eos", ">". Returns alternating plain and special pieces.
 */
export function splitSpecials(text: string, specials: readonly string[]): Array<{ text: string; special: boolean }> {
  if (specials.length === 0 || text.length === 0) return text ? [{ text, special: false }] : [];
  const sorted = [...specials].sort((a, b) => b.length - a.length);
  const pieces: Array<{ text: string; special: boolean }> = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const hit = text[i] === undefined ? undefined : sorted.find((s) => text.startsWith(s, i));
    if (hit) {
      if (i > start) pieces.push({ text: text.slice(start, i), special: false });
      pieces.push({ text: hit, special: true });
      i += hit.length;
      start = i;
    } else {
      i++;
    }
  }
  if (start < text.length) pieces.push({ text: text.slice(start), special: false });
  return pieces;
}
