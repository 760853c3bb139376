/**
 * Tokenizers as file texts, without a file system (browsers use this): `tokenizerFiles(tok)` gives
 * the tokenizer's own files (vocab.txt, or tokenizer.json for BPE) plus `zhuyi-tokenizer.json`
 * naming its kind and options; `tokenizerFromFiles(files)` restores it from those texts. io.ts
 * reads and writes them as a folder. Other kinds (BERT WordPiece...) plug in with `registerTokenizerKind`.
 */
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer, type Tokenizer, WordTokenizer } from './tokenizer.js';
import { SPECIAL_TOKENS, TokenizerError, Vocab } from './vocab.js';

export const TOKENIZER_CONFIG_FILE = 'zhuyi-tokenizer.json';

/** A tokenizer folder's files: name -> text. */
export type TokenizerFileTexts = Readonly<Record<string, string>>;

/**
 * Restores one kind of tokenizer from its files and its zhuyi-tokenizer.json options; `source` (the
 * folder, or any label) prefixes file names in errors.
 */
export type TokenizerLoader = (files: TokenizerFileTexts, config: Readonly<Record<string, unknown>>, source: string) => Tokenizer;

const loaders = new Map<string, TokenizerLoader>();

/** Lets another tokenizer family be restored by `tokenizerFromFiles` / `loadTokenizer` (its `kind` is the key). */
export function registerTokenizerKind(kind: string, loader: TokenizerLoader): void {
  loaders.set(kind, loader);
}

/** `source/name`, or `name` alone when there is no source. */
export function sourcePath(source: string, name: string): string {
  return source ? `${source.replace(/\/+$/, '')}/${name}` : name;
}

function required(files: TokenizerFileTexts, name: string, source: string): string {
  const text = files[name];
  if (text === undefined) throw new TokenizerError(`${sourcePath(source, name)}: missing (the tokenizer needs it)`);
  return text;
}

function extraSpecials(config: Readonly<Record<string, unknown>>): string[] {
  const s = config.specials;
  return Array.isArray(s) ? s.filter((t): t is string => typeof t === 'string').slice(SPECIAL_TOKENS.length) : [];
}

const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

function vocabOf(files: TokenizerFileTexts, config: Readonly<Record<string, unknown>>, source: string): Vocab {
  return Vocab.parse(required(files, 'vocab.txt', source), sourcePath(source, 'vocab.txt'), extraSpecials(config));
}

registerTokenizerKind('char', (files, c, source) => new CharTokenizer(vocabOf(files, c, source), {
  lowercase: bool(c.lowercase), normalizeWhitespace: bool(c.normalizeWhitespace),
}));
registerTokenizerKind('word', (files, c, source) => new WordTokenizer(vocabOf(files, c, source), {
  lowercase: bool(c.lowercase), splitCjk: bool(c.splitCjk), whitespace: bool(c.whitespace),
}));
registerTokenizerKind('bpe', (files, _c, source) => BpeTokenizer.fromJsonText(required(files, 'tokenizer.json', source), sourcePath(source, 'tokenizer.json')));

/** Every file that restores `tokenizer`, zhuyi-tokenizer.json included. */
export function tokenizerFiles(tokenizer: Tokenizer): Record<string, string> {
  const config = { kind: tokenizer.kind, version: 1, specials: tokenizer.vocab.specials, vocabSize: tokenizer.vocab.size, ...tokenizer.config() };
  return { ...tokenizer.files(), [TOKENIZER_CONFIG_FILE]: JSON.stringify(config, null, 2) + '\n' };
}

/** Restores a tokenizer from the files `tokenizerFiles` gave; a bare HF tokenizer.json of our BPE shape also loads. */
export function tokenizerFromFiles(files: TokenizerFileTexts, source = ''): Tokenizer {
  const file = sourcePath(source, TOKENIZER_CONFIG_FILE);
  const text = files[TOKENIZER_CONFIG_FILE];
  if (text === undefined) {
    if (files['tokenizer.json'] !== undefined) return BpeTokenizer.fromJsonText(files['tokenizer.json'], sourcePath(source, 'tokenizer.json'));
    throw new TokenizerError(`${source || 'tokenizer files'}: no ${TOKENIZER_CONFIG_FILE} (nor tokenizer.json) to load a tokenizer from`);
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError(`${file}: cannot read JSON: ${(e as Error).message}`);
  }
  const kind = String(config.kind);
  const loader = loaders.get(kind);
  if (!loader) throw new TokenizerError(`${file}: unknown tokenizer kind '${kind}' (known: ${[...loaders.keys()].join(', ')})`);
  const tok = loader(files, config, source);
  if (typeof config.vocabSize === 'number' && config.vocabSize !== tok.vocab.size) {
    throw new TokenizerError(`${file}: vocabSize ${config.vocabSize} but the vocabulary has ${tok.vocab.size} tokens`);
  }
  return tok;
}
