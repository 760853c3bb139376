/**
 * Adapter for @huggingface/tokenizers (pure-JS port of HF tokenizers): runs a tokenizer.json as
 * written, so its normalizer/pre-tokenizer/model are the file's own, not our re-implementation.
 * It has no offsets, truncation or padding; BertTokenizer adds those around it.
 *
 * Known divergence (v0.2.0): its BertNormalizer walks UTF-16 units, so CJK ideographs outside the BMP
 * (extensions B-E, e.g. U+20000) are not split off: "a\u{20000}b" is one word ([UNK]) there and three
 * in HF's Python tokenizers and in our builtin. With returnOffsetsMapping this surfaces as an error
 * (the two token sequences must agree); engine 'builtin' avoids it.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { BertTokenizerError } from './errors.js';

export class HfTokenizersEngine {
  private readonly tokenizer: Tokenizer;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>, file: string) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new BertTokenizerError(`${file}: @huggingface/tokenizers cannot load it (${(e as Error).message})`);
    }
  }

  /** Tokens and ids of one text, without special tokens. */
  encode(text: string): { ids: number[]; tokens: string[] } {
    const e = this.tokenizer.encode(text, { add_special_tokens: false });
    return { ids: e.ids, tokens: e.tokens };
  }
}
