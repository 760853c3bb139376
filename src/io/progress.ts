/**
 * One progress bar for everything that takes more than a few seconds (training, evaluation,
 * decoding, data preparation, downloads), drawn on stderr and only in a terminal: never when stderr
 * is piped or redirected, and never in `--json` mode (the CLI calls `setProgress('off')`), so
 * stdout stays the program's output and logs stay clean.
 *
 *   const bar = progressBar({ label: 'translating', total: sentences.length });
 *   for (...) bar.increment(batch.length);
 *   bar.stop();
 *
 * Whether to draw, first rule that applies: setProgress('off') (--json); the caller's `enabled`;
 * ZHUYI_PROGRESS=1 (draw even without a terminal, for tests and logs that want it) or 0 (never);
 * otherwise stderr being a TTY. A bar started while another is drawn (validation decoding inside
 * training) does not draw a second line: it shows as the outer bar's `{detail}` and clears it at stop.
 */
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** What is being done: 'translating', 'downloading model.safetensors'. */
  label: string;
  /** Units of work (sentences, batches, bytes). 0 or unknown: the bar shows the count only. */
  total: number;
  /** 'bytes' formats the count and a rate in kB/MB (default 'items'). */
  unit?: 'items' | 'bytes';
  /** Where the bar starts (a resumed download's bytes already there). */
  start?: number;
  /** A cli-progress format of its own (fields {bar} {value} {total} {eta_formatted} and the payload's); `{detail}` is appended. */
  format?: string;
  /** Fields for the format. */
  payload?: Record<string, string | number>;
  /** Draw or not, overriding ZHUYI_PROGRESS and the TTY test (setProgress('off') still wins). */
  enabled?: boolean;
}

export interface ProgressBar {
  /** Advances by n (default 1), with new payload fields. */
  increment(n?: number, payload?: Record<string, string | number>): void;
  /** Sets the count, with new payload fields. */
  update(value: number, payload?: Record<string, string | number>): void;
  /** Ends the bar (a nested bar clears its part of the outer one). Safe to call twice. */
  stop(): void;
  /** True when this bar draws (or shows inside an outer bar). */
  readonly drawing: boolean;
}

type Mode = 'auto' | 'on' | 'off';
let mode: Mode = 'auto';

/** 'off' for `--json` (and anything else that must keep stderr quiet); 'auto' (default) decides per bar. */
export function setProgress(m: Mode): void {
  mode = m;
}

/** Whether a bar with these options would draw. */
export function progressEnabled(enabled?: boolean, env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): boolean {
  if (mode === 'off') return false;
  if (mode === 'on') return true;
  if (enabled !== undefined) return enabled;
  if (env.ZHUYI_PROGRESS === '1') return true;
  if (env.ZHUYI_PROGRESS === '0') return false;
  return isTTY;
}

/** 1536 -> '1.5 kB', 12_345_678 -> '12.3 MB' (decimal units, as huggingface_hub's bars). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

const NONE: ProgressBar = { increment() {}, update() {}, stop() {}, drawing: false };

/** The bar drawn now, if any: nested bars report into it. */
let active: { bar: cliProgress.SingleBar; redraw: (detail: string) => void } | null = null;

/** Whole percent of value/total: without a terminal, a bar is redrawn (one line) only when this, or the detail, changes. */
const percent = (value: number, total: number): number => (total > 0 ? Math.floor((100 * value) / total) : value);

export function progressBar(o: ProgressOptions): ProgressBar {
  if (mode === 'off' || o.enabled === false) return NONE;
  // Inside a bar that draws, a nested one always shows (as part of that line).
  if (!active && !progressEnabled(o.enabled)) return NONE;
  const bytes = o.unit === 'bytes';
  const total = Math.max(0, o.total);
  const started = performance.now();
  let value = o.start ?? 0;
  const startValue = value;
  const fields = (extra?: Record<string, string | number>): Record<string, string | number> => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? (value - startValue) / seconds : 0;
    return {
      ...(bytes ? { done: formatBytes(value), size: total ? formatBytes(total) : '?', rate: `${formatBytes(Math.round(rate))}/s` } : {}),
      ...o.payload, ...extra,
    };
  };

  if (active) {
    // Inside another bar: one line, the outer bar's {detail}.
    const outer = active;
    let stopped = false;
    const show = (): void => {
      const count = bytes ? `${formatBytes(value)}${total ? `/${formatBytes(total)}` : ''}` : `${value}${total ? `/${total}` : ''}`;
      outer.bar.update({ detail: ` | ${o.label} ${count}` });
      outer.redraw(`${o.label} ${percent(value, total)}`);
    };
    show();
    return {
      drawing: true,
      increment(n = 1) { value += n; show(); },
      update(v) { value = v; show(); },
      stop() {
        if (stopped) return;
        stopped = true;
        outer.bar.update({ detail: '' });
        outer.redraw('');
      },
    };
  }

  const format = `${o.format ?? (bytes
    ? `${o.label} |{bar}| {done}/{size} | {rate} | ETA {eta_formatted}`
    : `${o.label} |{bar}| {value}/{total} | ETA {eta_formatted}`)}{detail}`;
  // In a terminal cli-progress redraws the line in place. Forced without one (ZHUYI_PROGRESS=1), it
  // writes lines: here one per whole percent (or detail change), so a log gets at most ~100 per bar
  // and the same run always writes the same lines; its own timer adds one every 10 s.
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar({
    format, stream: process.stderr, hideCursor: true, etaBuffer: 50, noTTYOutput: !tty, notTTYSchedule: 10_000,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, value, { detail: '', ...fields() });
  let drawn = `${percent(value, total)}|`;
  let detail = '';
  const redraw = (nextDetail: string): void => {
    detail = nextDetail;
    const now = `${percent(value, total)}|${detail}`;
    if (tty || now === drawn) return;
    drawn = now;
    bar.render();
  };
  const self = { bar, redraw };
  active = self;
  let stopped = false;
  return {
    drawing: true,
    increment(n = 1, payload) { value += n; bar.update(value, fields(payload)); redraw(detail); },
    update(v, payload) { value = v; bar.update(value, fields(payload)); redraw(detail); },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
      if (active === self) active = null;
    },
  };
}

/**
 * The items of `items` with a bar that advances by `size(item)` (default 1) per item; the bar stops
 * when the loop ends, early or not.
 */
export function* withProgress<T>(items: Iterable<T>, o: ProgressOptions & { size?: (item: T) => number }): Generator<T> {
  const { size, ...options } = o;
  const bar = progressBar(options);
  try {
    for (const item of items) {
      yield item;
      bar.increment(size ? size(item) : 1);
    }
  } finally {
    bar.stop();
  }
}
