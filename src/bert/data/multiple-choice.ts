/**
 * Multiple-choice data (SWAG, RACE-style, HF datasets): a context, N candidate endings or answers,
 * and the index of the right one, from
 *
 *   JSONL   one object per line: {"context" | "sent1" | "article" | "question": str,
 *           "endings" | "choices" | "options": [str, ...] or "ending0" .. "ending{N-1}": str,
 *           "label": int}, with an optional question header ("sent2" beside "sent1", "question"
 *           beside "context" or "article")
 *   CSV/TSV a header row naming the same fields as columns: SWAG's files (video-id, fold-ind,
 *           startphrase, sent1, sent2, gold-source, ending0..ending3, label)
 *
 * Which fields hold what is decided by the first record and required of every other. Each choice is
 * read as Hugging Face's run_swag builds it: the pair (context, header + " " + ending), so the model
 * sees [CLS] context [SEP] header ending [SEP] with token_type_ids 0 then 1. Every example of a file
 * has the same number of choices (the model's input is (B, N, T)); every error names the file, the
 * line and the field.
 */
import { DataFormatError } from '../../data/read.js';
import { ArgumentError } from '../../tensor/errors.js';
import type { BertTokenizer } from '../../text/bert/tokenizer.js';
import { formatOf, jsonlObjects, tableRows, type TableFormat } from './classify.js';
import { checkOptions } from '../../tensor/options.js';

export interface MultipleChoiceReadOptions {
  /** Default: from the file name (.csv; .tsv/.txt; .jsonl/.json/.ndjson). */
  format?: TableFormat;
}

export interface MultipleChoiceExample {
  /** The first segment: the context (or the question when there is no context). */
  context: string;
  /** The second segments: the question header (if any), a space, and the ending. */
  choices: string[];
  /** Index of the right choice. */
  label: number;
  /** 1-based line where the example starts. */
  line: number;
}

export interface MultipleChoiceData {
  file: string;
  format: TableFormat;
  examples: MultipleChoiceExample[];
  /** Choices per example (the same for every example of the file). */
  numChoices: number;
  /** The fields used: context, header (when there is one), choices ("endings" or "ending0..ending3"), label. */
  fields: { context: string; header?: string; choices: string; label: string };
}

const CONTEXT_FIELDS = ['context', 'sent1', 'article'];
const LIST_FIELDS = ['endings', 'choices', 'options'];
const LABEL_FIELD = 'label';

/** One record, JSONL object or CSV row, with where its fields start (for messages). */
interface RecordAt {
  values: Record<string, unknown>;
  line: number;
  column: (key: string) => number;
}

/** Which fields hold what: decided by the first record. */
interface Layout {
  context: string;
  header?: string;
  /** A list field of choices ... */
  list?: string;
  /** ... or one field per ending (ending0, ending1, ...). */
  endings?: string[];
}

function layoutOf(file: string, r: RecordAt): Layout {
  const has = (k: string): boolean => k in r.values;
  const fields = Object.keys(r.values).join(', ') || 'none';
  let context = CONTEXT_FIELDS.find(has);
  let header: string | undefined;
  if (context === undefined) {
    if (!has('question')) throw new DataFormatError(file, r.line, 1, `no context field (looked for ${[...CONTEXT_FIELDS, 'question'].join(', ')}; fields: ${fields})`);
    context = 'question';
  } else if (context === 'sent1') {
    if (has('sent2')) header = 'sent2';
  } else if (has('question')) {
    header = 'question';
  }
  const list = LIST_FIELDS.find(has);
  if (list !== undefined) return { context, ...(header ? { header } : {}), list };
  const endings: string[] = [];
  while (has(`ending${endings.length}`)) endings.push(`ending${endings.length}`);
  if (endings.length === 0) throw new DataFormatError(file, r.line, 1, `no choices (looked for a list field ${LIST_FIELDS.join(', ')}, or ending0, ending1, ...; fields: ${fields})`);
  return { context, ...(header ? { header } : {}), endings };
}

/** The example a record holds under `layout`; `numChoices` is the file's (from its first example). */
function exampleOf(file: string, r: RecordAt, layout: Layout, numChoices: number | null, firstLine: number): MultipleChoiceExample {
  const fail = (key: string, reason: string): never => {
    throw new DataFormatError(file, r.line, key in r.values ? r.column(key) : 1, reason);
  };
  const text = (key: string, what: string, allowEmpty = false): string => {
    if (!(key in r.values)) fail(key, `missing field "${key}" (${what}); the record has ${Object.keys(r.values).join(', ') || 'no fields'}`);
    const v = r.values[key];
    if (typeof v !== 'string') return fail(key, `field "${key}" (${what}) must be a string, got ${JSON.stringify(v)}`);
    const s = v.trim();
    if (s === '' && !allowEmpty) fail(key, `field "${key}" (${what}) is empty`);
    return s;
  };
  const context = text(layout.context, 'context');
  const header = layout.header === undefined ? '' : text(layout.header, 'question header', true);
  let endings: string[];
  if (layout.list !== undefined) {
    const key = layout.list;
    if (!(key in r.values)) fail(key, `missing field "${key}" (choices); the record has ${Object.keys(r.values).join(', ')}`);
    const v = r.values[key];
    if (!Array.isArray(v)) return fail(key, `field "${key}" (choices) must be a list of strings, got ${JSON.stringify(v)}`);
    endings = v.map((c, k) => {
      if (typeof c !== 'string' || c.trim() === '') fail(key, `field "${key}"[${k}] (choice ${k}) must be a non-empty string, got ${JSON.stringify(c)}`);
      return (c as string).trim();
    });
  } else {
    endings = layout.endings!.map((key, k) => text(key, `choice ${k}`));
  }
  const choicesField = layout.list ?? `${layout.endings![0]}..${layout.endings![layout.endings!.length - 1]}`;
  if (endings.length < 2) fail(choicesField, `${endings.length} choice${endings.length === 1 ? '' : 's'} in "${choicesField}"; multiple choice needs at least 2`);
  if (numChoices !== null && endings.length !== numChoices) {
    fail(choicesField, `${endings.length} choices in "${choicesField}", but the example on line ${firstLine} has ${numChoices}; every example of a file needs the same number of choices`);
  }
  if (!(LABEL_FIELD in r.values)) fail(LABEL_FIELD, `missing field "${LABEL_FIELD}" (the index of the right choice); the record has ${Object.keys(r.values).join(', ')}`);
  const raw = r.values[LABEL_FIELD];
  const label = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(label)) fail(LABEL_FIELD, `field "${LABEL_FIELD}" must be an integer choice index, got ${JSON.stringify(raw)}`);
  if (label < 0 || label >= endings.length) fail(LABEL_FIELD, `label ${label} is out of range: ${endings.length} choices, so 0..${endings.length - 1}`);
  // run_swag: f"{header} {ending}" as the second sentence.
  return { context, choices: endings.map((e) => (header ? `${header} ${e}` : e)), label, line: r.line };
}

function jsonlRecords(file: string): RecordAt[] {
  return jsonlObjects(file).map(({ rec, line }) => ({ values: rec, line, column: () => 1 }));
}

function tableRecords(file: string, format: 'csv' | 'tsv'): RecordAt[] {
  const rows = tableRows(file, format);
  if (rows.length === 0) throw new DataFormatError(file, 0, 0, 'empty file: no rows');
  const header = rows[0]!.fields.map((f) => f.trim());
  return rows.slice(1).map((row) => {
    // A short row lacks its last columns: they are missing fields, reported as such.
    const values: Record<string, unknown> = {};
    header.forEach((name, k) => { if (k < row.fields.length) values[name] = row.fields[k]; });
    return { values, line: row.line, column: (key: string) => row.starts[header.indexOf(key)] ?? 1 };
  });
}

/** Reads labelled multiple-choice examples (see the file comment for the accepted fields). */
export function readMultipleChoiceFile(file: string, options: MultipleChoiceReadOptions = {}): MultipleChoiceData {
  options = checkOptions('readMultipleChoiceFile', options, { format: 1 });
  const format = options.format ?? formatOf(file);
  if (format !== 'csv' && format !== 'tsv' && format !== 'jsonl') throw new ArgumentError(`${file}: format must be csv, tsv or jsonl, got '${String(format)}'`);
  const records = format === 'jsonl' ? jsonlRecords(file) : tableRecords(file, format);
  if (records.length === 0) throw new DataFormatError(file, 0, 0, 'no examples (the file has no data rows)');
  const layout = layoutOf(file, records[0]!);
  const examples: MultipleChoiceExample[] = [];
  for (const r of records) examples.push(exampleOf(file, r, layout, examples[0]?.choices.length ?? null, examples[0]?.line ?? r.line));
  const choices = layout.list ?? `${layout.endings![0]}..${layout.endings![layout.endings!.length - 1]}`;
  return {
    file, format, examples, numChoices: examples[0]!.choices.length,
    fields: { context: layout.context, ...(layout.header ? { header: layout.header } : {}), choices, label: LABEL_FIELD },
  };
}

/** An example as model inputs: one [CLS] context [SEP] choice [SEP] sequence per choice. */
export interface MultipleChoiceFeature {
  /** Token ids of each choice's pair (unpadded). */
  ids: Int32Array[];
  /** token_type_ids of each pair: 0 on [CLS] context [SEP], 1 on choice [SEP]. */
  types: Int32Array[];
  label: number;
}

/** Encodes every (context, choice) pair, truncated longest-first to maxSeqLength as run_swag does. */
export function multipleChoiceFeatures(examples: readonly MultipleChoiceExample[], tokenizer: BertTokenizer, maxSeqLength: number): MultipleChoiceFeature[] {
  return examples.map((e) => {
    const encoded = e.choices.map((c) => tokenizer.encode(e.context, c, { maxLength: maxSeqLength, truncation: true }));
    return { ids: encoded.map((x) => Int32Array.from(x.inputIds)), types: encoded.map((x) => Int32Array.from(x.tokenTypeIds)), label: e.label };
  });
}
