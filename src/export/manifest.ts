/**
 * manifest.json of an exported folder (`zhuyi export DIR --onnx OUT`): what each ONNX file takes
 * and returns, the model config, and the tokenizer files copied beside it. Plain JSON, readable by
 * any runtime; src/export/runner.ts is zhuyi's reader. No file system here (browsers import it).
 *
 * Axes are names for dynamic sizes (Optimum's and transformers.js's: 'batch_size',
 * 'sequence_length', 'num_choices', 'past_sequence_length', 'total_sequence_length'; 'src_len') or
 * numbers for fixed ones. Integer inputs are int64 (ONNX's index type); values are float32.
 */
import { ZhuyiError } from '../tensor/errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'zhuyi-onnx';
export const MANIFEST_VERSION = 1;

export class ManifestError extends ZhuyiError {}

export interface TensorInfo {
  name: string;
  dtype: 'int64' | 'float32' | 'bool';
  axes: (string | number)[];
  /** What the value is, in a few words. */
  doc?: string;
}

export interface GraphInfo {
  file: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

/**
 * A tokenizer copied into the export folder: `dir` holds `files` (text). BERT: an HF tokenizer folder
 * (BertTokenizerCore.fromFiles, or transformers' BertTokenizerFast.from_pretrained(dir)); zhuyi:
 * a saveTokenizer folder (tokenizerFromFiles from src/text/files.ts).
 */
export interface TokenizerInfo {
  kind: 'bert' | 'zhuyi';
  dir: string;
  files: string[];
  rebuild: string;
}

interface ManifestBase {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  /** The ONNX opset of every graph. */
  opset: number;
  producer: string;
  /** Every file of the folder, manifest.json aside, relative to it. */
  files: string[];
}

export interface BertManifest extends ManifestBase {
  kind: 'bert';
  /** config.architectures[0]: BertModel, BertForMaskedLM, BertForSequenceClassification, ... */
  architecture: string;
  graphs: { model: GraphInfo };
  /** Output names of the per-layer attention probabilities, attention_0 .. attention_{L-1}, each (batch, heads, sequence, sequence). */
  attentions: string[];
  /** The model's Hugging Face config.json, id2label included. */
  config: Record<string, unknown>;
  tokenizer: TokenizerInfo;
  /**
   * The Hugging Face layout at the folder's root (config.json, tokenizer.json, tokenizer_config.json,
   * onnx/model.onnx), which `pipeline(task, folder)` of @huggingface/transformers loads; absent for
   * architectures without a transformers.js pipeline or when the export was asked not to write it.
   */
  transformersJs?: { task: string; model: string; attentions: boolean; quantized?: string };
}

export type TranslationModelKind = 'seq2seq' | 'attention' | 'transformer';

export interface TranslationDecoding {
  /**
   * The decoder's token input: 'last' = input_ids (batch_size, 1), the newest token of every row
   * (BOS at the first step); the decoder carries the rest in its state. ('prefix', every token so
   * far, is what exports before the traced decoders fed.) A Transformer decoder also takes
   * attention_mask (batch_size, total_sequence_length): 1 for each token so far, 0 for padding.
   */
  tokens: 'last' | 'prefix';
  /**
   * Decoder state: fed from the encoder output `input` at the first step (or, when the encoder has
   * none, an empty tensor: a key/value cache of past_sequence_length 0), then from the decoder
   * output `output`. The Transformer's are Optimum's names: past_key_values.{i}.decoder.key/value
   * in, present.{i}.decoder.key/value out; its past_key_values.{i}.encoder.key/value (the memory's
   * cross-attention keys and values) are encoder outputs fed unchanged every step.
   */
  state: { input: string; output: string }[];
  /**
   * Other decoder inputs are fed, by name, from the encoder's outputs or inputs (memory, src_lengths).
   * `logProbs` is the decoder output with log p(next token) (batch, vocab).
   */
  logProbs: string;
  /** The decoder output with the step's attention over the source, or null, and its layout. */
  attention: { output: string; axes: (string | number)[] } | null;
  /** Greedy search stops at EOS or after ceil(ratio * srcLength + offset) tokens (zhuyi translate's default). */
  maxLength: { ratio: number; offset: number };
  /** The loop above in words, for readers without zhuyi. */
  recipe: string;
}

/** TranslationDecoding.recipe: how to decode greedily with the two graphs. */
export const DECODING_RECIPE = 'Run encoder.onnx once on src and src_lengths. Each step, run decoder.onnx: input_ids (batch, 1) is the '
  + 'previous token (bosId at the first step), attention_mask (if an input) 1 for every token so far that is not padId, each decoding.state '
  + 'input its latest value (the encoder output of that name at the first step, or an empty tensor with 0 past positions; then the '
  + 'decoder output decoding.state[].output), every other input the encoder output or input of the same name. Append argmax(log_probs) '
  + '(or keep the beamSize best rows, reordering the state rows); stop at eosId or after ceil(ratio * srcLength + offset) tokens.';

/** JSON with arrays of numbers and strings on one line (axes, file lists), the rest indented. */
export function manifestJson(m: Manifest): string {
  const inline = new Map<string, string>();
  const text = JSON.stringify(m, (_, v: unknown) => {
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string') && v.length <= 8) {
      const key = `\u0000${inline.size}\u0000`;
      inline.set(key, `[${v.map((x) => JSON.stringify(x)).join(', ')}]`);
      return key;
    }
    return v;
  }, 2);
  return `${text.replace(/"\\u0000(\d+)\\u0000"/g, (_, k: string) => inline.get(`\u0000${k}\u0000`)!)}\n`;
}

export interface TranslationManifest extends ManifestBase {
  kind: 'translation';
  graphs: { encoder: GraphInfo; decoder: GraphInfo };
  /** The model config (zhuyi-translate.json's `config`) with `modelKind`; padId, bosId, eosId are target ids. */
  config: Record<string, unknown> & { modelKind: TranslationModelKind; padId: number; bosId: number; eosId: number; srcVocabSize: number; tgtVocabSize: number };
  decoding: TranslationDecoding;
  tokenizer: { source: TokenizerInfo; target: TokenizerInfo };
}

export type Manifest = BertManifest | TranslationManifest;

/** Parses and checks manifest.json; `source` names it in errors. */
export function parseManifest(text: string, source = MANIFEST_FILE): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return checkManifest(m, source);
}

export function checkManifest(m: unknown, source = MANIFEST_FILE): Manifest {
  const fail = (what: string): never => { throw new ManifestError(`${source}: ${what}`); };
  if (typeof m !== 'object' || m === null) fail('expected a JSON object');
  const o = m as Record<string, unknown>;
  if (o.format !== MANIFEST_FORMAT) fail(`format is ${JSON.stringify(o.format)}, expected "${MANIFEST_FORMAT}" (not a zhuyi export)`);
  if (o.version !== MANIFEST_VERSION) fail(`version ${JSON.stringify(o.version)} is not supported (this zhuyi reads version ${MANIFEST_VERSION})`);
  const graphs = o.graphs as Record<string, unknown> | undefined;
  if (typeof graphs !== 'object' || graphs === null) fail('missing "graphs"');
  if (o.kind === 'bert') {
    if (!graphs!.model) fail('missing graphs.model');
    if (!Array.isArray(o.attentions)) fail('missing "attentions"');
  } else if (o.kind === 'translation') {
    if (!graphs!.encoder || !graphs!.decoder) fail('missing graphs.encoder or graphs.decoder');
    if (typeof o.decoding !== 'object' || o.decoding === null) fail('missing "decoding"');
  } else fail(`kind is ${JSON.stringify(o.kind)}, expected "bert" or "translation"`);
  if (typeof o.config !== 'object' || o.config === null) fail('missing "config"');
  if (typeof o.tokenizer !== 'object' || o.tokenizer === null) fail('missing "tokenizer"');
  return m as Manifest;
}
