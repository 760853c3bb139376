/**
 * Hugging Face tokenizer files: vocab.txt, tokenizer.json (WordPiece model), tokenizer_config.json and
 * special_tokens_map.json. Parsers take the file's text (no file system here, so browsers can use them)
 * and name the file, line or key in every error; src/text/bert/tokenizer.ts reads folders.
 */
import { BertTokenizerError } from './errors.js';

/**
 * vocab.txt: one token per line, id = line number. Quirks kept from HF's load_vocab: tokens are not
 * trimmed (a line holding a single space is the token " "), and a duplicated token maps to its LAST
 * line. Deviation: a trailing \r is removed, so CRLF files load (HF would keep "token\r" and miss).
 */
export function parseVocabTxt(text: string, file: string): string[] {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new BertTokenizerError(`${file}: empty vocabulary`);
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** A JSON file whose top level must be an object. */
export function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BertTokenizerError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BertTokenizerError(`${file}: expected a JSON object at top level`);
  return value as Record<string, unknown>;
}

/** A special token as HF writes it: a plain string, or an AddedToken object {content, ...}. */
export function tokenContent(value: unknown, file: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  throw new BertTokenizerError(`${file}: key "${key}" should be a string or {"content": string}, got ${JSON.stringify(value)}`);
}

export function optionalBoolean(obj: Record<string, unknown>, key: string, file: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new BertTokenizerError(`${file}: key "${key}" should be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** What BertTokenizer needs from a tokenizer.json. */
export interface TokenizerJsonInfo {
  vocab: string[];
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  /** From a BertNormalizer; undefined when the file has another normalizer (then only the engine matches it). */
  lowercase?: boolean;
  stripAccents?: boolean | null;
  handleChineseChars?: boolean;
  /** added_tokens marked special, in file order. */
  specialTokens: string[];
}

export function parseTokenizerJson(json: Record<string, unknown>, file: string): TokenizerJsonInfo {
  const model = json.model as Record<string, unknown> | undefined;
  if (typeof model !== 'object' || model === null) throw new BertTokenizerError(`${file}: missing key "model"`);
  // Older exports (like HF's bert-base-uncased) omit model.type; a WordPiece model is still recognisable by its prefix key.
  const type = model.type ?? ('continuing_subword_prefix' in model && 'max_input_chars_per_word' in model ? 'WordPiece' : undefined);
  if (type !== 'WordPiece') throw new BertTokenizerError(`${file}: key "model.type" is ${JSON.stringify(model.type)}, BertTokenizer needs a WordPiece model`);
  const table = model.vocab;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new BertTokenizerError(`${file}: key "model.vocab" should be an object {token: id}`);
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(table as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new BertTokenizerError(`${file}: key "model.vocab.${token}" should be a non-negative integer id, got ${JSON.stringify(id)}`);
    if (vocab[id] !== undefined) throw new BertTokenizerError(`${file}: "model.vocab" gives id ${id} to both ${JSON.stringify(vocab[id])} and ${JSON.stringify(token)}`);
    vocab[id] = token;
  }
  const specialTokens: string[] = [];
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Record<string, unknown>[]) : [];
  added.forEach((t, k) => {
    if (typeof t.content !== 'string' || typeof t.id !== 'number') throw new BertTokenizerError(`${file}: key "added_tokens[${k}]" needs "content" and "id"`);
    if (vocab[t.id] === undefined) vocab[t.id] = t.content;
    if (t.special === true) specialTokens.push(t.content);
  });
  for (let id = 0; id < vocab.length; id++) {
    if (vocab[id] === undefined) throw new BertTokenizerError(`${file}: "model.vocab" has no token with id ${id} (ids must be 0..${vocab.length - 1})`);
  }
  const info: TokenizerJsonInfo = {
    vocab,
    unkToken: typeof model.unk_token === 'string' ? model.unk_token : '[UNK]',
    continuingSubwordPrefix: typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##',
    maxInputCharsPerWord: typeof model.max_input_chars_per_word === 'number' ? model.max_input_chars_per_word : 100,
    specialTokens,
  };
  const norm = json.normalizer as Record<string, unknown> | null | undefined;
  if (norm && norm.type === 'BertNormalizer') {
    info.lowercase = optionalBoolean(norm, 'lowercase', file) ?? true;
    info.stripAccents = optionalBoolean(norm, 'strip_accents', file) ?? null;
    info.handleChineseChars = optionalBoolean(norm, 'handle_chinese_chars', file) ?? true;
  }
  return info;
}

/** The tokenizer.json HF's BertTokenizerFast would write for this vocabulary and these settings. */
export function buildTokenizerJson(o: {
  vocab: readonly string[];
  specialTokens: readonly string[];
  clsToken: string;
  sepToken: string;
  unkToken: string;
  lowercase: boolean;
  stripAccents: boolean | null;
  handleChineseChars: boolean;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}): Record<string, unknown> {
  const idOf = new Map<string, number>();
  o.vocab.forEach((t, i) => idOf.set(t, i));
  const vocabObject: Record<string, number> = {};
  for (const [t, i] of idOf) vocabObject[t] = i;
  const cls = idOf.get(o.clsToken);
  const sep = idOf.get(o.sepToken);
  const special = (s: string, typeId: number): unknown => ({ SpecialToken: { id: s, type_id: typeId } });
  const seq = (s: 'A' | 'B', typeId: number): unknown => ({ Sequence: { id: s, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: o.specialTokens.filter((t) => idOf.has(t)).map((t) => ({
      id: idOf.get(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })).sort((a, b) => a.id! - b.id!),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: o.handleChineseChars, strip_accents: o.stripAccents, lowercase: o.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(o.clsToken, 0), seq('A', 0), special(o.sepToken, 0)],
      pair: [special(o.clsToken, 0), seq('A', 0), special(o.sepToken, 0), seq('B', 1), special(o.sepToken, 1)],
      special_tokens: {
        [o.clsToken]: { id: o.clsToken, ids: cls === undefined ? [] : [cls], tokens: [o.clsToken] },
        [o.sepToken]: { id: o.sepToken, ids: sep === undefined ? [] : [sep], tokens: [o.sepToken] },
      },
    },
    decoder: { type: 'WordPiece', prefix: o.continuingSubwordPrefix, cleanup: true },
    model: {
      type: 'WordPiece', unk_token: o.unkToken, continuing_subword_prefix: o.continuingSubwordPrefix,
      max_input_chars_per_word: o.maxInputCharsPerWord, vocab: vocabObject,
    },
  };
}
