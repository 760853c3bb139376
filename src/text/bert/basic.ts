/**
 * BasicTokenizer: Hugging Face's pre-WordPiece rules (tokenization_bert.py), with every output
 * character traced back to the span of the original text it came from, so encodings can carry offsets.
 *
 * Steps, in HF's order:
 *   1. clean text: drop NUL, U+FFFD and every category-C character (except \t \n \r); whitespace -> ' '
 *   2. put spaces around CJK ideographs (tokenize_chinese_chars)
 *   3. NFC, then split on whitespace (str.split())
 *   4. per word, unless in never_split: lowercase, then strip accents (NFD, drop Mn)
 *   5. split off every punctuation character (unless the word is in never_split)
 *
 * Offsets are UTF-16 indices into the original string (JS string positions, so text.slice(start, end)
 * works). Python's fast tokenizers count code points instead: the two differ only after astral characters.
 */
import { isChineseChar, isControl, isNonspacingMark, isPunctuation, isSplitSpace, isWhitespace } from './unicode.js';
import { checkOptions } from '../../tensor/options.js';

export interface BasicTokenizerOptions {
  /** Lowercase every word not in neverSplit. Default true (uncased models). */
  doLowerCase?: boolean;
  /** Words kept whole: not lowercased, not split on punctuation, not WordPiece-split. */
  neverSplit?: Iterable<string>;
  /** Put spaces around CJK ideographs so each becomes a word. Default true. */
  tokenizeChineseChars?: boolean;
  /** null (default): strip accents exactly when lowercasing (HF's "None follows lowercase"); true/false force it. */
  stripAccents?: boolean | null;
  /** Split punctuation off words. Default true. */
  doSplitOnPunc?: boolean;
}

/** One basic token: its code points and, per code point, the original span [start, end). */
export interface AlignedToken {
  text: string;
  chars: string[];
  starts: number[];
  ends: number[];
  /** True for neverSplit words, which skip WordPiece. */
  neverSplit: boolean;
}

interface Aligned {
  chars: string[];
  starts: number[];
  ends: number[];
}

const ASCII = /^[\x00-\x7f]*$/;

function spanOf(w: Aligned): [number, number] {
  let s = Infinity;
  let e = -Infinity;
  for (let k = 0; k < w.chars.length; k++) {
    s = Math.min(s, w.starts[k]!);
    e = Math.max(e, w.ends[k]!);
  }
  return [s, e];
}

/**
 * Applies a string transform one code point at a time so each output keeps its source span, and checks
 * the result against the transform of the whole word. Context-sensitive cases (final sigma in lowercase,
 * canonical reordering in NFD) keep per-character spans when the lengths agree; otherwise every output
 * character gets the whole word's span (never wrong, only coarser).
 */
function mapChars(w: Aligned, perChar: (ch: string) => string, whole: (s: string) => string): Aligned {
  const out: Aligned = { chars: [], starts: [], ends: [] };
  for (let k = 0; k < w.chars.length; k++) {
    for (const c of perChar(w.chars[k]!)) {
      out.chars.push(c);
      out.starts.push(w.starts[k]!);
      out.ends.push(w.ends[k]!);
    }
  }
  const expected = whole(w.chars.join(''));
  if (out.chars.join('') === expected) return out;
  const exp = [...expected];
  if (exp.length === out.chars.length) return { chars: exp, starts: out.starts, ends: out.ends };
  const [s, e] = spanOf(w);
  return { chars: exp, starts: exp.map(() => s), ends: exp.map(() => e) };
}

function stripAccentsOf(s: string): string {
  let out = '';
  for (const c of s.normalize('NFD')) if (!isNonspacingMark(c)) out += c;
  return out;
}

const lower = (s: string): string => s.toLowerCase();

/**
 * NFC with spans: cut the word greedily into segments that compose independently (a base letter with
 * its combining marks, a Hangul syllable's jamo), compose each, and give its output the segment's span.
 */
function nfcAligned(w: Aligned): Aligned {
  const text = w.chars.join('');
  const composed = text.normalize('NFC');
  if (composed === text) return w;
  const out: Aligned = { chars: [], starts: [], ends: [] };
  const emit = (from: number, to: number): void => {
    const [s, e] = spanOf({ chars: w.chars.slice(from, to), starts: w.starts.slice(from, to), ends: w.ends.slice(from, to) });
    for (const c of w.chars.slice(from, to).join('').normalize('NFC')) {
      out.chars.push(c);
      out.starts.push(s);
      out.ends.push(e);
    }
  };
  let segStart = 0;
  for (let k = 1; k < w.chars.length; k++) {
    const seg = w.chars.slice(segStart, k).join('');
    const c = w.chars[k]!;
    if ((seg + c).normalize('NFC') === seg.normalize('NFC') + c.normalize('NFC')) {
      emit(segStart, k);
      segStart = k;
    }
  }
  emit(segStart, w.chars.length);
  if (out.chars.join('') === composed) return out;
  const [s, e] = spanOf(w);
  const exp = [...composed];
  return { chars: exp, starts: exp.map(() => s), ends: exp.map(() => e) };
}

export class BasicTokenizer {
  readonly doLowerCase: boolean;
  readonly neverSplit: ReadonlySet<string>;
  readonly tokenizeChineseChars: boolean;
  readonly stripAccents: boolean | null;
  readonly doSplitOnPunc: boolean;

  constructor(options: BasicTokenizerOptions = {}) {
    options = checkOptions('BasicTokenizer', options, { doLowerCase: 1, neverSplit: 1, tokenizeChineseChars: 1, stripAccents: 1, doSplitOnPunc: 1 });
    this.doLowerCase = options.doLowerCase ?? true;
    this.neverSplit = new Set(options.neverSplit ?? []);
    this.tokenizeChineseChars = options.tokenizeChineseChars ?? true;
    this.stripAccents = options.stripAccents ?? null;
    this.doSplitOnPunc = options.doSplitOnPunc ?? true;
  }

  /** Basic tokens as strings, like HF's BasicTokenizer.tokenize. */
  tokenize(text: string): string[] {
    return this.tokenizeAligned(text).map((t) => t.text);
  }

  /** Basic tokens with spans; `base` is added to every offset (for a chunk cut out of a longer text). */
  tokenizeAligned(text: string, base = 0): AlignedToken[] {
    const out: AlignedToken[] = [];
    let word: Aligned = { chars: [], starts: [], ends: [] };
    const flush = (): void => {
      if (word.chars.length > 0) this.processWord(word, out);
      word = { chars: [], starts: [], ends: [] };
    };
    let i = base;
    for (const ch of text) {
      const start = i;
      i += ch.length;
      const cp = ch.codePointAt(0)!;
      // Step 1 (_clean_text). Removal happens before splitting, so "a\u200bb" is one word "ab".
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      if (isWhitespace(ch) || isSplitSpace(ch)) {
        flush();
        continue;
      }
      // Step 2 (_tokenize_chinese_chars): a CJK ideograph is a word on its own.
      const alone = this.tokenizeChineseChars && isChineseChar(cp);
      if (alone) flush();
      word.chars.push(ch);
      word.starts.push(start);
      word.ends.push(i);
      if (alone) flush();
    }
    flush();
    return out;
  }

  private processWord(raw: Aligned, out: AlignedToken[]): void {
    // Step 3: transformers >= 4.27 applies NFC before splitting, so a precomposed and a decomposed é are
    // the same character; older versions skipped it (no difference once accents are stripped).
    let w = nfcAligned(raw);
    if (this.neverSplit.has(w.chars.join(''))) {
      out.push({ text: w.chars.join(''), ...w, neverSplit: true });
      return;
    }
    // Step 4: strip_accents=None means "strip when lowercasing"; explicit false keeps accents on an uncased model.
    if (this.doLowerCase) {
      w = ASCII.test(w.chars.join('')) ? { ...w, chars: w.chars.map(lower) } : mapChars(w, lower, lower);
      if (this.stripAccents !== false) w = this.stripAligned(w);
    } else if (this.stripAccents === true) {
      w = this.stripAligned(w);
    }
    const text = w.chars.join('');
    if (text.length === 0) return; // a word of lone combining marks vanishes, as in HF's final whitespace_tokenize
    // Step 5: HF checks never_split again after lowercasing (_run_split_on_punc(token, never_split)).
    if (!this.doSplitOnPunc || this.neverSplit.has(text)) {
      out.push({ text, ...w, neverSplit: this.neverSplit.has(text) });
      return;
    }
    let from = 0;
    const push = (a: number, b: number): void => {
      if (b <= a) return;
      const chars = w.chars.slice(a, b);
      out.push({ text: chars.join(''), chars, starts: w.starts.slice(a, b), ends: w.ends.slice(a, b), neverSplit: false });
    };
    for (let k = 0; k < w.chars.length; k++) {
      if (isPunctuation(w.chars[k]!)) {
        push(from, k);
        push(k, k + 1);
        from = k + 1;
      }
    }
    push(from, w.chars.length);
  }

  private stripAligned(w: Aligned): Aligned {
    return ASCII.test(w.chars.join('')) ? w : mapChars(w, stripAccentsOf, stripAccentsOf);
  }
}
