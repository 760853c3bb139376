/**
 * zhuyi (注意, "attention"): build, train, run, inspect and export attention models in TypeScript.
 * The public API follows PyTorch's vocabulary in camelCase.
 */
import { JsBackend } from './backends/js/index.js';
import { createOrtBackend } from './backends/ort/index.js';
import { registerBackend, setBackend } from './tensor/realize.js';

registerBackend('js', new JsBackend());
registerBackend('ort', createOrtBackend);
// ONNX Runtime is the default in Node; ZHUYI_BACKEND=js selects the reference backend.
setBackend(process.env.ZHUYI_BACKEND ?? 'ort');

export * from './api.js';
export { loadSafetensors, saveSafetensors, parseSafetensors, serializeSafetensors, writeFileAtomic, FileWriteError, SafetensorsError, type SafetensorsFile } from './io/safetensors.js';
export { configureOrt, endOrtProfiling, ortConfig, ortStats, resetOrtStats, type OrtOptions, type OrtStats, type GraphOptimizationLevel } from './backends/ort/index.js';
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
  vizHtml, vizFolder, bertAttentionMaps, averageHeads, readTrainingLog, trainingCurves, screenshotHtml, lineChart, heatmap, headView,
  type VizPage, type VizFolderOptions, type VizFolderResult, type BertAttentionMaps, type TranslationAttentionMaps, type LayerHeadMaps, type LogEntry,
  type ScreenshotOptions, type Series, type LineChartOptions, type HeatmapOptions, type HeadViewOptions,
} from './viz/index.js';
export {
  exportOnnx, loadExport, ExportedBert, ExportedTranslator, ExportError, RunnerError, ManifestError, parseManifest, MANIFEST_FILE,
  type ExportOptions, type RunnerOptions, type TranslationResult, type BertAttentions, type BertRun,
  type Manifest, type BertManifest, type TranslationManifest, type TensorInfo, type GraphInfo, type TokenizerInfo,
} from './export/index.js';
