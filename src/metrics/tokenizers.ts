/**
 * sacreBLEU's tokenizers (13a, zh, char, none), reproduced rule for rule so that a BLEU printed by
 * zhuyi is the BLEU sacreBLEU 2.x prints for the same strings. Python string semantics matter
 * here: `str.split()` and `str.strip()` use Python's whitespace set (wider than JS `\s` in some
 * places, narrower in others), and iteration is per code point, never per UTF-16 unit.
 */

/** Characters Python's `str.split()` / `str.strip()` treat as whitespace (Py_UNICODE_ISSPACE). */
const PY_WHITESPACE = '\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPLIT = new RegExp(`[${PY_WHITESPACE}]+`, 'u');
const PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu');
const PY_RSTRIP = new RegExp(`[${PY_WHITESPACE}]+$`, 'u');

/** Python's `s.split()` with no argument: runs of whitespace separate, empty pieces are dropped. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPLIT).filter((w) => w.length > 0);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_RSTRIP, '');
}

/**
 * sacreBLEU's TokenizerRegexp (tokenizer_re.py), shared by 13a and zh. The first class is
 * mteval-v13a's "language-dependent part": `{-~`, `[-\``, ` -&`, `(-+`, `:-@`, `/`.
 */
const RE_13A: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp('([{-~\\[-` -&(-+:-@/])', 'gu'), ' $1 '],
  // tokenize period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // tokenize period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // tokenize dash when preceded by a digit
  [/([0-9])(-)/gu, '$1 $2 '],
];

function tokenizeRegexp(line: string): string {
  for (const [re, repl] of RE_13A) line = line.replace(re, repl);
  return pySplit(line).join(' ');
}

/** sacreBLEU's `13a` tokenizer (mteval-v13a.pl), the default for BLEU. */
export function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '');
  line = line.replaceAll('-\n', '');
  line = line.replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"');
    line = line.replaceAll('&amp;', '&');
    line = line.replaceAll('&lt;', '<');
    line = line.replaceAll('&gt;', '>');
  }
  return tokenizeRegexp(` ${line} `);
}

/**
 * The code-point ranges sacreBLEU's TokenizerZh calls Chinese, as Python actually evaluates them.
 * Its table writes two supplementary-plane ranges as `'\u20000'` and `'\u2f800'`, which Python
 * reads as two-character strings (`'\u2000' + '0'`); compared with a single character they select
 * U+2001..U+2A6D and U+2F81..U+2FA1 instead (general punctuation such as the en dash, arrows, math
 * operators...). Scores only match sacreBLEU if we keep that quirk, so we do. Characters outside
 * the BMP are never Chinese for it.
 */
const ZH_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x3400, 0x4db5], [0x4e00, 0x9fa5], [0x9fa6, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], // written '\u20000'..'\u2a6d6' (meant: CJK Extension B)
  [0x2f81, 0x2fa1], // written '\u2f800'..'\u2fa1d' (meant: CJK Compatibility Supplement)
  [0xff00, 0xffef], [0x2e80, 0x2eff], [0x3000, 0x303f], [0x31c0, 0x31ef], [0x2f00, 0x2fdf], [0x2ff0, 0x2fff],
  [0x3100, 0x312f], [0x31a0, 0x31bf], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f], [0x2600, 0x26ff], [0x2700, 0x27bf],
  [0x3200, 0x32ff], [0x3300, 0x33ff],
];

export function isSacrebleuChineseChar(cp: number): boolean {
  for (const [lo, hi] of ZH_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** sacreBLEU's `zh` tokenizer: every Chinese character is its own token, the rest as 13a's regexes. */
export function tokenizeZh(line: string): string {
  let out = '';
  for (const ch of pyStrip(line)) out += isSacrebleuChineseChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return tokenizeRegexp(out);
}

/** sacreBLEU's `char` tokenizer: every code point (spaces included) separated by a space. */
export function tokenizeChar(line: string): string {
  return Array.from(line).join(' ');
}

export type BleuTokenizerName = '13a' | 'zh' | 'char' | 'none';

export const BLEU_TOKENIZERS: Readonly<Record<BleuTokenizerName, (line: string) => string>> = {
  '13a': tokenize13a,
  zh: tokenizeZh,
  char: tokenizeChar,
  none: (line) => line,
};
