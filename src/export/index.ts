/** ONNX export (Node) and the isomorphic runner of exported folders. Browsers import runner.ts directly. */
export { exportOnnx, modelFolderKind, ExportError, type ExportOptions } from './export.js';
export {
  loadExport, ExportedBert, ExportedTranslator, RunnerError,
  type RunnerOptions, type Output, type BertRun, type BertAttentions, type TranslationResult,
} from './runner.js';
export {
  MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, ManifestError, parseManifest, checkManifest,
  type Manifest, type BertManifest, type TranslationManifest, type TranslationDecoding, type TranslationModelKind,
  type GraphInfo, type TensorInfo, type TokenizerInfo,
} from './manifest.js';
export { DEFAULT_OPSET, MIN_OPSET, MAX_OPSET } from './trace.js';
