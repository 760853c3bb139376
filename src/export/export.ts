/**
 * `exportOnnx(dir, out)`: a trained model folder -> ONNX inference graphs with dynamic axes and a
 * manifest.json that plain ONNX Runtime (any language) needs nothing else to use:
 *
 *   BERT folder (HF config.json + weights)      -> model.onnx, tokenizer/ (the HF tokenizer files), and
 *                                                   the Hugging Face layout transformers.js loads as it is:
 *                                                   config.json, tokenizer.json, tokenizer_config.json,
 *                                                   vocab.txt, onnx/model.onnx (no attention outputs)
 *   translation folder (zhuyi-translate.json)   -> encoder.onnx, decoder.onnx (one decoder step),
 *                                                   tokenizer/source/, tokenizer/target/
 *
 * The graphs are traced from each model's own forward / decoder step (trace.ts, bert.ts,
 * translation.ts) with symbolic batch and sequence axes. src/export/runner.ts runs an export in Node
 * or a browser.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { BERT_CLASSES } from '../bert/folder.js';
import { type BertModelClass, BertPreTrainedModel, readBertFolder } from '../models/bert/pretrained.js';
import { CONFIG_FILE as TRANSLATE_CONFIG_FILE } from '../translate/translator.js';
import { BERT_TOKENIZER_FILES } from '../text/bert/tokenizer-core.js';
import { BERT_ARCHITECTURES, type BertArchitecture, traceBert } from './bert.js';
import { type BertManifest, MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type TokenizerInfo, manifestJson } from './manifest.js';
import { DEFAULT_OPSET, ExportError, PRODUCER, checkOpset } from './trace.js';
import { TRANSFORMERS_JS_MODEL, TRANSFORMERS_JS_QUANTIZED, TRANSFORMERS_JS_TASKS, copyFiles, listFiles, writeHubLayout } from './folder.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { exportTranslation } from './translation.js';
import { checkOptions } from '../tensor/options.js';
import { progressBar } from '../io/progress.js';

export { ExportError } from './trace.js';

export interface ExportOptions {
  /** ONNX opset of the graphs (18 to 21; default 18). */
  opset?: number;
  /** Write into `out` even when it holds files (files of the same names are replaced). */
  force?: boolean;
  /** Progress and warnings (default: none). */
  log?: (line: string) => void;
  /**
   * BERT: also write the Hugging Face layout (config.json, tokenizer files, onnx/model.onnx) that
   * `pipeline(task, out)` of @huggingface/transformers loads (default true).
   */
  transformersJs?: boolean;
  /** Keep the attention outputs in onnx/model.onnx too (default false: transformers.js does not read them). */
  transformersJsAttentions?: boolean;
  /** Also write onnx/model_quantized.onnx, int8 weights (transformers.js's dtype 'q8'; default false). */
  quantize?: boolean;
}

/** Announces the export stage about to run (the progress bar's text). */
export type Step = (stage: string) => void;

/** What kind of model folder `dir` is, or an error saying what was expected. */
export function modelFolderKind(dir: string): 'bert' | 'translation' {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ExportError(`export: ${dir} is not a folder`);
  if (existsSync(join(dir, TRANSLATE_CONFIG_FILE))) return 'translation';
  if (existsSync(join(dir, 'config.json'))) return 'bert';
  throw new ExportError(`export: ${dir} is not a model folder (expected ${TRANSLATE_CONFIG_FILE} from 'zhuyi translate train', or a Hugging Face BERT folder with config.json)`);
}

function prepareOut(out: string, force: boolean): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new ExportError(`export: ${out} exists and is not a folder`);
    if (readdirSync(out).length > 0 && !force) throw new ExportError(`export: ${out} exists and is not empty (pass --force to write into it)`);
  }
  mkdirSync(out, { recursive: true });
}

async function exportBert(dir: string, out: string, opset: number, log: (line: string) => void, options: ExportOptions, step: Step = () => {}): Promise<Omit<BertManifest, 'files'>> {
  step('loading weights');
  const folder = readBertFolder(dir);
  const config = new BertConfig(folder.config as BertConfigJSON, join(dir, 'config.json'));
  const architecture = (config.architectures?.[0] ?? 'BertModel') as BertArchitecture;
  if (!(BERT_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new ExportError(`export: ${join(dir, 'config.json')}: architecture '${architecture}' cannot be exported (supported: ${BERT_ARCHITECTURES.join(', ')})`);
  }
  const cls = BERT_CLASSES[architecture] as BertModelClass<BertPreTrainedModel>;
  const model = await BertPreTrainedModel.fromPretrained.call(cls, dir, { warn: log });
  step('tracing the graph');
  const { graph, attentions } = traceBert(model, config, architecture);
  step('writing model.onnx');
  writeFileAtomic(join(out, 'model.onnx'), graph.encode(opset));
  const tokenizerFiles = copyFiles(dir, out, 'tokenizer', BERT_TOKENIZER_FILES);
  if (tokenizerFiles.length === 0) log(`export: ${dir} has no tokenizer files (vocab.txt or tokenizer.json); the export has no tokenizer`);
  const hfConfig = config.toJSON([architecture]) as Record<string, unknown>;
  const task = TRANSFORMERS_JS_TASKS[architecture];
  let transformersJs: BertManifest['transformersJs'];
  if (options.transformersJs !== false && task) {
    const hubGraph = options.transformersJsAttentions ? graph : graph.without(new Set(attentions));
    // Without a tokenizer there is nothing to build tokenizer.json from: transformers.js then needs one added.
    const hubTokenizer = (): Record<string, string> => (tokenizerFiles.length > 0 ? BertTokenizer.fromPretrained(dir).toFiles() : {});
    step('writing onnx/model.onnx');
    writeHubLayout(out, { from: dir, config: hfConfig, model: hubGraph.encode(opset), tokenizerFiles: hubTokenizer });
    transformersJs = { task, model: TRANSFORMERS_JS_MODEL, attentions: Boolean(options.transformersJsAttentions) };
    if (options.quantize) {
      step('quantizing');
      const { graph: quantized, count: n } = hubGraph.quantized();
      writeFileAtomic(join(out, TRANSFORMERS_JS_QUANTIZED), quantized.encode(opset));
      transformersJs.quantized = TRANSFORMERS_JS_QUANTIZED;
      log(`export: ${TRANSFORMERS_JS_QUANTIZED}: ${n} weight matrices as int8 (one scale per row)`);
    }
  } else if (options.transformersJs !== false) {
    log(`export: transformers.js has no pipeline for ${architecture}; only zhuyi's layout is written`);
  }
  const tokenizer: TokenizerInfo = {
    kind: 'bert', dir: 'tokenizer', files: tokenizerFiles,
    rebuild: 'BertTokenizerCore.fromFiles({name: text}) (zhuyi), or transformers.BertTokenizerFast.from_pretrained(dir)',
  };
  return {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, kind: 'bert', opset, producer: PRODUCER, architecture,
    graphs: { model: graph.info('model.onnx') },
    attentions,
    config: hfConfig,
    tokenizer,
    ...(transformersJs ? { transformersJs } : {}),
  };
}

/**
 * Exports the model folder `dir` into `out` (see the file comment) and returns the manifest written
 * to out/manifest.json.
 */
export async function exportOnnx(dir: string, out: string, options: ExportOptions = {}): Promise<Manifest> {
  options = checkOptions('exportOnnx', options, { opset: 1, force: 1, log: 1, transformersJs: 1, transformersJsAttentions: 1, quantize: 1 });
  const opset = options.opset ?? DEFAULT_OPSET;
  const log = options.log ?? (() => {});
  const kind = modelFolderKind(dir);
  checkOpset(opset); // before any work
  prepareOut(out, options.force ?? false);
  // Stages on a progress bar in a terminal (src/io/progress.ts): a base-size model takes a while.
  const stages = kind === 'bert' ? 3 + (options.transformersJs !== false ? 1 : 0) + (options.quantize ? 1 : 0) : 3;
  const bar = progressBar({ label: 'exporting', total: stages, format: 'exporting |{bar}| {value}/{total} | {stage}', payload: { stage: '' } });
  let done = -1;
  const step: Step = (stage) => { done++; bar.update(done, { stage }); };
  try {
    const partial = kind === 'bert' ? await exportBert(dir, out, opset, log, options, step) : await exportTranslation(dir, out, opset, step);
    const manifest = { ...partial, files: listFiles(out) } as Manifest;
    writeFileAtomic(join(out, MANIFEST_FILE), manifestJson(manifest));
    bar.update(stages, { stage: 'done' });
    return manifest;
  } finally {
    bar.stop();
  }
}
