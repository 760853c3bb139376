/** BERT training runs: pretraining and fine-tuning (classification, NER, QA, multiple choice). */
export {
  pretrainBert, bertPreset, pretrainingBatch, pretrainingLoss, BertTaskError, BERT_SIZES, TASK_FILE as BERT_TASK_FILE,
  type BertSize, type BertCommonOptions, type PretrainOptions, type FinetuneSourceOptions, type BertRunResult, type PretrainingBatchTensors,
} from './tasks.js';
export { finetuneNer, type NerFinetuneOptions, type NerEvaluation } from './ner.js';
export { finetuneBert, type FinetuneOptions } from './classify.js';
export { finetune, type FinetuneTask, type HeadFinetuneOptions } from './finetune.js';
export { finetuneQa, evaluateQa, type QaFinetuneOptions, type QaEvaluation } from './qa.js';
export { finetuneMultipleChoice, type MultipleChoiceFinetuneOptions } from './multiple-choice.js';
