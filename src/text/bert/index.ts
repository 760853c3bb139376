export { BertTokenizer, type BertTokenizerOptions, type FromPretrainedOptions, type DecodeOptions } from './tokenizer.js';
export { BasicTokenizer, type BasicTokenizerOptions, type AlignedToken } from './basic.js';
export { WordpieceTokenizer, type WordPiece } from './wordpiece.js';
export { type BertEncoding, type EncodeOptions, type TruncationStrategy, type PaddingStrategy } from './encoding.js';
export { trainWordPiece, type WordPieceTrainerOptions } from './trainer.js';
export { readVocabTxt, readBertTokenizerFiles } from './tokenizer.js';
export { BertTokenizerCore, BERT_TOKENIZER_FILES, type BertTokenizerFiles, type FromFilesOptions } from './tokenizer-core.js';
export { parseVocabTxt } from './files.js';
export { BertTokenizerError } from './errors.js';
