/** The translation models of the tutorial ladder: RNN Seq2Seq -> Seq2Seq with attention -> Transformer. */
export { type TranslationConfig, type TranslateOptions, type TranslationModel, sourcePaddingMask } from './common.js';
export { Seq2Seq, Seq2SeqEncoder, Seq2SeqDecoder, type Seq2SeqConfig, type RnnState } from './seq2seq.js';
export { AttentionSeq2Seq, AttentionEncoder, AttentionDecoder, type AttentionSeq2SeqConfig, type AttentionScore, type AttentionState } from './attention-seq2seq.js';
export { TransformerSeq2Seq, type TransformerSeq2SeqConfig, type TransformerState, type TransformerAttentions } from './transformer.js';
