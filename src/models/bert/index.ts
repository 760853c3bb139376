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
export {
  fillMask, classify, tokenClassify, answer, embed, defaultClassificationFunction, PipelineError,
  type FillMaskOptions, type FillMaskPrediction, type ClassifyOptions, type ClassificationFunction, type LabelScore,
  type AggregationStrategy, type TokenClassifyOptions, type TokenEntity, type EntityGroup, type AnswerOptions, type QaAnswer,
  type EmbedOptions, type EmbedPooling,
} from './pipelines.js';
export {
  readPretrainingCorpus, tokenizeDocuments, createNspInstances, MlmMasker, PretrainingDataset, pairIds, maskSeed, IGNORE_INDEX,
  type CorpusSentence, type PretrainingCorpus, type TokenizedDocument, type NspInstance, type NspOptions, type MaskingOptions,
  type MaskedSequence, type PretrainingExample, type PretrainingDatasetOptions,
} from './pretraining-data.js';
export {
  readClassificationFile, buildLabelSet, labelSetOf, labelIds, formatOf,
  type TableFormat, type ClassificationReadOptions, type ClassificationExample, type ClassificationData, type LabelSet,
} from './finetune-data.js';
export {
  readConllFile, toBio, entityType, nerLabelSet, nerLabelIds, alignNerWords, getEntities, seqevalScores, NER_IGNORE_INDEX,
  type ConllReadOptions, type NerSentence, type NerData, type NerFeature, type Entity, type PrfScore, type SeqevalScores,
} from './ner-data.js';
export {
  readSquadFile, qaFeatures, bestAnswer, normalizeAnswer, squadExactMatch, squadF1, squadScores,
  type SquadAnswer, type SquadExample, type SquadData, type SquadReadOptions, type QaFeatureOptions, type QaFeature, type QaFeatureSet,
  type BestAnswerOptions, type SpanAnswer,
} from './qa-data.js';
export {
  readMultipleChoiceFile, multipleChoiceFeatures,
  type MultipleChoiceReadOptions, type MultipleChoiceExample, type MultipleChoiceData, type MultipleChoiceFeature,
} from './multiple-choice-data.js';
