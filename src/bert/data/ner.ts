/**
 * Named-entity recognition data and metrics:
 *
 *   readConllFile   CoNLL-2003 style files: one token per line, columns separated by spaces (or tabs),
 *                   the token in the first column and the label in the last (both can be chosen),
 *                   blank lines between sentences, `-DOCSTART-` lines between documents. Labels are
 *                   BIO (IOB2) or IOB1 (CoNLL-2003's original files) and are read as BIO: an I-X that
 *                   does not continue an X (after O, another type, or at the sentence start) becomes
 *                   B-X, which changes nothing in BIO files.
 *   nerLabelSet     O, then B-TYPE and I-TYPE for each entity type of the training data (sorted).
 *   alignNerWords   WordPiece alignment as Hugging Face's run_ner (label_all_tokens false): each word is
 *                   tokenized on its own, its label goes on its first sub-token, -100 on the others and
 *                   on [CLS] / [SEP]; words past maxSeqLength are cut (and counted).
 *   getEntities /   seqeval's entity-level scores in its default mode (not strict; CoNLL's conlleval
 *   seqevalScores   conventions): spans from its chunk start/end rules, micro-averaged precision,
 *                   recall and F1 over exact (type, start, end) matches, per-type scores, token accuracy.
 *
 * Every error names the file, the line and the column.
 */
import { DataFormatError, readBytes, splitLines } from '../../data/read.js';
import { ArgumentError } from '../../tensor/errors.js';
import type { BertTokenizer } from '../../text/bert/tokenizer.js';
import { labelSetOf, type LabelSet } from './classify.js';
import { checkOptions } from '../../tensor/options.js';

/** The label of tokens that take no part in the loss (HF's -100). */
export const NER_IGNORE_INDEX = -100;

export interface ConllReadOptions {
  /** 0-based column of the token (default 0). */
  tokenColumn?: number;
  /** 0-based column of the label; negative counts from the end (default -1: the last column). */
  labelColumn?: number;
  /** Labels required (default true); false reads a token column alone (for prediction). */
  requireLabels?: boolean;
}

export interface NerSentence {
  tokens: string[];
  /** BIO labels (IOB1 converted); empty strings when labels are not required and absent. */
  labels: string[];
  /** 1-based line of each token. */
  lines: number[];
}

export interface NerData {
  file: string;
  sentences: NerSentence[];
  /** `-DOCSTART-` lines seen. */
  documents: number;
  /** I- labels turned into B- (IOB1 files; 0 for BIO). */
  converted: number;
  /** Columns per token line. */
  columns: number;
  /** The 0-based label column resolved (null without labels). */
  labelColumn: number | null;
}

const BIO = /^([BI])-(.+)$/;

/** The entity type of a BIO label, or null for O. */
export function entityType(label: string): string | null {
  const m = BIO.exec(label);
  return m ? m[2]! : null;
}

/** IOB1 (or loose BIO) to BIO: an I-X not continuing an X becomes B-X. Returns the labels and how many changed. */
export function toBio(labels: readonly string[]): { labels: string[]; converted: number } {
  let prev: string | null = null;
  let converted = 0;
  const out = labels.map((l) => {
    const m = BIO.exec(l);
    if (!m) { prev = null; return l; }
    const type = m[2]!;
    let r = l;
    if (m[1] === 'I' && prev !== type) { r = `B-${type}`; converted++; }
    prev = type;
    return r;
  });
  return { labels: out, converted };
}

/** Reads a CoNLL-2003 style file into sentences. */
export function readConllFile(file: string, options: ConllReadOptions = {}): NerData {
  options = checkOptions('readConllFile', options, { tokenColumn: 1, labelColumn: 1, requireLabels: 1 });
  const tokenColumn = options.tokenColumn ?? 0;
  const labelOption = options.labelColumn ?? -1;
  const requireLabels = options.requireLabels ?? true;
  if (!Number.isInteger(tokenColumn) || tokenColumn < 0) throw new ArgumentError(`${file}: tokenColumn must be a non-negative integer, got ${String(tokenColumn)}`);
  if (!Number.isInteger(labelOption)) throw new ArgumentError(`${file}: labelColumn must be an integer (negative counts from the end), got ${String(labelOption)}`);
  const lines = splitLines(readBytes(file));
  const sentences: NerSentence[] = [];
  let documents = 0;
  let converted = 0;
  let columns = 0;
  let firstLine = 0;
  let labelColumn: number | null = null;
  let cur: { tokens: string[]; labels: string[]; lines: number[] } = { tokens: [], labels: [], lines: [] };
  const flush = (): void => {
    if (cur.tokens.length === 0) return;
    const bio = toBio(cur.labels);
    converted += bio.converted;
    sentences.push({ tokens: cur.tokens, labels: labelColumn === null ? cur.labels : bio.labels, lines: cur.lines });
    cur = { tokens: [], labels: [], lines: [] };
  };
  lines.forEach((l, i) => {
    const n = i + 1;
    if (!l.ok) throw new DataFormatError(file, n, l.byteColumn, `invalid UTF-8 at byte ${l.byteColumn}`);
    if (l.text.trim() === '') { flush(); return; }
    // Fields and their 1-based character columns.
    const fields: string[] = [];
    const starts: number[] = [];
    for (const m of l.text.matchAll(/[^ \t]+/g)) { fields.push(m[0]); starts.push([...l.text.slice(0, m.index)].length + 1); }
    if (fields[0] === '-DOCSTART-') { flush(); documents++; return; }
    if (columns === 0) {
      columns = fields.length;
      firstLine = n;
      if (tokenColumn >= columns) throw new DataFormatError(file, n, 1, `token column ${tokenColumn} (0-based) does not exist: the line has ${columns} column${columns === 1 ? '' : 's'}`);
      const lc = labelOption < 0 ? columns + labelOption : labelOption;
      if (lc >= 0 && lc < columns && lc !== tokenColumn) labelColumn = lc;
      else if (requireLabels) {
        throw new DataFormatError(file, n, 1, columns === 1
          ? 'one column only: expected a token and a label per line, separated by spaces'
          : `label column ${labelOption} (0-based${labelOption < 0 ? ', from the end' : ''}) does not exist or is the token column: the line has ${columns} columns`);
      }
    } else if (fields.length !== columns) {
      throw new DataFormatError(file, n, starts[Math.min(fields.length, columns) - 1] ?? 1, `${fields.length} column${fields.length === 1 ? '' : 's'}, but line ${firstLine} has ${columns} (columns are separated by spaces; a token may not contain one)`);
    }
    let label = '';
    if (labelColumn !== null) {
      label = fields[labelColumn]!;
      if (label !== 'O' && !BIO.test(label)) {
        throw new DataFormatError(file, n, starts[labelColumn]!, `label ${JSON.stringify(label)} is not a BIO or IOB1 tag (O, B-TYPE or I-TYPE)`);
      }
    }
    cur.tokens.push(fields[tokenColumn]!);
    cur.labels.push(label);
    cur.lines.push(n);
  });
  flush();
  if (sentences.length === 0) throw new DataFormatError(file, 0, 0, lines.length === 0 ? 'empty file' : 'no sentences (only blank or -DOCSTART- lines)');
  return { file, sentences, documents, converted, columns, labelColumn };
}

/** O, then B-TYPE, I-TYPE for each entity type in the sentences (types sorted), so both tags of a type exist. */
export function nerLabelSet(sentences: readonly NerSentence[]): LabelSet {
  const types = new Set<string>();
  for (const s of sentences) for (const l of s.labels) { const t = entityType(l); if (t !== null) types.add(t); }
  return labelSetOf(['O', ...[...types].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).flatMap((t) => [`B-${t}`, `I-${t}`])]);
}

/** Label ids per sentence; a label outside the set is an error naming the file and line. */
export function nerLabelIds(data: NerData, set: LabelSet): number[][] {
  return data.sentences.map((s) => s.labels.map((l, k) => {
    const id = set.label2id[l];
    if (id === undefined) {
      const shown = set.labels.length > 20 ? `${set.labels.slice(0, 20).join(', ')}, ...` : set.labels.join(', ');
      throw new DataFormatError(data.file, s.lines[k]!, 1, `label ${JSON.stringify(l)} does not occur in the training data (labels: ${shown})`);
    }
    return id;
  }));
}

// ---- WordPiece alignment ---------------------------------------------------------------------------

export interface NerFeature {
  /** [CLS] pieces [SEP]. */
  ids: Int32Array;
  /** The word's label id on its first piece; -100 on the other pieces and on [CLS] / [SEP] (all -100 without labels). */
  labels: Int32Array;
  /** Position of each word's first piece, -1 when the word has none (cut by maxSeqLength, or no tokens at all). */
  wordStarts: Int32Array;
  /** Words cut by maxSeqLength. */
  truncatedWords: number;
}

/**
 * Aligns words (and their label ids) with WordPiece tokens as HF's run_ner does with
 * is_split_into_words and label_all_tokens false. `cache` (word -> ids) saves re-tokenizing
 * repeated words.
 */
export function alignNerWords(words: readonly string[], labelIds: readonly number[] | null, tokenizer: BertTokenizer, maxSeqLength: number, cache?: Map<string, number[]>): NerFeature {
  if (labelIds && labelIds.length !== words.length) throw new ArgumentError(`alignNerWords: ${words.length} words but ${labelIds.length} labels`);
  if (maxSeqLength < 3) throw new ArgumentError(`alignNerWords: maxSeqLength must be at least 3, got ${maxSeqLength}`);
  const ids: number[] = [tokenizer.convertTokensToIds(tokenizer.clsToken)];
  const labels: number[] = [NER_IGNORE_INDEX];
  const wordStarts = new Int32Array(words.length).fill(-1);
  let truncatedWords = 0;
  const room = maxSeqLength - 1; // leave one for [SEP]
  words.forEach((w, k) => {
    let pieces = cache?.get(w);
    if (!pieces) {
      pieces = tokenizer.convertTokensToIds(tokenizer.tokenize(w));
      cache?.set(w, pieces);
    }
    if (pieces.length === 0) return;
    if (ids.length >= room) { truncatedWords++; return; }
    wordStarts[k] = ids.length;
    pieces.forEach((id, p) => {
      if (ids.length >= room) return;
      ids.push(id);
      labels.push(p === 0 && labelIds ? labelIds[k]! : NER_IGNORE_INDEX);
    });
  });
  ids.push(tokenizer.convertTokensToIds(tokenizer.sepToken));
  labels.push(NER_IGNORE_INDEX);
  return { ids: Int32Array.from(ids), labels: Int32Array.from(labels), wordStarts, truncatedWords };
}

// ---- seqeval -------------------------------------------------------------------------------------

/** An entity: [type, first token, last token] (inclusive), as seqeval's get_entities. */
export type Entity = [string, number, number];

function splitTag(chunk: string): [string, string] {
  // seqeval (prefix tags): tag = chunk[0], type = chunk[1:].split('-', 1)[-1] or '_'.
  const tag = chunk.slice(0, 1);
  const rest = chunk.slice(1);
  const dash = rest.indexOf('-');
  const type = (dash < 0 ? rest : rest.slice(dash + 1)) || '_';
  return [tag, type];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * seqeval's get_entities (default, non-strict mode): chunks of a tag sequence. Sentences (an array
 * of arrays) are joined with an O between them, so offsets index the joined sequence, as in seqeval.
 */
export function getEntities(seq: readonly string[] | readonly (readonly string[])[]): Entity[] {
  const flat: string[] = seq.some((s) => Array.isArray(s))
    ? (seq as readonly (readonly string[])[]).flatMap((s) => [...s, 'O'])
    : [...(seq as readonly string[])];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const chunks: Entity[] = [];
  [...flat, 'O'].forEach((chunk, i) => {
    const [tag, type] = splitTag(chunk);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push([prevType, begin, i - 1]);
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  });
  return chunks;
}

export interface PrfScore {
  precision: number;
  recall: number;
  f1: number;
  /** Gold entities. */
  support: number;
}

export interface SeqevalScores extends PrfScore {
  /** Token accuracy (seqeval's accuracy_score). */
  accuracy: number;
  /** Per entity type, sorted by type. */
  perType: Record<string, PrfScore>;
  trueEntities: number;
  predEntities: number;
  correct: number;
}

function prf(correct: number, pred: number, gold: number): PrfScore {
  // seqeval's _prf_divide with zero_division 0.
  const precision = pred === 0 ? 0 : correct / pred;
  const recall = gold === 0 ? 0 : correct / gold;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: gold };
}

/**
 * seqeval's precision_score / recall_score / f1_score (micro average, default mode) and
 * accuracy_score over sentences of gold and predicted BIO tags.
 */
export function seqevalScores(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): SeqevalScores {
  if (gold.length !== pred.length) throw new ArgumentError(`seqevalScores: ${gold.length} gold sentences but ${pred.length} predicted`);
  let tokens = 0;
  let right = 0;
  gold.forEach((g, k) => {
    const p = pred[k]!;
    if (g.length !== p.length) throw new ArgumentError(`seqevalScores: sentence ${k} has ${g.length} gold tags but ${p.length} predicted`);
    g.forEach((t, j) => { tokens++; if (t === p[j]) right++; });
  });
  const key = (e: Entity): string => `${e[0]}\u0000${e[1]}\u0000${e[2]}`;
  const trueEnts = getEntities(gold);
  const predEnts = getEntities(pred);
  const trueSet = new Set(trueEnts.map(key));
  const predSet = new Set(predEnts.map(key));
  const types = [...new Set([...trueEnts, ...predEnts].map((e) => e[0]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const perType: Record<string, PrfScore> = {};
  for (const t of types) {
    const ts = new Set(trueEnts.filter((e) => e[0] === t).map(key));
    const ps = new Set(predEnts.filter((e) => e[0] === t).map(key));
    let c = 0;
    for (const k of ps) if (ts.has(k)) c++;
    perType[t] = prf(c, ps.size, ts.size);
  }
  let correct = 0;
  for (const k of predSet) if (trueSet.has(k)) correct++;
  return { ...prf(correct, predSet.size, trueSet.size), accuracy: tokens === 0 ? 0 : right / tokens, perType, trueEntities: trueSet.size, predEntities: predSet.size, correct };
}
