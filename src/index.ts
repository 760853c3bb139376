/**
 * zhuyi (注意, "attention"): build, train, run, inspect and export attention models in TypeScript.
 * The public API follows PyTorch's vocabulary in camelCase.
 */
import './ops/index.js';
import { JsBackend } from './backends/js/index.js';
import { createOrtBackend } from './backends/ort/index.js';
import { registerBackend, setBackend } from './tensor/realize.js';

registerBackend('js', new JsBackend());
registerBackend('ort', createOrtBackend);
// ONNX Runtime is the default in Node; ZHUYI_BACKEND=js selects the reference backend.
setBackend(process.env.ZHUYI_BACKEND ?? 'ort');

export { Tensor, tensor, type NestedArray, type TensorOptions } from './tensor/tensor.js';
export { type DType, type TypedArray, DTYPES } from './tensor/dtype.js';
export { ZhuyiError, ShapeError, DTypeError, ArgumentError } from './tensor/errors.js';
export { realize, setBackend, getBackend, registerBackend, buildGraph, type Backend, type Graph, type GraphValue } from './tensor/realize.js';
export { noGrad, isGradEnabled, setGradEnabled } from './tensor/grad-mode.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/random.js';
export * from './tensor/creation.js';
export { grad, type GradOptions } from './autograd/grad.js';
export {
  add, sub, mul, div, pow, neg, exp, log, sqrt, rsqrt, reciprocal, tanh, sigmoid, relu, gelu, erf, abs, sign, sin, cos,
  maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, where, maskedFill, clamp,
  sum, mean, max, min, amax, amin, argmax, argmin, topk, softmax, logSoftmax,
  reshape, flatten, squeeze, unsqueeze, permute, transpose, expand, broadcastTo, slice, narrow, split, chunk, cat, stack, pad,
  gather, indexSelect, scatterAdd, matmul, tril, triu, oneHot, layerNorm, dropout, cast, clone, detach,
  type ValuesIndices,
} from './ops/functional.js';
export { listOps, getOp, type OpDef, type Meta } from './ops/registry.js';
export { Module, Parameter, Sequential, ModuleList, ModuleDict, StateDictError, type StateDict, type LoadResult } from './nn/module.js';
export { Linear, Embedding, LayerNorm, Dropout, ReLU, GELU, Tanh, Sigmoid, Identity, embedding } from './nn/layers.js';
export * as init from './nn/init.js';
export { loadSafetensors, saveSafetensors, parseSafetensors, serializeSafetensors, writeFileAtomic, FileWriteError, SafetensorsError, type SafetensorsFile } from './io/safetensors.js';
export { configureOrt, endOrtProfiling, ortConfig, ortStats, resetOrtStats, type OrtOptions, type OrtStats, type GraphOptimizationLevel } from './backends/ort/index.js';
export { GRUCell, LSTMCell, GRU, LSTM, type CellOptions, type RNNOptions, type RNNForwardOptions } from './nn/rnn.js';
export {
  AdditiveAttention, LuongAttention, MultiheadAttention, scaledDotProductAttention, scaledDotProductAttentionWithWeights,
  applyMask, causalMask, headWeights,
  type LuongScore, type AttentionMasks, type AttentionResult, type SDPAOptions, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions,
} from './nn/attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer, type DecoderLayerCache,
  type Activation, type TransformerLayerOptions, type TransformerOptions, type SelfAttentionMasks, type DecoderMasks, type TransformerMasks,
} from './nn/transformer.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEmbedding, type PositionalOptions } from './nn/positional.js';
export {
  BertTokenizer, BertTokenizerCore, BERT_TOKENIZER_FILES, readBertTokenizerFiles, BasicTokenizer, WordpieceTokenizer, BertTokenizerError, trainWordPiece, readVocabTxt,
  type BertTokenizerOptions, type BertTokenizerFiles, type FromFilesOptions as BertTokenizerFromFilesOptions, type FromPretrainedOptions as BertTokenizerFromPretrainedOptions, type DecodeOptions as BertDecodeOptions,
  type BasicTokenizerOptions, type AlignedToken, type WordPiece, type BertEncoding, type EncodeOptions as BertEncodeOptions,
  type TruncationStrategy, type PaddingStrategy, type WordPieceTrainerOptions,
} from './text/bert/index.js';
export {
  BertConfig, BertConfigError, BERT_ACTIVATIONS, type BertActivation, type BertConfigJSON, type ProblemType,
  BertPreTrainedModel, BertCheckpointError, readBertFolder, type LoadingInfo,
  type FromPretrainedOptions as BertFromPretrainedOptions, type BertConstructorOptions, type BertModelClass,
  type HfFolder, BertModel, BertEmbeddings, BertSelfAttention, BertSelfOutput, BertAttention, BertIntermediate,
  BertOutput, BertLayer, BertEncoder, BertPooler, bertActivation, extendedAttentionMask, type BertForwardOptions,
  type BertModelOutput, BertForPreTraining, BertForMaskedLM, BertForNextSentencePrediction,
  BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering, BertForMultipleChoice,
  BertPredictionHeadTransform, BertLMPredictionHead, BertOnlyMLMHead, BertOnlyNSPHead, BertPreTrainingHeads,
  type BertHeadOutput, type BertForwardWithLabels, type BertPreTrainingOutput, type QuestionAnsweringOutput,
} from './models/bert/index.js';
export {
  fillMask, classify, tokenClassify, answer, embed, defaultClassificationFunction, PipelineError,
  readPretrainingCorpus, createNspInstances, MlmMasker, PretrainingDataset, readClassificationFile, readConllFile,
  seqevalScores, getEntities, readSquadFile, squadScores, normalizeAnswer, readMultipleChoiceFile,
  type MultipleChoiceExample, type SeqevalScores, type SquadExample, type FillMaskOptions, type FillMaskPrediction,
  type ClassifyOptions, type ClassificationFunction, type LabelScore, type AggregationStrategy,
  type TokenClassifyOptions, type TokenEntity, type EntityGroup, type AnswerOptions, type QaAnswer, type EmbedOptions,
  type EmbedPooling,
} from './bert/index.js';
export {
  pretrainBert, finetuneBert, bertPreset, BertTaskError, type PretrainOptions, type FinetuneOptions, type BertRunResult, type BertSize,
  finetuneNer, finetuneQa, finetuneMultipleChoice, type NerFinetuneOptions, type QaFinetuneOptions, type MultipleChoiceFinetuneOptions,
} from './bert/index.js';
export { CheckpointError, UnsafePickleError } from './io/checkpoint-error.js';
export { loadTorchBin, readTorchBin, parseTorchBin, type TorchBinFile, type TorchBinFormat } from './io/torch-bin.js';
export { readHfCheckpointFolder, type HfCheckpoint, type HfWeightsFormat } from './io/hf.js';
export { downloadModel, ensureModelFolder, localModelFolder, cachedSnapshot, hubCacheDir, hubEndpoint, isHubId, HubError, type HubOptions } from './io/hub.js';
export {
  Vocab, TokenizerError, SPECIAL_TOKENS, PAD, UNK, BOS, EOS, CharTokenizer, WordTokenizer, VocabTokenizer, BpeTokenizer, trainBpe,
  saveTokenizer, loadTokenizer, saveVocab, loadVocab, tokenizerFiles, tokenizerFromFiles, registerTokenizerKind, TOKENIZER_CONFIG_FILE, normalizeText, preTokenize, isCjkIdeograph,
  type BuildVocabOptions, type Tokenizer, type EncodeOptions as TokenizerEncodeOptions, type DecodeOptions as TokenizerDecodeOptions,
  type CharTokenizerOptions, type WordTokenizerOptions, type BpeOptions, type BpeTrainerOptions, type HfTokenizerJson, type TokenizerLoader, type TokenizerFileTexts, type NormalizeOptions,
} from './text/index.js';
export {
  readParallelTsv, readParallelFiles, DataFormatError, BucketBatcher, filterByLength, DEFAULT_BUCKETS, readCmnEng, splitCmnEng, cmnEngPath,
  type CmnEngPair, type CmnEngSplits,
  type ParallelPair, type ParallelCorpus, type ReadOptions, type TsvOptions, type BadLineReason,
  type Batch, type BatchOptions, type DataPosition, type LengthFilter, type TokenizedExample,
} from './data/index.js';
export {
  builtinTask, datesTask, numbersTask, numbersZhTask, reverseTask, numberToWords, numberToChinese, isoDate, BUILTIN_TASKS,
  type BuiltinTaskName, type TaskExample, type TaskSplits, type TaskSizes, type TaskOptions, type DatesOptions, type NumbersOptions, type ReverseOptions,
} from './tasks/builtin/index.js';
export {
  corpusBleu, sentenceBleu, computeBleu, corpusChrf, sentenceChrf, exactMatch, exactMatchByLength, tokenize13a, tokenizeZh, SACREBLEU_VERSION,
  type BleuOptions, type BleuScore, type SmoothMethod, type ChrfOptions, type ChrfScore, type ExactMatchOptions, type LengthRow, type BleuTokenizerName,
} from './metrics/index.js';
export {
  crossEntropy, nllLoss, mseLoss, l1Loss, binaryCrossEntropyWithLogits, CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss,
  type Reduction, type NllLossOptions, type CrossEntropyOptions, type ReductionOptions, type BceWithLogitsOptions,
} from './nn/losses.js';
export * as optim from './optim/index.js';
export { clipGradNorm, clipGradValue } from './optim/index.js';
export * from './models/translate/index.js';
export {
  vizHtml, vizFolder, bertAttentionMaps, averageHeads, readTrainingLog, trainingCurves, screenshotHtml, lineChart, heatmap, headView,
  type VizPage, type VizFolderOptions, type VizFolderResult, type BertAttentionMaps, type TranslationAttentionMaps, type LayerHeadMaps, type LogEntry,
  type ScreenshotOptions, type Series, type LineChartOptions, type HeatmapOptions, type HeadViewOptions,
} from './viz/index.js';
export {
  exportOnnx, loadExport, ExportedBert, ExportedTranslator, ExportError, RunnerError, ManifestError, parseManifest, MANIFEST_FILE,
  type ExportOptions, type RunnerOptions, type TranslationResult, type BertAttentions, type BertRun,
  type Manifest, type BertManifest, type TranslationManifest, type TensorInfo, type GraphInfo, type TokenizerInfo,
} from './export/index.js';
