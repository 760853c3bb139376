/**
 * From tokenized sequences to model inputs: [CLS] A [SEP] (B [SEP]), token_type_ids, truncation with
 * stride windows, padding and attention masks, following Hugging Face's semantics (the fast tokenizers'
 * for overflowing windows, which is what SQuAD preprocessing relies on).
 */
import { BertTokenizerError } from './errors.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';
export type PaddingStrategy = 'longest' | 'max_length';

export interface EncodeOptions {
  /** Add [CLS] and [SEP]. Default true. */
  addSpecialTokens?: boolean;
  /** Length limit including special tokens. Defaults to the tokenizer's modelMaxLength when truncation or max_length padding needs one. */
  maxLength?: number;
  /** true = 'longest_first'. Default: false, but 'longest_first' when maxLength is given (as HF does, with a warning there). */
  truncation?: boolean | TruncationStrategy;
  /** true = 'longest'. For a single encode, 'longest' pads the overflowing windows to the longest one. Default false. */
  padding?: boolean | PaddingStrategy;
  padToMultipleOf?: number;
  /** Tokens shared by consecutive overflowing windows. Default 0. */
  stride?: number;
  /** Return the rest of a truncated sequence as further windows (only_first, only_second, or a single sequence). */
  returnOverflowingTokens?: boolean;
  /** Character spans [start, end) into the original text; [0, 0] for special and padding tokens. */
  returnOffsetsMapping?: boolean;
  /** 1 for special and padding tokens, 0 for text tokens. */
  returnSpecialTokensMask?: boolean;
}

export interface BertEncoding {
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
  tokens: string[];
  offsets?: [number, number][];
  specialTokensMask?: number[];
  /** Further windows of a truncated input (HF fast tokenizers' Encoding.overflowing), each a complete encoding. */
  overflowing?: BertEncoding[];
}

/** One tokenized text before special tokens. */
export interface TokenSeq {
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
}

export interface SpecialTokenIds {
  cls: [string, number];
  sep: [string, number];
  pad: [string, number];
}

function slice(s: TokenSeq, [from, to]: [number, number]): TokenSeq {
  return { ids: s.ids.slice(from, to), tokens: s.tokens.slice(from, to), offsets: s.offsets.slice(from, to) };
}

/**
 * Windows of `size` tokens over a sequence of `len`, each starting `size - stride` after the previous,
 * until one reaches the end (tokenizers' Encoding::truncate). The first window is the truncated sequence.
 */
export function strideWindows(len: number, size: number, stride: number, what: string): [number, number][] {
  if (size >= len) return [[0, len]];
  if (stride >= size) throw new BertTokenizerError(`encode: stride ${stride} must be smaller than the ${size} tokens of ${what} that fit in maxLength`);
  const out: [number, number][] = [];
  for (let start = 0; ; start += size - stride) {
    const end = Math.min(start + size, len);
    out.push([start, end]);
    if (end === len) return out;
  }
}

/** HF truncate_sequences' longest_first split: trim the longer one down to the shorter, then alternate (B gets the odd token). */
export function longestFirstLengths(lenA: number, lenB: number, toRemove: number): [number, number] {
  const first = Math.min(Math.abs(lenA - lenB), toRemove);
  const second = toRemove - first;
  if (lenA > lenB) return [lenA - first - Math.floor(second / 2), lenB - (second - Math.floor(second / 2))];
  return [lenA - Math.floor(second / 2), lenB - first - (second - Math.floor(second / 2))];
}

function build(a: TokenSeq, b: TokenSeq | null, addSpecial: boolean, sp: SpecialTokenIds, opts: EncodeOptions): BertEncoding {
  const enc: BertEncoding = { inputIds: [], tokenTypeIds: [], attentionMask: [], tokens: [] };
  const offsets: [number, number][] = [];
  const specialMask: number[] = [];
  const push = (id: number, token: string, typeId: number, offset: [number, number], special: number): void => {
    enc.inputIds.push(id);
    enc.tokens.push(token);
    enc.tokenTypeIds.push(typeId);
    enc.attentionMask.push(1);
    offsets.push(offset);
    specialMask.push(special);
  };
  const pushSeq = (s: TokenSeq, typeId: number): void => s.ids.forEach((id, k) => push(id, s.tokens[k]!, typeId, s.offsets[k]!, 0));
  // (the second [SEP] belongs to segment B: type id 1, as in HF's pair template)
  if (addSpecial) push(sp.cls[1], sp.cls[0], 0, [0, 0], 1);
  pushSeq(a, 0);
  if (addSpecial) push(sp.sep[1], sp.sep[0], 0, [0, 0], 1);
  if (b) {
    pushSeq(b, 1);
    if (addSpecial) push(sp.sep[1], sp.sep[0], 1, [0, 0], 1);
  }
  if (opts.returnOffsetsMapping) enc.offsets = offsets;
  if (opts.returnSpecialTokensMask) enc.specialTokensMask = specialMask;
  return enc;
}

/** Resolves HF's defaults: truncation=true means longest_first; a maxLength alone turns longest_first on. */
export function resolveTruncation(opts: EncodeOptions, modelMaxLength: number | undefined): { strategy: TruncationStrategy | null; maxLength: number | undefined } {
  const t = opts.truncation ?? (opts.maxLength !== undefined ? 'longest_first' : false);
  const strategy = t === true ? 'longest_first' : t === false ? null : t;
  const maxLength = opts.maxLength ?? (strategy ? modelMaxLength : undefined);
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 0)) throw new BertTokenizerError(`encode: maxLength must be a non-negative integer, got ${maxLength}`);
  return { strategy, maxLength };
}

/** Encodes one input (with its overflowing windows), unpadded. */
export function assemble(a: TokenSeq, b: TokenSeq | null, opts: EncodeOptions, sp: SpecialTokenIds, modelMaxLength: number | undefined): BertEncoding {
  const addSpecial = opts.addSpecialTokens ?? true;
  const stride = opts.stride ?? 0;
  const { strategy, maxLength } = resolveTruncation(opts, modelMaxLength);
  const numSpecial = addSpecial ? (b ? 3 : 2) : 0;
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (!strategy || maxLength === undefined || total + numSpecial <= maxLength) return build(a, b, addSpecial, sp, opts);
  const toRemove = total + numSpecial - maxLength;
  const overflow = opts.returnOverflowingTokens ?? false;

  if (strategy === 'longest_first' && b) {
    if (overflow) {
      throw new BertTokenizerError("encode: returnOverflowingTokens needs truncation 'only_first' or 'only_second' for a pair (HF returns no overflow for longest_first pairs)");
    }
    if (toRemove > total) throw new BertTokenizerError(`encode: maxLength ${maxLength} leaves no room for the pair (${numSpecial} special tokens)`);
    const [nA, nB] = longestFirstLengths(a.ids.length, b.ids.length, toRemove);
    return build(slice(a, [0, nA]), slice(b, [0, nB]), addSpecial, sp, opts);
  }
  if (strategy === 'only_second' && !b) throw new BertTokenizerError("encode: truncation 'only_second' needs a text pair");
  const cutSecond = strategy === 'only_second';
  const target = cutSecond ? b! : a;
  const which = cutSecond ? 'the second sequence' : 'the first sequence';
  if (target.ids.length <= toRemove) {
    throw new BertTokenizerError(`encode: need to remove ${toRemove} tokens to fit maxLength ${maxLength} but ${which} has only ${target.ids.length} (truncation '${strategy}')`);
  }
  const size = target.ids.length - toRemove;
  const windows = overflow ? strideWindows(target.ids.length, size, stride, which) : [[0, size] as [number, number]];
  const encodings = windows.map((w) => (cutSecond ? build(a, slice(b!, w), addSpecial, sp, opts) : build(slice(a, w), b, addSpecial, sp, opts)));
  const main = encodings[0]!;
  if (overflow) main.overflowing = encodings.slice(1);
  return main;
}

/** Pads in place to `length` (right side). Longer encodings are left alone, as in HF. */
export function padTo(enc: BertEncoding, length: number, sp: SpecialTokenIds): void {
  while (enc.inputIds.length < length) {
    enc.inputIds.push(sp.pad[1]);
    enc.tokens.push(sp.pad[0]);
    enc.tokenTypeIds.push(0); // HF's pad_token_type_id
    enc.attentionMask.push(0);
    enc.offsets?.push([0, 0]);
    enc.specialTokensMask?.push(1);
  }
}

/** Applies `padding` to encodings (and their overflowing windows) as one batch. */
export function padBatch(encodings: readonly BertEncoding[], opts: EncodeOptions, sp: SpecialTokenIds, modelMaxLength: number | undefined): void {
  const p = opts.padding === true ? 'longest' : opts.padding === false || opts.padding === undefined ? null : opts.padding;
  if (!p) return;
  const all = encodings.flatMap((e) => [e, ...(e.overflowing ?? [])]);
  let length: number;
  if (p === 'max_length') {
    const m = opts.maxLength ?? modelMaxLength;
    if (m === undefined) throw new BertTokenizerError("encode: padding 'max_length' needs maxLength (the tokenizer has no modelMaxLength)");
    length = m;
  } else {
    length = Math.max(0, ...all.map((e) => e.inputIds.length));
  }
  const multiple = opts.padToMultipleOf;
  if (multiple !== undefined && multiple > 0 && length % multiple !== 0) length += multiple - (length % multiple);
  for (const e of all) padTo(e, length, sp);
}
