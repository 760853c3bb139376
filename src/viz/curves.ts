/**
 * Training curves from a run folder's log.jsonl (src/train/trainer.ts writes it): one JSON object
 * per line, either a training line
 *   { step, epoch, train_loss, lr, tokens_per_s, grad_norm? }
 * or a validation line at an epoch end, with the task's metrics
 *   { step, epoch, valid_loss, bleu, chrf, exact_match }               translation
 *   { step, epoch, valid_loss, mlm_loss, nsp_loss, mlm_accuracy, nsp_accuracy }   BERT pretraining
 *   { step, epoch, valid_loss, accuracy }  (classification), f1 / precision / recall (NER, QA) ...
 */
import { existsSync, readFileSync } from 'node:fs';
import { ZhuyiError } from '../tensor/errors.js';
import { lineChart, type Series } from './svg.js';

export type LogEntry = Record<string, number>;

/**
 * Reads log.jsonl. A half-written last line (the run is still writing) is skipped; any other line
 * that is not a JSON object is an error naming the file and line.
 */
export function readTrainingLog(path: string): LogEntry[] {
  if (!existsSync(path)) throw new ZhuyiError(`${path}: no such file`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const entries: LogEntry[] = [];
  lines.forEach((line, k) => {
    if (!line.trim()) return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (e) {
      if (k === lines.length - 1) return; // no newline yet: still being written
      throw new ZhuyiError(`${path}:${k + 1}: not a JSON line (${(e as Error).message})`);
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ZhuyiError(`${path}:${k + 1}: expected a JSON object`);
    entries.push(entry as LogEntry);
  });
  return entries;
}

/** Metrics drawn as percentages (fractions in [0, 1] are scaled by 100; QA logs them as % already). */
const ACCURACY_KEYS = ['accuracy', 'exact_match', 'mlm_accuracy', 'nsp_accuracy', 'f1', 'precision', 'recall'];
const SCORE_KEYS = ['bleu', 'chrf'];
const LABEL: Record<string, string> = {
  train_loss: 'train loss', valid_loss: 'valid loss', bleu: 'BLEU', chrf: 'chrF', accuracy: 'accuracy', exact_match: 'exact match',
  mlm_accuracy: 'MLM accuracy', nsp_accuracy: 'NSP accuracy', f1: 'F1', precision: 'precision', recall: 'recall', lr: 'learning rate',
};

function series(entries: readonly LogEntry[], key: string, scale = 1): Series | null {
  const points = entries
    .filter((e) => typeof e[key] === 'number' && Number.isFinite(e[key]) && typeof e.step === 'number')
    .map((e) => [e.step!, e[key]! * scale] as [number, number]);
  return points.length ? { name: LABEL[key] ?? key, points } : null;
}

const present = (s: Array<Series | null>): Series[] => s.filter((x): x is Series => x !== null);

/** The charts a log supports, in order: loss, BLEU / chrF, accuracy-like metrics, learning rate. */
export function trainingCurves(entries: readonly LogEntry[]): Array<{ name: string; svg: string }> {
  const charts: Array<{ name: string; svg: string }> = [];
  const loss = present([series(entries, 'train_loss'), series(entries, 'valid_loss')]);
  if (loss.length) {
    const positive = loss.every((s) => s.points.every((p) => p[1] > 0));
    charts.push({ name: 'loss', svg: lineChart(loss, { title: 'Loss', xLabel: 'step', yLabel: 'cross-entropy', logY: positive }) });
  }
  const scores = present(SCORE_KEYS.map((k) => series(entries, k)));
  if (scores.length) charts.push({ name: 'bleu', svg: lineChart(scores, { title: 'Validation BLEU / chrF', xLabel: 'step', yLabel: 'score', yMin: 0 }) });
  const accuracy = present(ACCURACY_KEYS.map((k) => {
    const values = entries.map((e) => e[k]).filter((v): v is number => typeof v === 'number');
    return series(entries, k, values.length && values.every((v) => v <= 1) ? 100 : 1);
  }));
  if (accuracy.length) charts.push({ name: 'accuracy', svg: lineChart(accuracy, { title: 'Validation accuracy', xLabel: 'step', yLabel: '%', yMin: 0, yMax: 100 }) });
  const lr = present([series(entries, 'lr')]);
  if (lr.length) charts.push({ name: 'lr', svg: lineChart(lr, { title: 'Learning rate', xLabel: 'step', yLabel: 'lr', yMin: 0 }) });
  return charts;
}
