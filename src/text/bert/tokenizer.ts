/**
 * BertTokenizer: BertTokenizerCore (tokenizer-core.ts, Hugging Face's BertTokenizer and its encoding
 * API) plus reading and writing a tokenizer folder on disk. The core holds everything else and needs
 * no file system, so browsers use it directly.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/safetensors.js';
import { localModelFolder } from '../../io/hub.js';
import { BertTokenizerError } from './errors.js';
import { parseVocabTxt } from './files.js';
import { BERT_TOKENIZER_FILES, BertTokenizerCore, type BertTokenizerFiles, type FromPretrainedOptions } from './tokenizer-core.js';

export {
  BERT_TOKENIZER_FILES, BertTokenizerCore, withSpecialAddedTokens,
  type BertTokenizerFiles, type BertTokenizerOptions, type DecodeOptions, type FromFilesOptions, type FromPretrainedOptions,
} from './tokenizer-core.js';
import { checkOptions } from '../../tensor/options.js';

/** vocab.txt of a folder (see parseVocabTxt for HF's quirks). */
export function readVocabTxt(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BertTokenizerError(`${file}: cannot read vocabulary (${(e as Error).message})`);
  }
  return parseVocabTxt(text, file);
}

/** The tokenizer files present in `dir`, as text. */
export function readBertTokenizerFiles(dir: string): BertTokenizerFiles {
  const files: BertTokenizerFiles = {};
  for (const name of BERT_TOKENIZER_FILES) {
    const file = join(dir, name);
    if (existsSync(file)) files[name] = readFileSync(file, 'utf8');
  }
  return files;
}

export class BertTokenizer extends BertTokenizerCore {
  /**
   * Loads a Hugging Face tokenizer folder: tokenizer.json and/or vocab.txt, with tokenizer_config.json and
   * special_tokens_map.json when present (config keys win over defaults, the special-tokens map over the config).
   */
  /** A tokenizer folder, or a Hub id already in Hugging Face's cache (`await downloadModel(id)` or a model's fromPretrained puts it there). */
  static fromPretrained(dirOrId: string, options: FromPretrainedOptions = {}): BertTokenizer {
    options = checkOptions('BertTokenizer.fromPretrained', options, { engine: 1 });
    const dir = localModelFolder(dirOrId);
    return BertTokenizer.fromFiles(readBertTokenizerFiles(dir), { ...options, source: dir });
  }

  /** Writes vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json, as HF's save_pretrained does. */
  savePretrained(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(this.toFiles())) writeFileAtomic(join(dir, name), text);
  }
}
