/** Translation metrics with sacreBLEU's conventions, and exact-match accuracy. */
export { corpusBleu, sentenceBleu, computeBleu, bleuSegmentStats, SACREBLEU_VERSION, type BleuOptions, type BleuScore, type SmoothMethod } from './bleu.js';
export { corpusChrf, sentenceChrf, type ChrfOptions, type ChrfScore } from './chrf.js';
export { tokenize13a, tokenizeZh, tokenizeChar, BLEU_TOKENIZERS, type BleuTokenizerName } from './tokenizers.js';
export { exactMatch, exactMatchByLength, type ExactMatchOptions, type LengthRow } from './accuracy.js';
