/**
 * Tokenizers saved beside a model: `saveTokenizer(dir, tok)` writes the tokenizer's own files
 * (vocab.txt, or tokenizer.json for BPE) plus `zhuyi-tokenizer.json` naming its kind and options;
 * `loadTokenizer(dir)` reads them back. A model with separate source and target tokenizers gives
 * each its own folder (e.g. `out/source/`, `out/target/`). The files themselves are made and parsed
 * in files.ts, which needs no file system.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { TOKENIZER_CONFIG_FILE, tokenizerFiles, tokenizerFromFiles } from './files.js';
import type { Tokenizer } from './tokenizer.js';
import { TokenizerError, Vocab } from './vocab.js';

export { TOKENIZER_CONFIG_FILE, registerTokenizerKind, tokenizerFiles, tokenizerFromFiles, type TokenizerFileTexts, type TokenizerLoader } from './files.js';

/** Writes a vocabulary file (Vocab.serialize). */
export function saveVocab(file: string, vocab: Vocab): void {
  writeFileAtomic(file, vocab.serialize());
}

/** Reads a vocabulary file (Vocab.parse); errors name the file and line. */
export function loadVocab(file: string, extraSpecials: readonly string[] = []): Vocab {
  return Vocab.parse(readFileSync(file, 'utf8'), file, extraSpecials);
}

export function saveTokenizer(dir: string, tokenizer: Tokenizer): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(tokenizerFiles(tokenizer))) writeFileAtomic(join(dir, name), text);
}

/** The files of a tokenizer folder: every file directly in `dir` but hidden ones, sorted. */
export function tokenizerFileNames(dir: string): string[] {
  if (!existsSync(dir)) throw new TokenizerError(`${dir}: no ${TOKENIZER_CONFIG_FILE} (nor tokenizer.json) to load a tokenizer from`);
  return readdirSync(dir).filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isFile()).sort();
}

/** The text of every file of the tokenizer folder `dir`. */
export function readTokenizerFiles(dir: string): Record<string, string> {
  return Object.fromEntries(tokenizerFileNames(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** Restores a tokenizer saved by `saveTokenizer`; a bare HF tokenizer.json of our BPE shape also loads. */
export function loadTokenizer(dir: string): Tokenizer {
  return tokenizerFromFiles(readTokenizerFiles(dir), dir);
}
