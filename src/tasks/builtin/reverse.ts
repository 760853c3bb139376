/** `reverse`: a sequence of letters, reversed ("c a t" -> "t a c"). The smoke test of every model. */
import { ArgumentError } from '../../tensor/errors.js';
import { type TaskOptions, type TaskSplits, drawSplits } from './splits.js';
import { checkOptions } from '../../tensor/options.js';

export interface ReverseOptions extends TaskOptions {
  minLength?: number;
  maxLength?: number;
  /** How many distinct symbols (letters a, b, c, ...), at most 26. Default 10. */
  symbols?: number;
}

export function reverseTask(opts: ReverseOptions = {}): TaskSplits {
  opts = checkOptions('reverseTask', opts, { minLength: 1, maxLength: 1, symbols: 1, seed: 1, train: 1, valid: 1, test: 1 });
  const { minLength = 1, maxLength = 12, symbols = 10, seed = 0 } = opts;
  if (!(minLength >= 1 && maxLength >= minLength && symbols >= 2 && symbols <= 26)) {
    throw new ArgumentError(`reverse: need 1 <= minLength <= maxLength and 2 <= symbols <= 26, got ${minLength}..${maxLength}, ${symbols}`);
  }
  const alphabet = 'abcdefghijklmnopqrstuvwxyz'.slice(0, symbols).split('');
  const sizes = { train: opts.train ?? 10000, valid: opts.valid ?? 500, test: opts.test ?? 1000 };
  const splits = drawSplits('reverse', sizes, seed, (g) => {
    const len = g.randint(minLength, maxLength + 1);
    const seq = Array.from({ length: len }, () => alphabet[g.randint(0, alphabet.length)]!);
    const source = seq.join(' ');
    return { key: source, example: { source, target: [...seq].reverse().join(' '), length: len } };
  });
  return { name: 'reverse', description: `reverse ${minLength}-${maxLength} symbols`, ...splits, sourceTokenizer: 'word', targetTokenizer: 'word' };
}
