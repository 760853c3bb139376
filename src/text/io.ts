/**
 * Tokenizers saved beside a model: `saveTokenizer(dir, tok)` writes the tokenizer's own files
 * (vocab.txt, or tokenizer.json for BPE) plus `zhuyi-tokenizer.json` naming its kind and options;
 * `loadTokenizer(dir)` reads them back. A model with separate source and target tokenizers gives
 * each its own folder (e.g. `out/source/`, `out/target/`). Other kinds (BERT WordPiece...) plug in
 * with `registerTokenizerKind`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer, type Tokenizer, WordTokenizer } from './tokenizer.js';
import { SPECIAL_TOKENS, TokenizerError, Vocab } from './vocab.js';

export const TOKENIZER_CONFIG_FILE = 'zhuyi-tokenizer.json';

export type TokenizerLoader = (dir: string, config: Readonly<Record<string, unknown>>) => Tokenizer;

const loaders = new Map<string, TokenizerLoader>();

/** Lets another tokenizer family be restored by `loadTokenizer` (its `kind` is the key). */
export function registerTokenizerKind(kind: string, loader: TokenizerLoader): void {
  loaders.set(kind, loader);
}

function extraSpecials(config: Readonly<Record<string, unknown>>): string[] {
  const s = config.specials;
  return Array.isArray(s) ? s.filter((t): t is string => typeof t === 'string').slice(SPECIAL_TOKENS.length) : [];
}

const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

registerTokenizerKind('char', (dir, c) => new CharTokenizer(Vocab.load(join(dir, 'vocab.txt'), extraSpecials(c)), {
  lowercase: bool(c.lowercase), normalizeWhitespace: bool(c.normalizeWhitespace),
}));
registerTokenizerKind('word', (dir, c) => new WordTokenizer(Vocab.load(join(dir, 'vocab.txt'), extraSpecials(c)), {
  lowercase: bool(c.lowercase), splitCjk: bool(c.splitCjk), whitespace: bool(c.whitespace),
}));
registerTokenizerKind('bpe', (dir) => BpeTokenizer.load(dir));

export function saveTokenizer(dir: string, tokenizer: Tokenizer): void {
  mkdirSync(dir, { recursive: true });
  tokenizer.saveFiles(dir);
  const config = { kind: tokenizer.kind, version: 1, specials: tokenizer.vocab.specials, vocabSize: tokenizer.vocab.size, ...tokenizer.config() };
  writeFileAtomic(join(dir, TOKENIZER_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/** Restores a tokenizer saved by `saveTokenizer`; a bare HF tokenizer.json of our BPE shape also loads. */
export function loadTokenizer(dir: string): Tokenizer {
  const file = join(dir, TOKENIZER_CONFIG_FILE);
  if (!existsSync(file)) {
    if (existsSync(join(dir, 'tokenizer.json'))) return BpeTokenizer.load(dir);
    throw new TokenizerError(`${dir}: no ${TOKENIZER_CONFIG_FILE} (nor tokenizer.json) to load a tokenizer from`);
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError(`${file}: cannot read JSON: ${(e as Error).message}`);
  }
  const kind = String(config.kind);
  const loader = loaders.get(kind);
  if (!loader) throw new TokenizerError(`${file}: unknown tokenizer kind '${kind}' (known: ${[...loaders.keys()].join(', ')})`);
  const tok = loader(dir, config);
  if (typeof config.vocabSize === 'number' && config.vocabSize !== tok.vocab.size) {
    throw new TokenizerError(`${file}: vocabSize ${config.vocabSize} but the vocabulary has ${tok.vocab.size} tokens`);
  }
  return tok;
}
