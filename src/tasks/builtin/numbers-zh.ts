/**
 * `numbers-zh`: a number to Traditional Chinese characters, "12,345" -> "一萬二千三百四十五". The
 * source keeps the Western thousands separators while Chinese groups by four digits (萬 = 10^4,
 * 億 = 10^8), so the model must regroup: that, and the zero rules below, make it harder than the
 * English task even though its targets are a dozen characters long.
 *
 * The rules written here (the standard reading, with 二 everywhere rather than 兩):
 * - inside a group of four, each nonzero digit is followed by its place: 千 百 十 (units bare);
 * - a group that is not all zero ends with its group word, 萬 or 億;
 * - one 零 stands for any run of missing places that has something nonzero on both sides, inside a
 *   group (1001 一千零一) or across a group boundary (10001 一萬零一, 100001000 一億零一千); zeros
 *   at the end of a group are absorbed by its group word (101000 十萬一千), and there is never a
 *   trailing 零 (1000 一千);
 * - a leading 一十 is written 十 (10 十, 150000 十五萬), but not elsewhere (110 一百一十);
 * - 0 is 零.
 */
import { checkOptions } from '../../tensor/options.js';
import { ArgumentError } from '../../tensor/errors.js';
import { type NumbersOptions, numberSplits } from './numbers.js';
import type { TaskSplits } from './splits.js';

const DIGITS = '零一二三四五六七八九';
/** The place inside a group of four, by position from the right (units, tens, hundreds, thousands). */
const PLACES = ['', '十', '百', '千'];
/** The group word, by group from the right (units, 萬 10^4, 億 10^8). */
const GROUPS = ['', '萬', '億'];

/** Largest number of digits `numberToChinese` can write (up to 九億九千九百九十九萬九千九百九十九). */
export const MAX_CHINESE_NUMBER_DIGITS = 9;

/** "12345" -> "一萬二千三百四十五"; "10001" -> "一萬零一"; "0" -> "零". */
export function numberToChinese(digits: string): string {
  if (!/^[0-9]+$/.test(digits)) throw new ArgumentError(`numberToChinese: expected digits, got '${digits}'`);
  const trimmed = digits.replace(/^0+(?=.)/, '');
  if (trimmed.length > MAX_CHINESE_NUMBER_DIGITS) {
    throw new ArgumentError(`numberToChinese: at most ${MAX_CHINESE_NUMBER_DIGITS} digits, got ${trimmed.length}`);
  }
  if (trimmed === '0') return DIGITS[0]!;
  let out = '';
  // A zero seen after something was written: it becomes one 零 if a nonzero digit follows.
  let zeroPending = false;
  let groupHasDigit = false;
  for (let i = 0; i < trimmed.length; i++) {
    const position = trimmed.length - 1 - i; // 0 = units
    const place = position % 4;
    const d = Number(trimmed[i]);
    if (d === 0) {
      if (out) zeroPending = true;
    } else {
      if (zeroPending) out += DIGITS[0];
      zeroPending = false;
      // 一十 is read 十 only at the very start (10 十, 15 十五, 150000 十五萬); elsewhere 一十 (110 一百一十).
      if (!(d === 1 && place === 1 && out === '')) out += DIGITS[d];
      out += PLACES[place];
      groupHasDigit = true;
    }
    if (place === 0) {
      if (groupHasDigit) {
        out += GROUPS[position / 4];
        // The group word absorbs the group's trailing zeros: 101000 is 十萬一千, not 十萬零一千.
        zeroPending = false;
      }
      groupHasDigit = false;
    }
  }
  return out;
}

export function numbersZhTask(opts: NumbersOptions = {}): TaskSplits {
  opts = checkOptions('numbersZhTask', opts, { minDigits: 1, maxDigits: 1, commas: 1, seed: 1, train: 1, valid: 1, test: 1 });
  const { minDigits = 1, maxDigits = MAX_CHINESE_NUMBER_DIGITS, commas = false } = opts;
  return {
    name: 'numbers-zh',
    description: `digits (${minDigits}-${maxDigits}${commas ? ', with thousands separators' : ''}) -> Traditional Chinese numerals`,
    ...numberSplits('numbers-zh', { ...opts, maxDigits }, MAX_CHINESE_NUMBER_DIGITS, numberToChinese),
    // Characters on both sides: a Chinese numeral has no spaces, and each character is a word.
    sourceTokenizer: 'char', targetTokenizer: 'char',
  };
}
