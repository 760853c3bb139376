/**
 * Readers for parallel corpora: one TSV file (pick the source and target columns; Anki's
 * `en\tzh\tattribution` works) or two line-aligned files (`train.de` + `train.en`), gzip accepted.
 * Bytes are split into lines first and each line decoded as strict UTF-8, so a bad byte is
 * reported with its file, line and column. A bad line is an error, or, with `onBadLine: 'skip'`,
 * skipped and counted by reason in the result; nothing is dropped silently.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ZhuyiError } from '../tensor/errors.js';
import { checkOptions } from '../tensor/options.js';

/** A malformed data file. `file`, `line` (1-based) and `column` (1-based, in characters; bytes for bad UTF-8) are also fields. */
export class DataFormatError extends ZhuyiError {
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly reason: string) {
    super(line > 0 ? `${file}:${line}:${column}: ${reason}` : `${file}: ${reason}`);
  }
}

export interface ParallelPair {
  source: string;
  target: string;
  /** 1-based line number in the file(s), for messages and debugging. */
  line: number;
}

export type BadLineReason = 'missing-column' | 'empty-side' | 'invalid-utf8';

export interface ParallelCorpus {
  pairs: ParallelPair[];
  /** Lines skipped with `onBadLine: 'skip'`, by reason (all zero otherwise). */
  skipped: Record<BadLineReason, number>;
  /** Total skipped; print it: nothing is dropped silently. */
  skippedTotal: number;
  files: string[];
}

export interface ReadOptions {
  /** `error` (default) throws DataFormatError at the first bad line; `skip` counts it and goes on. */
  onBadLine?: 'error' | 'skip';
  /** Trim spaces around each field (default true). */
  trim?: boolean;
}

export interface TsvOptions extends ReadOptions {
  /** 0-based column of the source text (default 0). */
  sourceColumn?: number;
  /** 0-based column of the target text (default 1). */
  targetColumn?: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The file's bytes, gunzipped when they start with the gzip magic number (or the name ends in .gz). */
export function readBytes(file: string): Buffer {
  const raw = readFileSync(file);
  if ((raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) || file.endsWith('.gz')) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw new DataFormatError(file, 0, 0, `not a valid gzip file: ${(e as Error).message}`);
    }
  }
  return raw;
}

export type DecodedLine = { ok: true; text: string } | { ok: false; byteColumn: number };

/** Splits into lines (LF; a CR before it is dropped, a UTF-8 BOM at the start too); the last newline ends a line, it does not start one. */
export function splitLines(bytes: Uint8Array): DecodedLine[] {
  const lines: DecodedLine[] = [];
  let start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const stop = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
    lines.push(decodeLine(bytes.subarray(start, stop)));
    start = end + 1;
  }
  return lines;
}

function decodeLine(bytes: Uint8Array): DecodedLine {
  try {
    return { ok: true, text: UTF8.decode(bytes) };
  } catch {
    // Find the first byte where decoding breaks, for the column in the message.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      // A fresh decoder per probe: stream mode tolerates a character cut at the end, not a bad byte.
      try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true }); lo = mid; } catch { hi = mid - 1; }
    }
    if (lo === bytes.length) {
      // Every prefix decodes: the line ends inside a multi-byte character; point at its lead byte.
      lo = bytes.length - 1;
      while (lo > 0 && (bytes[lo]! & 0xc0) === 0x80) lo--;
    }
    return { ok: false, byteColumn: lo + 1 };
  }
}

class BadLines {
  readonly skipped: Record<BadLineReason, number> = { 'missing-column': 0, 'empty-side': 0, 'invalid-utf8': 0 };
  constructor(private readonly mode: 'error' | 'skip') {}
  report(reason: BadLineReason, file: string, line: number, column: number, message: string): void {
    if (this.mode === 'error') throw new DataFormatError(file, line, column, `${message} (pass onBadLine: 'skip' to skip such lines)`);
    this.skipped[reason]++;
  }
  total(): number {
    return Object.values(this.skipped).reduce((a, b) => a + b, 0);
  }
}

/** Reads a TSV of parallel sentences. Extra columns (Anki's attribution) are ignored. */
export function readParallelTsv(file: string, opts: TsvOptions = {}): ParallelCorpus {
  opts = checkOptions('readParallelTsv', opts, { sourceColumn: 1, targetColumn: 1, onBadLine: 1, trim: 1 });
  const { sourceColumn = 0, targetColumn = 1, trim = true } = opts;
  const bad = new BadLines(opts.onBadLine ?? 'error');
  const lines = splitLines(readBytes(file));
  if (lines.length === 0) throw new DataFormatError(file, 0, 0, 'empty file: no sentence pairs');
  const need = Math.max(sourceColumn, targetColumn) + 1;
  const pairs: ParallelPair[] = [];
  lines.forEach((l, i) => {
    const n = i + 1;
    if (!l.ok) return bad.report('invalid-utf8', file, n, l.byteColumn, `invalid UTF-8 at byte ${l.byteColumn}`);
    const cols = l.text.split('\t');
    if (cols.length < need) {
      const what = cols.length === 1 ? 'no tab' : `${cols.length} columns`;
      return bad.report('missing-column', file, n, [...l.text].length + 1, `${what}, expected at least ${need} tab-separated columns (source column ${sourceColumn}, target column ${targetColumn})`);
    }
    const get = (c: number) => (trim ? cols[c]!.trim() : cols[c]!);
    const source = get(sourceColumn);
    const target = get(targetColumn);
    if (source === '' || target === '') {
      const c = source === '' ? sourceColumn : targetColumn;
      const column = [...cols.slice(0, c).join('\t')].length + (c > 0 ? 2 : 1);
      return bad.report('empty-side', file, n, column, `empty ${source === '' ? 'source' : 'target'} (column ${c})`);
    }
    pairs.push({ source, target, line: n });
  });
  return { pairs, skipped: bad.skipped, skippedTotal: bad.total(), files: [file] };
}

/** Reads two line-aligned files (`.gz` accepted); line i of one translates line i of the other. */
export function readParallelFiles(sourceFile: string, targetFile: string, opts: ReadOptions = {}): ParallelCorpus {
  opts = checkOptions('readParallelFiles', opts, { onBadLine: 1, trim: 1 });
  const { trim = true } = opts;
  const bad = new BadLines(opts.onBadLine ?? 'error');
  const src = splitLines(readBytes(sourceFile));
  const tgt = splitLines(readBytes(targetFile));
  if (src.length === 0) throw new DataFormatError(sourceFile, 0, 0, 'empty file: no sentences');
  if (tgt.length === 0) throw new DataFormatError(targetFile, 0, 0, 'empty file: no sentences');
  if (src.length !== tgt.length) {
    const shorter = src.length < tgt.length ? sourceFile : targetFile;
    throw new DataFormatError(shorter, Math.min(src.length, tgt.length) + 1, 1,
      `files are not line-aligned: ${sourceFile} has ${src.length} lines, ${targetFile} has ${tgt.length}`);
  }
  const pairs: ParallelPair[] = [];
  for (let i = 0; i < src.length; i++) {
    const n = i + 1;
    const s = src[i]!;
    const t = tgt[i]!;
    if (!s.ok) { bad.report('invalid-utf8', sourceFile, n, s.byteColumn, `invalid UTF-8 at byte ${s.byteColumn}`); continue; }
    if (!t.ok) { bad.report('invalid-utf8', targetFile, n, t.byteColumn, `invalid UTF-8 at byte ${t.byteColumn}`); continue; }
    const source = trim ? s.text.trim() : s.text;
    const target = trim ? t.text.trim() : t.text;
    if (source === '') { bad.report('empty-side', sourceFile, n, 1, 'empty line'); continue; }
    if (target === '') { bad.report('empty-side', targetFile, n, 1, 'empty line'); continue; }
    pairs.push({ source, target, line: n });
  }
  return { pairs, skipped: bad.skipped, skippedTotal: bad.total(), files: [sourceFile, targetFile] };
}
