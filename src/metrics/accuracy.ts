/** Exact-match accuracy, overall and per length bucket (the per-length table of `translate eval`). */
import { ArgumentError } from '../tensor/errors.js';
import { checkOptions } from '../tensor/options.js';

export interface ExactMatchOptions {
  /** Compare after collapsing runs of whitespace and trimming (default true): "a  b " equals "a b". */
  normalizeWhitespace?: boolean;
  lowercase?: boolean;
}

function norm(s: string, o: ExactMatchOptions): string {
  let t = o.normalizeWhitespace ?? true ? s.trim().split(/\s+/u).join(' ') : s;
  if (o.lowercase) t = t.toLowerCase();
  return t;
}

/** Fraction (0..1) of hypotheses equal to their reference. An empty corpus is an error, not NaN. */
export function exactMatch(hypotheses: readonly string[], references: readonly string[], opts: ExactMatchOptions = {}): number {
  opts = checkOptions('exactMatch', opts, { normalizeWhitespace: 1, lowercase: 1 });
  if (hypotheses.length !== references.length) throw new ArgumentError(`exactMatch: ${hypotheses.length} hypotheses but ${references.length} references`);
  if (hypotheses.length === 0) throw new ArgumentError('exactMatch: no sentences');
  let hits = 0;
  for (let i = 0; i < hypotheses.length; i++) if (norm(hypotheses[i]!, opts) === norm(references[i]!, opts)) hits++;
  return hits / hypotheses.length;
}

export interface LengthRow {
  length: number;
  count: number;
  correct: number;
  accuracy: number;
}

/** Exact match grouped by a length per example (e.g. the task's `length` field), sorted by length. */
export function exactMatchByLength(
  hypotheses: readonly string[], references: readonly string[], lengths: readonly number[], opts: ExactMatchOptions = {},
): LengthRow[] {
  opts = checkOptions('exactMatchByLength', opts, { normalizeWhitespace: 1, lowercase: 1 });
  if (hypotheses.length !== references.length || lengths.length !== references.length) {
    throw new ArgumentError(`exactMatchByLength: ${hypotheses.length} hypotheses, ${references.length} references, ${lengths.length} lengths`);
  }
  const rows = new Map<number, LengthRow>();
  for (let i = 0; i < hypotheses.length; i++) {
    const row = rows.get(lengths[i]!) ?? { length: lengths[i]!, count: 0, correct: 0, accuracy: 0 };
    row.count++;
    if (norm(hypotheses[i]!, opts) === norm(references[i]!, opts)) row.correct++;
    rows.set(row.length, row);
  }
  return [...rows.values()].sort((a, b) => a.length - b.length).map((r) => ({ ...r, accuracy: r.correct / r.count }));
}
