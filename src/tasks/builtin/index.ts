/** The built-in tasks: generated from a seed, no download. `builtinTask(name, options)` picks one by name. */
import { ArgumentError } from '../../tensor/errors.js';
import { type DatesOptions, datesTask } from './dates.js';
import { type NumbersOptions, numbersTask } from './numbers.js';
import { numbersZhTask } from './numbers-zh.js';
import { type ReverseOptions, reverseTask } from './reverse.js';
import type { TaskSplits } from './splits.js';
import { checkOptions } from '../../tensor/options.js';

export { datesTask, isoDate, DATE_FORMATS, type DatesOptions } from './dates.js';
export { numbersTask, numberToWords, withCommas, MAX_NUMBER_DIGITS, type NumbersOptions } from './numbers.js';
export { numbersZhTask, numberToChinese, MAX_CHINESE_NUMBER_DIGITS } from './numbers-zh.js';
export { reverseTask, type ReverseOptions } from './reverse.js';
export { type TaskExample, type TaskSplits, type TaskSizes, type TaskOptions } from './splits.js';

export const BUILTIN_TASKS = ['dates', 'numbers', 'numbers-zh', 'reverse'] as const;
export type BuiltinTaskName = (typeof BUILTIN_TASKS)[number];

export function builtinTask(name: string, options: DatesOptions & NumbersOptions & ReverseOptions = {}): TaskSplits {
  options = checkOptions('builtinTask', options, { minYear: 1, maxYear: 1, seed: 1, train: 1, valid: 1, test: 1, minDigits: 1, maxDigits: 1, commas: 1, minLength: 1, maxLength: 1, symbols: 1 });
  switch (name) {
    case 'dates': return datesTask(options);
    case 'numbers': return numbersTask(options);
    case 'numbers-zh': return numbersZhTask(options);
    case 'reverse': return reverseTask(options);
    default: throw new ArgumentError(`unknown built-in task '${name}' (expected one of ${BUILTIN_TASKS.join(', ')})`);
  }
}
