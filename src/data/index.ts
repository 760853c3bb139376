/** Parallel corpora: readers with file/line errors, the cmn-eng split, length filtering, bucketed token-budget batches. */
export { readParallelTsv, readParallelFiles, readBytes, splitLines, DataFormatError, type ParallelPair, type ParallelCorpus, type ReadOptions, type TsvOptions, type BadLineReason } from './read.js';
export { readCmnEng, splitCmnEng, cmnEngPath, dataDir, fnv1a32, CMN_ENG_FILE, type CmnEngPair, type CmnEngSplits, type CmnEngSplitOptions } from './cmn-eng.js';
export { BucketBatcher, filterByLength, DEFAULT_BUCKETS, type Batch, type BatchOptions, type DataPosition, type LengthFilter, type TokenizedExample } from './batching.js';
