/**
 * zhuyi for browsers (`import * as z from 'zhuyi/browser'`): the same tensors, autograd, nn, optim,
 * models, tokenizers, decoding and metrics as the Node entry (index.ts), with no Node module
 * reachable. `ort` is the default backend, on onnxruntime-web (an optional peer dependency; see
 * backends/ort/web.ts), so a whole training step compiles to ONNX and runs in one call here too.
 *
 * What differs from Node is file access: nothing takes a path. Inputs are bytes (`ArrayBuffer`,
 * `Uint8Array`, a `File` or `Blob`, a URL to fetch); outputs are bytes to download (safetensors, an
 * HF folder as a zip). See bert/web-files.ts.
 */
import './ops/index.js';
import { JsBackend } from './backends/js/index.js';
import { createWebOrtBackend } from './backends/ort/web.js';
import { registerBackend, setBackend } from './tensor/realize.js';
import { installBrowserFolderIo } from './bert/web-files.js';

registerBackend('js', new JsBackend());
registerBackend('ort', createWebOrtBackend);
setBackend('ort');
installBrowserFolderIo();

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
export { parseSafetensors, serializeSafetensors, SafetensorsError, type SafetensorsFile } from './io/safetensors-core.js';
export { configureOrt, ortConfig, ortStats, resetOrtStats, type OrtOptions, type OrtStats, type GraphOptimizationLevel } from './backends/ort/backend.js';
export { setOrtRuntime, hasWebGpu, webGpuAdapter, crossOriginIsolated, webDefaults as ortWebDefaults, type OrtWebRuntime } from './backends/ort/web.js';
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
  BERT_TOKENIZER_FILES, BertTokenizerCore, type BertTokenizerFiles, type FromFilesOptions as BertTokenizerFromFilesOptions,
  type BertTokenizerOptions, type DecodeOptions as BertDecodeOptions,
} from './text/bert/tokenizer-core.js';
export { BasicTokenizer, type BasicTokenizerOptions, type AlignedToken } from './text/bert/basic.js';
export { WordpieceTokenizer, type WordPiece } from './text/bert/wordpiece.js';
export { type BertEncoding, type EncodeOptions as BertEncodeOptions, type TruncationStrategy, type PaddingStrategy } from './text/bert/encoding.js';
export { parseVocabTxt } from './text/bert/files.js';
export { BertTokenizerError } from './text/bert/errors.js';
export { BertConfig, BertConfigError, BERT_ACTIVATIONS, type BertActivation, type BertConfigJSON, type ProblemType } from './models/bert/config.js';
export {
  BertPreTrainedModel, BertCheckpointError, bertFolderFromFiles, setBertFolderIo,
  type LoadingInfo, type FromPretrainedOptions as BertFromPretrainedOptions, type BertConstructorOptions, type BertModelClass, type HfFolder,
  type BertFolderFiles, type BertFolderIo,
} from './models/bert/pretrained-core.js';
export {
  BertModel, BertEmbeddings, BertSelfAttention, BertSelfOutput, BertAttention, BertIntermediate, BertOutput, BertLayer, BertEncoder, BertPooler,
  activation as bertActivation, extendedAttentionMask, type BertForwardOptions, type BertModelOutput,
} from './models/bert/modeling.js';
export {
  BertForPreTraining, BertForMaskedLM, BertForNextSentencePrediction, BertForSequenceClassification, BertForTokenClassification,
  BertForQuestionAnswering, BertForMultipleChoice, BertPredictionHeadTransform, BertLMPredictionHead, BertOnlyMLMHead, BertOnlyNSPHead,
  BertPreTrainingHeads, type BertHeadOutput, type BertForwardWithLabels, type BertPreTrainingOutput, type QuestionAnsweringOutput,
} from './models/bert/heads.js';
export {
  fillMask, classify, tokenClassify, answer, embed, defaultClassificationFunction, PipelineError,
  type FillMaskOptions, type FillMaskPrediction, type ClassifyOptions, type ClassificationFunction, type LabelScore,
  type AggregationStrategy, type TokenClassifyOptions, type TokenEntity, type EntityGroup, type AnswerOptions, type QaAnswer,
  type EmbedOptions, type EmbedPooling,
} from './bert/pipelines/index.js';
export { CheckpointError, UnsafePickleError } from './io/checkpoint-error.js';
export { Vocab, TokenizerError, SPECIAL_TOKENS, PAD, UNK, BOS, EOS, type BuildVocabOptions } from './text/vocab.js';
export {
  CharTokenizer, WordTokenizer, VocabTokenizer,
  type Tokenizer, type EncodeOptions as TokenizerEncodeOptions, type DecodeOptions as TokenizerDecodeOptions, type CharTokenizerOptions, type WordTokenizerOptions,
} from './text/tokenizer.js';
export { BpeTokenizer, type BpeOptions, type HfTokenizerJson } from './text/bpe.js';
export { trainBpe, type BpeTrainerOptions } from './text/bpe-trainer.js';
export { registerTokenizerKind, tokenizerFiles, tokenizerFromFiles, TOKENIZER_CONFIG_FILE, type TokenizerLoader, type TokenizerFileTexts } from './text/files.js';
export { normalizeText, preTokenize, isCjkIdeograph, type NormalizeOptions } from './text/normalize.js';
export { BucketBatcher, filterByLength, DEFAULT_BUCKETS, type Batch, type BatchOptions, type DataPosition, type LengthFilter, type TokenizedExample } from './data/batching.js';
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
export { greedySearch, beamSearch, type DecoderStepper, type StepResult, type SearchOptions, type BeamOptions, type Hypothesis } from './decode/search.js';
export { lineChart, heatmap, headView, type Series, type LineChartOptions, type HeatmapOptions, type HeadViewOptions } from './viz/svg.js';
export { translationAttentionMaps, bertAttentionMaps, averageHeads, type TranslationAttentionMaps, type BertAttentionMaps, type LayerHeadMaps } from './viz/attention.js';
export {
  loadExport, ExportedBert, ExportedTranslator, RunnerError,
  type RunnerOptions, type BertRun, type BertAttentions, type TranslationResult,
} from './export/runner.js';
export { MANIFEST_FILE, ManifestError, parseManifest, type Manifest, type BertManifest, type TranslationManifest, type GraphInfo, type TensorInfo, type TokenizerInfo } from './export/manifest.js';
export {
  BertTokenizer, readBytes, fetchBytes, downloadBytes, filesByName, hfFolderZip, zipFiles, type BytesSource,
} from './bert/web-files.js';
