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
import { JsBackend } from './backends/js/index.js';
import { createWebOrtBackend } from './backends/ort/web.js';
import { registerBackend, setBackend } from './tensor/realize.js';
import { installBrowserFolderIo } from './bert/web-files.js';

registerBackend('js', new JsBackend());
registerBackend('ort', createWebOrtBackend);
setBackend('ort');
installBrowserFolderIo();

export * from './api.js';
export { parseSafetensors, serializeSafetensors, SafetensorsError, type SafetensorsFile } from './io/safetensors-core.js';
export { configureOrt, ortConfig, ortStats, resetOrtStats, type OrtOptions, type OrtStats, type GraphOptimizationLevel } from './backends/ort/backend.js';
export { setOrtRuntime, hasWebGpu, webGpuAdapter, crossOriginIsolated, webDefaults as ortWebDefaults, type OrtWebRuntime } from './backends/ort/web.js';
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
