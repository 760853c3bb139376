/**
 * Character classes of Hugging Face's BasicTokenizer (transformers/models/bert/tokenization_bert.py).
 * They are not the usual Unicode definitions: each quirk is kept on purpose and commented, because the
 * pretrained vocabularies were built with exactly these rules.
 */

const ZS = /^\p{Zs}$/u;
// HF's _is_control tests `category.startswith("C")`: Cc, Cf, Cn (unassigned), Co (private use), Cs.
// So zero-width joiners (Cf), soft hyphens (Cf) and private-use characters vanish, not just C0/C1 controls.
// Deviation: Cn depends on the Unicode version of the runtime (ICU in Node, unicodedata in Python).
const OTHER = /^\p{C}$/u;
const PUNCT = /^\p{P}$/u;
const MN = /^\p{Mn}$/u;

/** HF _is_whitespace: space, \t, \n, \r, or category Zs. (\v and \f are Cc, so cleaning drops them as controls.) */
export function isWhitespace(ch: string): boolean {
  if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') return true;
  return ch.charCodeAt(0) > 127 && ZS.test(ch);
}

/** HF _is_control: any category C*, except \t \n \r, which count as whitespace. */
export function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  const cp = ch.codePointAt(0)!;
  if (cp < 32 || cp === 127) return true;
  if (cp < 127) return false;
  return OTHER.test(ch);
}

/**
 * HF _is_punctuation: every non-alphanumeric printable ASCII character counts, even those Unicode files
 * under symbols (S*) like $ + < = > ^ ` | ~, "for consistency" (Google's comment); beyond ASCII only P*.
 * So "$5" splits into "$", "5" but "€5" stays one word (€ is Sc).
 */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp > 127 && PUNCT.test(ch);
}

/** Nonspacing mark: what _run_strip_accents removes after NFD. */
export function isNonspacingMark(ch: string): boolean {
  return ch.codePointAt(0)! >= 0x300 && MN.test(ch);
}

/**
 * HF _is_chinese_char: the CJK Unified Ideographs blocks and extensions A–E plus the compatibility
 * ideographs. Despite the name, Japanese kana and Korean hangul are NOT included (they are
 * space-separated languages in Google's view), so they go through WordPiece like Latin words.
 */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * Separators for whitespace_tokenize, which is Python's str.split(): after cleaning, the only
 * whitespace left is ' ' plus the line/paragraph separators U+2028/U+2029 (Zl/Zp, which _is_whitespace
 * does not map to ' ' but str.split() still splits on). U+001C..U+001F and U+0085 are Cc, already dropped.
 */
export function isSplitSpace(ch: string): boolean {
  return ch === ' ' || ch === '\u2028' || ch === '\u2029';
}
