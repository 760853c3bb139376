/** Text: vocabularies and char / word / BPE tokenizers (BERT WordPiece lives in ./bert). */
export { Vocab, TokenizerError, SPECIAL_TOKENS, PAD, UNK, BOS, EOS, type BuildVocabOptions } from './vocab.js';
export { CharTokenizer, WordTokenizer, VocabTokenizer, type Tokenizer, type EncodeOptions, type DecodeOptions, type CharTokenizerOptions, type WordTokenizerOptions } from './tokenizer.js';
export { BpeTokenizer, type BpeOptions, type HfTokenizerJson } from './bpe.js';
export { trainBpe, type BpeTrainerOptions } from './bpe-trainer.js';
export { saveTokenizer, loadTokenizer, readTokenizerFiles, saveVocab, loadVocab } from './io.js';
export { registerTokenizerKind, tokenizerFiles, tokenizerFromFiles, TOKENIZER_CONFIG_FILE, type TokenizerLoader, type TokenizerFileTexts } from './files.js';
export { normalizeText, preTokenize, isCjkIdeograph, type NormalizeOptions } from './normalize.js';
