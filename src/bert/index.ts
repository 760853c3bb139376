/** BERT training runs: pretraining and fine-tuning (classification, NER, QA, multiple choice). */
export {
  bertPreset, BertTaskError, BERT_SIZES, TASK_FILE as BERT_TASK_FILE, type BertSize, type BertCommonOptions, type FinetuneSourceOptions, type BertRunResult,
} from './run.js';
export { pretrainBert, pretrainingBatch, pretrainingLoss, type PretrainOptions, type PretrainingBatchTensors } from './pretrain.js';
export { finetuneNer, type NerFinetuneOptions, type NerEvaluation } from './ner.js';
export { finetuneBert, type FinetuneOptions } from './classify.js';
export { finetune, type FinetuneTask, type HeadFinetuneOptions } from './finetune.js';
export { finetuneQa, evaluateQa, type QaFinetuneOptions, type QaEvaluation } from './qa.js';
export { finetuneMultipleChoice, type MultipleChoiceFinetuneOptions } from './multiple-choice.js';
export {
  fillMask, classify, tokenClassify, answer, embed, defaultClassificationFunction, PipelineError,
  type FillMaskOptions, type FillMaskPrediction, type ClassifyOptions, type ClassificationFunction, type LabelScore,
  type AggregationStrategy, type TokenClassifyOptions, type TokenEntity, type EntityGroup, type AnswerOptions, type QaAnswer,
  type EmbedOptions, type EmbedPooling,
} from './pipelines/index.js';
export {
  readPretrainingCorpus, tokenizeDocuments, createNspInstances, MlmMasker, PretrainingDataset, pairIds, maskSeed, IGNORE_INDEX,
  type CorpusSentence, type PretrainingCorpus, type TokenizedDocument, type NspInstance, type NspOptions, type MaskingOptions,
  type MaskedSequence, type PretrainingExample, type PretrainingDatasetOptions,
} from './data/pretraining.js';
export {
  readClassificationFile, buildLabelSet, labelSetOf, labelIds, formatOf,
  type TableFormat, type ClassificationReadOptions, type ClassificationExample, type ClassificationData, type LabelSet,
} from './data/classify.js';
export {
  readConllFile, toBio, entityType, nerLabelSet, nerLabelIds, alignNerWords, getEntities, seqevalScores, NER_IGNORE_INDEX,
  type ConllReadOptions, type NerSentence, type NerData, type NerFeature, type Entity, type PrfScore, type SeqevalScores,
} from './data/ner.js';
export {
  readSquadFile, qaFeatures, bestAnswer, normalizeAnswer, squadExactMatch, squadF1, squadScores,
  type SquadAnswer, type SquadExample, type SquadData, type SquadReadOptions, type QaFeatureOptions, type QaFeature, type QaFeatureSet,
  type BestAnswerOptions, type SpanAnswer,
} from './data/qa.js';
export {
  readMultipleChoiceFile, multipleChoiceFeatures,
  type MultipleChoiceReadOptions, type MultipleChoiceExample, type MultipleChoiceData, type MultipleChoiceFeature,
} from './data/multiple-choice.js';
