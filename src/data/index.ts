/** Parallel corpora: readers with file/line errors, length filtering, bucketed token-budget batches. */
export { readParallelTsv, readParallelFiles, readBytes, splitLines, DataFormatError, type ParallelPair, type ParallelCorpus, type ReadOptions, type TsvOptions, type BadLineReason } from './read.js';
export { BucketBatcher, filterByLength, DEFAULT_BUCKETS, type Batch, type BatchOptions, type DataPosition, type LengthFilter, type TokenizedExample } from './batching.js';
