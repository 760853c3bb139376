/**
 * `dates`: a date written the way people write it -> ISO 8601. "3 May 1998", "May 3rd, 98",
 * "03/05/1998", "Sunday, May 3 1998", "1998年5月3日" all give "1998-05-03": the model must find
 * day, month and year wherever the format puts them and reorder them. Conventions that keep the
 * task well defined: numeric day/month formats are day first (03/05/1998 is 3 May); two-digit
 * years appear only for 1950-2049 and mean 19yy for yy >= 50, 20yy below (the POSIX pivot).
 */
import { ArgumentError } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';
import { type TaskOptions, type TaskSplits, drawSplits, pick } from './splits.js';
import { checkOptions } from '../../tensor/options.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface DateParts { y: number; m: number; d: number; wd: number }

const p2 = (n: number) => String(n).padStart(2, '0');
const yy = (y: number) => p2(y % 100);
const abbr = (s: string) => s.slice(0, 3);
function ordinal(d: number): string {
  const suffix = d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th';
  return `${d}${suffix}`;
}

interface Format { twoDigitYear: boolean; write: (x: DateParts) => string }
const F = (write: Format['write'], twoDigitYear = false): Format => ({ write, twoDigitYear });
const MONTH = (x: DateParts) => MONTHS[x.m - 1]!;
const WEEKDAY = (x: DateParts) => WEEKDAYS[x.wd]!;

/** The human formats; each is equally likely. */
export const DATE_FORMATS: readonly Format[] = [
  F((x) => `${x.d} ${MONTH(x)} ${x.y}`), // 3 May 1998
  F((x) => `${MONTH(x)} ${ordinal(x.d)}, ${yy(x.y)}`, true), // May 3rd, 98
  F((x) => `${p2(x.d)}/${p2(x.m)}/${x.y}`), // 03/05/1998
  F((x) => `${WEEKDAY(x)}, ${MONTH(x)} ${x.d} ${x.y}`), // Sunday, May 3 1998
  F((x) => `${x.y}年${x.m}月${x.d}日`), // 1998年5月3日
  F((x) => `${MONTH(x)} ${x.d}, ${x.y}`), // May 3, 1998
  F((x) => `${x.d} ${MONTH(x).toLowerCase()} ${yy(x.y)}`, true), // 3 may 98
  F((x) => `${p2(x.d)}.${p2(x.m)}.${x.y}`), // 03.05.1998
  F((x) => `${x.y}/${x.m}/${x.d}`), // 1998/5/3
  F((x) => `${abbr(WEEKDAY(x))} ${x.d} ${abbr(MONTH(x))} ${x.y}`), // Sun 3 May 1998
  F((x) => `${ordinal(x.d)} of ${MONTH(x)}, ${x.y}`), // 3rd of May, 1998
  F((x) => `${MONTH(x).toUpperCase()} ${x.d}, ${x.y}`), // MAY 3, 1998
  F((x) => `${x.d}-${abbr(MONTH(x))}-${yy(x.y)}`, true), // 3-May-98
  F((x) => `${WEEKDAY(x)} ${x.d} ${MONTH(x)} ${x.y}`), // Sunday 3 May 1998
  F((x) => `the ${ordinal(x.d)} of ${MONTH(x)} ${x.y}`), // the 3rd of May 1998
  F((x) => `${abbr(MONTH(x))}. ${x.d}, ${x.y}`), // May. 3, 1998
  F((x) => `${p2(x.d)}-${p2(x.m)}-${yy(x.y)}`, true), // 03-05-98
  F((x) => `${WEEKDAY(x).toLowerCase()}, ${ordinal(x.d)} ${MONTH(x).toLowerCase()} ${x.y}`), // sunday, 3rd may 1998
];

export interface DatesOptions extends TaskOptions {
  /** Years drawn uniformly from [minYear, maxYear] (default 1950..2049, the two-digit-year window). */
  minYear?: number;
  maxYear?: number;
}

function randomDate(g: Generator, minYear: number, maxYear: number): DateParts {
  const start = Date.UTC(minYear, 0, 1) / 86400000;
  const end = Date.UTC(maxYear + 1, 0, 1) / 86400000;
  const t = new Date((start + g.randint(0, end - start)) * 86400000);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), wd: t.getUTCDay() };
}

export function isoDate(x: { y: number; m: number; d: number }): string {
  return `${String(x.y).padStart(4, '0')}-${p2(x.m)}-${p2(x.d)}`;
}

export function datesTask(opts: DatesOptions = {}): TaskSplits {
  opts = checkOptions('datesTask', opts, { minYear: 1, maxYear: 1, seed: 1, train: 1, valid: 1, test: 1 });
  const { minYear = 1950, maxYear = 2049, seed = 0 } = opts;
  if (!(Number.isInteger(minYear) && Number.isInteger(maxYear) && minYear >= 1000 && maxYear >= minYear && maxYear <= 9999)) {
    throw new ArgumentError(`dates: need 1000 <= minYear <= maxYear <= 9999, got ${minYear}..${maxYear}`);
  }
  // Two-digit years are ambiguous outside one century window: only use them inside 1950..2049.
  const sizes = { train: opts.train ?? 20000, valid: opts.valid ?? 1000, test: opts.test ?? 1000 };
  const splits = drawSplits('dates', sizes, seed, (g) => {
    const x = randomDate(g, minYear, maxYear);
    const formats = x.y >= 1950 && x.y <= 2049 ? DATE_FORMATS : DATE_FORMATS.filter((f) => !f.twoDigitYear);
    const source = pick(g, formats).write(x);
    const target = isoDate(x);
    // The key is the date itself: a date seen in training (in any format) never appears in test.
    return { key: target, example: { source, target, length: Array.from(source).length } };
  });
  return { name: 'dates', description: `human-written dates ${minYear}-${maxYear} -> ISO 8601`, ...splits, sourceTokenizer: 'char', targetTokenizer: 'char' };
}
