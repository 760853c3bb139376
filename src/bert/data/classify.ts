/**
 * Sequence-classification data: a text (and optionally a second text) and a label per example, from
 *
 *   CSV     RFC 4180: comma-separated, fields may be "quoted" ("" inside quotes is a quote, and a
 *           quoted field may span lines); the first row names the columns
 *   TSV     tab-separated, no quoting (GLUE's files: SST-2, ChnSentiCorp); the first row names the columns
 *   JSONL   one JSON object per line; the fields are keys
 *
 * Columns are chosen by name (or by 0-based index for files without a header row). Without a text
 * column the first of text, sentence, text_a, sentence1, review, content is used (and its partner
 * text_b / sentence2 as the pair when present); the label column defaults to `label`.
 *
 * The label set comes from the training data: string labels sorted (numerically when they are all
 * integers), ids in that order; it is what the model's config stores as id2label / label2id.
 * Every error names the file, the line and the field.
 */
import { DataFormatError, readBytes, splitLines } from '../../data/read.js';
import { ArgumentError } from '../../tensor/errors.js';
import { checkOptions } from '../../tensor/options.js';

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

export interface ClassificationReadOptions {
  /** Default: from the file name (.csv; .tsv/.txt; .jsonl/.json/.ndjson; a trailing .gz is ignored). */
  format?: TableFormat;
  /** Column name (or 0-based index) of the text. */
  textColumn?: string;
  /** Column of the second text of a pair task (optional). */
  textPairColumn?: string;
  /** Column of the label (default "label"). */
  labelColumn?: string;
  /** CSV/TSV: the first row holds column names (default true). */
  header?: boolean;
  /** Labels required (default true); false reads unlabeled files for prediction. */
  requireLabel?: boolean;
}

export interface ClassificationExample {
  text: string;
  textPair?: string;
  /** The label as written in the file (numbers and booleans of JSONL as strings). */
  label: string;
  /** 1-based line where the example starts. */
  line: number;
}

export interface ClassificationData {
  file: string;
  format: TableFormat;
  examples: ClassificationExample[];
  /** The column (or field) names actually used. */
  columns: { text: string; textPair?: string; label?: string };
}

const TEXT_CANDIDATES = ['text', 'sentence', 'text_a', 'sentence1', 'review', 'content'];
const PAIR_OF: Record<string, string> = { text_a: 'text_b', sentence1: 'sentence2', text: 'text_pair' };

export function formatOf(file: string): TableFormat {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.txt')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.json') || name.endsWith('.ndjson')) return 'jsonl';
  throw new ArgumentError(`${file}: cannot tell the format from the name; give format csv, tsv or jsonl`);
}

/** Reads labelled (or, with requireLabel false, unlabelled) examples for sequence classification. */
export function readClassificationFile(file: string, options: ClassificationReadOptions = {}): ClassificationData {
  options = checkOptions('readClassificationFile', options, { format: 1, textColumn: 1, textPairColumn: 1, labelColumn: 1, header: 1, requireLabel: 1 });
  const format = options.format ?? formatOf(file);
  if (format !== 'csv' && format !== 'tsv' && format !== 'jsonl') throw new ArgumentError(`${file}: format must be csv, tsv or jsonl, got '${String(format)}'`);
  const data = format === 'jsonl' ? readJsonl(file, options) : readTable(file, format, options);
  if (data.examples.length === 0) throw new DataFormatError(file, 0, 0, 'no examples (the file has no data rows)');
  return data;
}

/** @internal A row of a CSV or TSV file. */
export interface Row {
  fields: string[];
  /** Character column (1-based) where each field starts, on the row's first line. */
  starts: number[];
  line: number;
}

/** @internal Rows of a CSV (RFC 4180 quoting) or TSV (no quoting) file, blank lines skipped (data/multiple-choice.ts reads SWAG's CSV with it). */
export function tableRows(file: string, format: 'csv' | 'tsv'): Row[] {
  const lines = splitLines(readBytes(file));
  const rows: Row[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.ok) throw new DataFormatError(file, i + 1, l.byteColumn, `invalid UTF-8 at byte ${l.byteColumn}`);
    if (l.text.trim() === '') continue;
    if (format === 'tsv') {
      const fields = l.text.split('\t');
      const starts: number[] = [];
      let at = 1;
      for (const f of fields) { starts.push(at); at += [...f].length + 1; }
      rows.push({ fields, starts, line: i + 1 });
      continue;
    }
    // CSV: a quoted field may continue on the next lines.
    const startLine = i + 1;
    const fields: string[] = [];
    const starts: number[] = [];
    let field = '';
    let quoted = false;
    let fieldStart = true;
    let text = l.text;
    let pos = 0;
    let col = 1;
    starts.push(1);
    for (;;) {
      if (pos >= text.length) {
        if (!quoted) break;
        // Inside quotes at the end of a line: the field goes on with a newline.
        if (i + 1 >= lines.length) throw new DataFormatError(file, startLine, starts[starts.length - 1]!, `field ${fields.length + 1}: quote opened here is never closed`);
        const next = lines[++i]!;
        if (!next.ok) throw new DataFormatError(file, i + 1, next.byteColumn, `invalid UTF-8 at byte ${next.byteColumn}`);
        field += '\n';
        text = next.text;
        pos = 0;
        continue;
      }
      const c = text[pos]!;
      if (quoted) {
        if (c === '"') {
          if (text[pos + 1] === '"') { field += '"'; pos += 2; continue; }
          quoted = false;
          pos++;
          // After a closing quote only a separator or the end of the row may follow.
          if (pos < text.length && text[pos] !== ',') {
            throw new DataFormatError(file, i + 1, pos + 1, `field ${fields.length + 1}: unexpected ${JSON.stringify(text[pos])} after a closing quote (write "" for a quote inside a quoted field)`);
          }
          continue;
        }
        field += c;
        pos++;
        continue;
      }
      if (c === '"' && fieldStart) { quoted = true; fieldStart = false; pos++; col++; continue; }
      if (c === ',') {
        fields.push(field);
        field = '';
        fieldStart = true;
        pos++;
        col++;
        starts.push(i + 1 === startLine ? col : 1);
        continue;
      }
      field += c;
      fieldStart = false;
      pos++;
      col++;
    }
    fields.push(field);
    rows.push({ fields, starts, line: startLine });
  }
  return rows;
}

function resolveColumn(file: string, spec: string, header: string[] | null, what: string): number {
  if (header) {
    const k = header.indexOf(spec);
    if (k >= 0) return k;
  }
  if (/^\d+$/.test(spec) && (!header || Number(spec) < header.length)) return Number(spec);
  throw new DataFormatError(file, 1, 1, header
    ? `no ${what} column "${spec}" in the header (columns: ${header.join(', ')})`
    : `${what} column "${spec}": without a header row give a 0-based column index`);
}

function readTable(file: string, format: 'csv' | 'tsv', o: ClassificationReadOptions): ClassificationData {
  const rows = tableRows(file, format);
  if (rows.length === 0) throw new DataFormatError(file, 0, 0, 'empty file: no rows');
  const hasHeader = o.header ?? true;
  const header = hasHeader ? rows[0]!.fields.map((f) => f.trim()) : null;
  const body = hasHeader ? rows.slice(1) : rows;
  const names = header ?? rows[0]!.fields.map((_, k) => String(k));
  let textSpec = o.textColumn;
  let pairSpec = o.textPairColumn;
  if (textSpec === undefined) {
    textSpec = header ? TEXT_CANDIDATES.find((c) => header.includes(c)) : '0';
    if (textSpec === undefined) throw new DataFormatError(file, 1, 1, `no text column: give one (columns: ${names.join(', ')}); looked for ${TEXT_CANDIDATES.join(', ')}`);
    const partner = PAIR_OF[textSpec];
    if (pairSpec === undefined && partner && header?.includes(partner)) pairSpec = partner;
  }
  const requireLabel = o.requireLabel ?? true;
  let labelSpec = o.labelColumn ?? (header ? 'label' : '1');
  const textCol = resolveColumn(file, textSpec, header, 'text');
  const pairCol = pairSpec === undefined ? null : resolveColumn(file, pairSpec, header, 'text pair');
  let labelCol: number | null = null;
  if (requireLabel || o.labelColumn !== undefined || header?.includes(labelSpec)) labelCol = resolveColumn(file, labelSpec, header, 'label');
  else labelSpec = '';
  const fieldName = (k: number): string => (header ? `"${header[k]}"` : `column ${k}`);
  const examples: ClassificationExample[] = [];
  for (const r of body) {
    const get = (k: number, what: string): string => {
      if (k >= r.fields.length) {
        const end = r.starts[r.starts.length - 1]! + [...r.fields[r.fields.length - 1]!].length;
        throw new DataFormatError(file, r.line, end, `field ${fieldName(k)} (${what}, column ${k + 1}) missing: the row has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'}${header ? `, the header ${header.length}` : ''}${format === 'tsv' ? ' (tab-separated)' : ''}`);
      }
      const v = r.fields[k]!.trim();
      if (v === '') throw new DataFormatError(file, r.line, r.starts[k] ?? 1, `field ${fieldName(k)} (${what}) is empty`);
      return v;
    };
    const ex: ClassificationExample = { text: get(textCol, 'text'), label: labelCol === null ? '' : get(labelCol, 'label'), line: r.line };
    if (pairCol !== null) ex.textPair = get(pairCol, 'text pair');
    examples.push(ex);
  }
  const columns: ClassificationData['columns'] = { text: names[textCol]! };
  if (pairCol !== null) columns.textPair = names[pairCol]!;
  if (labelCol !== null) columns.label = names[labelCol]!;
  return { file, format, examples, columns };
}

/**
 * The JSON objects of a JSONL file with their 1-based line numbers, blank lines skipped; invalid
 * UTF-8, invalid JSON and non-object lines are errors naming the file and line.
 */
export function jsonlObjects(file: string): Array<{ rec: Record<string, unknown>; line: number }> {
  const out: Array<{ rec: Record<string, unknown>; line: number }> = [];
  splitLines(readBytes(file)).forEach((l, i) => {
    const n = i + 1;
    if (!l.ok) throw new DataFormatError(file, n, l.byteColumn, `invalid UTF-8 at byte ${l.byteColumn}`);
    if (l.text.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(l.text);
    } catch (e) {
      throw new DataFormatError(file, n, 1, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DataFormatError(file, n, 1, `expected a JSON object, got ${Array.isArray(obj) ? 'an array' : JSON.stringify(obj)}`);
    out.push({ rec: obj as Record<string, unknown>, line: n });
  });
  return out;
}

function readJsonl(file: string, o: ClassificationReadOptions): ClassificationData {
  const examples: ClassificationExample[] = [];
  const requireLabel = o.requireLabel ?? true;
  let textField = o.textColumn;
  let pairField = o.textPairColumn;
  const labelField = o.labelColumn ?? 'label';
  for (const { rec, line: n } of jsonlObjects(file)) {
    if (textField === undefined) {
      // The first record decides the field names.
      textField = TEXT_CANDIDATES.find((c) => c in rec);
      if (textField === undefined) throw new DataFormatError(file, n, 1, `no text field: give one (fields: ${Object.keys(rec).join(', ')}); looked for ${TEXT_CANDIDATES.join(', ')}`);
      const partner = PAIR_OF[textField];
      if (pairField === undefined && partner && partner in rec) pairField = partner;
    }
    const str = (key: string, what: string, allowScalar: boolean): string => {
      if (!(key in rec)) throw new DataFormatError(file, n, 1, `missing field "${key}" (${what}); the object has ${Object.keys(rec).join(', ') || 'no fields'}`);
      const v = rec[key];
      let s: string;
      if (typeof v === 'string') s = v.trim();
      else if (allowScalar && (typeof v === 'number' || typeof v === 'boolean')) s = String(v);
      else throw new DataFormatError(file, n, 1, `field "${key}" (${what}) must be a ${allowScalar ? 'string, number or boolean' : 'string'}, got ${JSON.stringify(v)}`);
      if (s === '') throw new DataFormatError(file, n, 1, `field "${key}" (${what}) is empty`);
      return s;
    };
    const ex: ClassificationExample = {
      text: str(textField, 'text', false),
      label: requireLabel || labelField in rec ? str(labelField, 'label', true) : '',
      line: n,
    };
    if (pairField !== undefined) ex.textPair = str(pairField, 'text pair', false);
    examples.push(ex);
  }
  if (textField === undefined) throw new DataFormatError(file, 0, 0, 'empty file: no JSON objects');
  const columns: ClassificationData['columns'] = { text: textField };
  if (pairField !== undefined) columns.textPair = pairField;
  if (requireLabel) columns.label = labelField;
  return { file, format: 'jsonl', examples, columns };
}

/** Labels and their ids, as a BERT config stores them. */
export interface LabelSet {
  /** Label names by id. */
  labels: string[];
  id2label: Record<string, string>;
  label2id: Record<string, number>;
}

/** The label set of the training data: sorted, numerically when every label is an integer. */
export function buildLabelSet(examples: readonly ClassificationExample[]): LabelSet {
  const distinct = [...new Set(examples.map((e) => e.label))];
  const numeric = distinct.every((l) => /^-?\d+$/.test(l));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return labelSetOf(distinct);
}

/** A label set from names in id order. */
export function labelSetOf(labels: readonly string[]): LabelSet {
  return {
    labels: [...labels],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}

/** Label ids of a file's examples; a label outside the set is an error naming the file, line and field. */
export function labelIds(data: ClassificationData, set: LabelSet): number[] {
  return data.examples.map((e) => {
    const id = set.label2id[e.label];
    if (id === undefined) {
      const shown = set.labels.length > 20 ? `${set.labels.slice(0, 20).join(', ')}, ...` : set.labels.join(', ');
      throw new DataFormatError(data.file, e.line, 1, `field "${data.columns.label ?? 'label'}": label ${JSON.stringify(e.label)} does not occur in the training data (labels: ${shown})`);
    }
    return id;
  });
}
