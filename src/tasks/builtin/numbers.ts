/**
 * `numbers`: a digit string to its English words, "4071" -> "four thousand seventy one" (American
 * style: no "and", no hyphens, so every word is a token). Lengths are drawn uniformly between
 * minDigits and maxDigits; the default of 12 digits gives targets of up to ~25 words, long enough
 * for a plain Seq2Seq's single vector to lose track while attention does not. With `commas` the
 * source carries thousands separators ("4,071"), which spares the models from counting digits mod 3
 * to find the scale words; the per-length tables still count digits.
 */
import { ArgumentError } from '../../tensor/errors.js';
import { type TaskOptions, type TaskSplits, drawSplits } from './splits.js';
import { checkOptions } from '../../tensor/options.js';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion', 'quintillion', 'sextillion', 'septillion',
  'octillion', 'nonillion', 'decillion'];

/** Largest number of digits `numberToWords` can name (up to 999 decillion). */
export const MAX_NUMBER_DIGITS = 3 * SCALES.length;

function belowThousand(n: number): string[] {
  const words: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds) words.push(ONES[hundreds]!, 'hundred');
  if (rest >= 20) {
    words.push(TENS[Math.floor(rest / 10)]!);
    if (rest % 10) words.push(ONES[rest % 10]!);
  } else if (rest > 0) {
    words.push(ONES[rest]!);
  }
  return words;
}

/** "4071" -> "four thousand seventy one"; "105" -> "one hundred five"; "0" -> "zero". */
export function numberToWords(digits: string): string {
  if (!/^[0-9]+$/.test(digits)) throw new ArgumentError(`numberToWords: expected digits, got '${digits}'`);
  const trimmed = digits.replace(/^0+(?=.)/, '');
  if (trimmed.length > MAX_NUMBER_DIGITS) throw new ArgumentError(`numberToWords: at most ${MAX_NUMBER_DIGITS} digits, got ${trimmed.length}`);
  if (trimmed === '0') return 'zero';
  const words: string[] = [];
  const groups = Math.ceil(trimmed.length / 3);
  const padded = trimmed.padStart(groups * 3, '0');
  for (let k = 0; k < groups; k++) {
    const n = Number(padded.slice(3 * k, 3 * k + 3));
    if (n === 0) continue;
    words.push(...belowThousand(n));
    const scale = SCALES[groups - 1 - k]!;
    if (scale) words.push(scale);
  }
  return words.join(' ');
}

export interface NumbersOptions extends TaskOptions {
  minDigits?: number;
  /** Default 12 (up to "nine hundred ninety nine billion ..."). */
  maxDigits?: number;
  /** Write sources with thousands separators, "4,071": the scale words no longer hinge on counting digits mod 3 (default false). */
  commas?: boolean;
}

/** "1234567" -> "1,234,567". */
export function withCommas(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+$)/g, ',');
}

export function numbersTask(opts: NumbersOptions = {}): TaskSplits {
  opts = checkOptions('numbersTask', opts, { minDigits: 1, maxDigits: 1, commas: 1, seed: 1, train: 1, valid: 1, test: 1 });
  const { minDigits = 1, maxDigits = 12, commas = false } = opts;
  return {
    name: 'numbers', description: `digits (${minDigits}-${maxDigits}${commas ? ', with thousands separators' : ''}) -> English words`,
    ...numberSplits('numbers', opts, MAX_NUMBER_DIGITS, numberToWords),
    sourceTokenizer: 'char', targetTokenizer: 'word',
  };
}

/**
 * The splits of a numbers task whose targets `write` produces (English words, Chinese characters):
 * lengths uniform in minDigits..maxDigits, keyed by the digits, at most 10% of a length held out.
 */
export function numberSplits(task: string, opts: NumbersOptions, maxAllowed: number, write: (digits: string) => string): Pick<TaskSplits, 'train' | 'valid' | 'test'> {
  const { minDigits = 1, maxDigits = Math.min(12, maxAllowed), seed = 0, commas = false } = opts;
  if (!(Number.isInteger(minDigits) && Number.isInteger(maxDigits) && minDigits >= 1 && maxDigits >= minDigits && maxDigits <= maxAllowed)) {
    throw new ArgumentError(`${task}: need 1 <= minDigits <= maxDigits <= ${maxAllowed}, got ${minDigits}..${maxDigits}`);
  }
  const sizes = { train: opts.train ?? 50000, valid: opts.valid ?? 1000, test: opts.test ?? 2000 };
  return drawSplits(task, sizes, seed, (g) => {
    const len = g.randint(minDigits, maxDigits + 1);
    // No leading zero (except the number 0 itself); digits drawn one at a time, so any length works.
    let digits = len === 1 ? String(g.randint(0, 10)) : String(g.randint(1, 10));
    while (digits.length < len) digits += String(g.randint(0, 10));
    return { key: digits, example: { source: commas ? withCommas(digits) : digits, target: write(digits), length: len } };
    // At most 10% of each length's numbers are held out; training draws lengths uniformly, so the
    // few 1- and 2-digit numbers repeat rather than vanish from the data.
  }, (len) => Math.floor(0.1 * (len === 1 ? 10 : 9 * 10 ** (len - 1))), true);
}
