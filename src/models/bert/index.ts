/** BERT: Hugging Face-compatible models (module tree, parameter names, config keys, checkpoints). */
export { BertConfig, BertConfigError, BERT_ACTIVATIONS, type BertActivation, type BertConfigJSON, type ProblemType } from './config.js';
export {
  BertPreTrainedModel, BertCheckpointError, readBertFolder,
  type LoadingInfo, type FromPretrainedOptions, type BertConstructorOptions, type BertModelClass, type HfFolder,
} from './pretrained.js';
export {
  BertModel, BertEmbeddings, BertSelfAttention, BertSelfOutput, BertAttention, BertIntermediate, BertOutput, BertLayer, BertEncoder, BertPooler,
  activation as bertActivation, extendedAttentionMask, type BertForwardOptions, type BertModelOutput,
} from './modeling.js';
export {
  BertForPreTraining, BertForMaskedLM, BertForNextSentencePrediction, BertForSequenceClassification, BertForTokenClassification,
  BertForQuestionAnswering, BertForMultipleChoice, BertPredictionHeadTransform, BertLMPredictionHead, BertOnlyMLMHead, BertOnlyNSPHead,
  BertPreTrainingHeads, type BertHeadOutput, type BertForwardWithLabels, type BertPreTrainingOutput, type QuestionAnsweringOutput,
} from './heads.js';
