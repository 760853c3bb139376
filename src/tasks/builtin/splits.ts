/**
 * What every built-in task returns, and the one way splits are drawn: candidates come from a
 * seeded Generator, each carries a key (the underlying value: the number, the date, the
 * sequence), and no key is used twice across train, valid and test, so held-out scores measure
 * generalisation. Test is drawn first, then valid, then train, so the evaluation sets do not
 * change when only the training size changes.
 */
import { ArgumentError } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';

export interface TaskExample {
  source: string;
  target: string;
  /** The length the task is graded by (digits for numbers, tokens for reverse, characters for dates). */
  length: number;
}

export interface TaskSplits {
  name: string;
  description: string;
  train: TaskExample[];
  valid: TaskExample[];
  test: TaskExample[];
  /** The tokenization the task is meant for: source and target tokenizer kinds. */
  sourceTokenizer: 'char' | 'word';
  targetTokenizer: 'char' | 'word';
}

export interface TaskSizes {
  train?: number;
  valid?: number;
  test?: number;
}

export interface TaskOptions extends TaskSizes {
  /** Seed: the same seed and options give the same splits. Default 0. */
  seed?: number;
}

/** Draws disjoint splits from `draw`, which returns a key and an example for a random generator. */
export function drawSplits(
  task: string, sizes: Required<TaskSizes>, seed: number, draw: (g: Generator) => { key: string; example: TaskExample },
  heldOutCap?: (length: number) => number,
  trainRepeats = false,
): Pick<TaskSplits, 'train' | 'valid' | 'test'> {
  // Held-out examples of one length may take at most heldOutCap(length) (test and valid together):
  // where a length has few distinct examples (1-digit numbers), a disjoint test set would otherwise
  // take all of them and leave the model nothing of that length to learn from.
  const heldOut = new Map<number, number>();
  const g = new Generator(seed);
  const used = new Set<string>();
  const heldOutKeys = new Set<string>();
  const out = { train: [] as TaskExample[], valid: [] as TaskExample[], test: [] as TaskExample[] };
  for (const split of ['test', 'valid', 'train'] as const) {
    const want = sizes[split];
    if (!(Number.isInteger(want) && want >= 0)) throw new ArgumentError(`${task}: ${split} size must be a non-negative integer, got ${want}`);
    let attempts = 0;
    const limit = 50 * want + 1000;
    while (out[split].length < want) {
      if (++attempts > limit) {
        throw new ArgumentError(`${task}: could only draw ${out[split].length} distinct ${split} examples of ${want} (${used.size} used in all); widen the task's range or ask for fewer`);
      }
      const { key, example } = draw(g);
      // With trainRepeats, training examples may repeat (lengths with few distinct examples keep
      // their share of the data) but never equal a held-out one.
      if (used.has(key) && !(trainRepeats && split === 'train' && !heldOutKeys.has(key))) continue;
      if (heldOutCap && split !== 'train') {
        const n = heldOut.get(example.length) ?? 0;
        if (n >= heldOutCap(example.length)) continue;
        heldOut.set(example.length, n + 1);
      }
      used.add(key);
      if (split !== 'train') heldOutKeys.add(key);
      out[split].push(example);
    }
  }
  return out;
}

/** A uniform choice from a list. */
export function pick<T>(g: Generator, items: readonly T[]): T {
  return items[g.randint(0, items.length)]!;
}
