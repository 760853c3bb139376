/**
 * Runs a `zhuyi export` folder with any ONNX Runtime: onnxruntime-node, or onnxruntime-web in a
 * browser. Isomorphic: this module imports no node: module and no tensor code, only the manifest,
 * the tokenizers and the pipelines' score arithmetic (all browser-safe); the caller brings the runtime.
 *
 *   import * as ort from 'onnxruntime-web';   // or 'onnxruntime-node'
 *   const model = await loadExport({
 *     Tensor: ort.Tensor,
 *     createSession: (bytes) => ort.InferenceSession.create(bytes),
 *     loadFile: async (name) => new Uint8Array(await (await fetch(`/model/${name}`)).arrayBuffer()),
 *   });                                       // manifest.json is read through loadFile unless given as `manifest`
 *   if (model.kind === 'translation') {
 *     const r = await model.translate('ich bin müde');
 *     // r.text, r.tokens (output tokens, EOS excluded), r.sourceTokens,
 *     // r.attention: (layers, heads, tokens.length, sourceTokens.length) or null (plain Seq2Seq),
 *     // r.ids, r.logProb (sum, EOS included when reached), r.stepLogProbs
 *   } else {                                  // model.kind === 'bert'
 *     await model.fillMask('the cat [MASK] on the mat');   // BertForMaskedLM / BertForPreTraining: per mask, top-k {token, tokenId, score, sequence}
 *     await model.classify('a fine film', { topK: null });  // BertForSequenceClassification: every {label, score}, best first
 *     await model.tokenClassify('Ada lives in Paris', { aggregation: 'simple' }); // BertForTokenClassification: entities with character offsets
 *     await model.attentions('the cat sat');                // any BERT: { tokens, attention: (layers, heads, seq, seq) }
 *     await model.answer('who?', 'Ada lives in Paris');     // BertForQuestionAnswering: { answer, score, start, end } (topK: a list)
 *   }
 *
 * Also: ExportedBert.architecture / config (HF config.json) / labels / numLayers / numHeads /
 * tokenizer (BertTokenizerCore) / maxLength, run(text, pair?) -> { encoding, outputs } (every graph
 * output by name); ExportedTranslator.source / target (zhuyi Tokenizers) / modelKind; `manifest` on both.
 *
 * Results follow zhuyi's own pipelines (src/bert/pipelines/index.ts, Translator.translate with
 * greedy search): the same tokenization, the same score arithmetic (src/bert/pipelines/scores.ts). A forward
 * is cached for the last input, so `fillMask(t)` then `attentions(t)` runs the model once.
 * Translation decodes one sentence, greedily or with beam search (the per-sentence core of zhuyi's
 * beamSearch, src/decode/beam.ts), the decoder graph once per step.
 */
import type { InferenceSession, Tensor as OrtTensor, TensorConstructor } from 'onnxruntime-common';
import { answerQuestion, classifyTexts, classifyTokens, fillMaskAt, lengthLimit } from '../bert/pipelines/core.js';
import {
  type AggregationStrategy, type ClassificationFunction, type EntityGroup, type FillMaskPrediction, type LabelOf, type LabelScore, type TokenEntity,
  type QaAnswer, classificationFunction, labelOf,
} from '../bert/pipelines/scores.js';
import type { BertEncoding } from '../text/bert/encoding.js';
import { BertTokenizerCore, type BertTokenizerFiles } from '../text/bert/tokenizer-core.js';
import { tokenizerFromFiles } from '../text/files.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { ZhuyiError } from '../tensor/errors.js';
import { type BertManifest, MANIFEST_FILE, type Manifest, type TokenizerInfo, type TranslationManifest, checkManifest, parseManifest } from './manifest.js';
import { checkOptions } from '../tensor/options.js';
import { type RowDecoder, beamDecode, greedyDecode, lengthCap } from '../decode/beam.js';

export type { FillMaskPrediction, LabelScore, TokenEntity, EntityGroup, AggregationStrategy, ClassificationFunction, QaAnswer } from '../bert/pipelines/scores.js';
export type { Manifest, BertManifest, TranslationManifest } from './manifest.js';

export class RunnerError extends ZhuyiError {}

export interface RunnerOptions {
  /** The runtime's Tensor class: `ort.Tensor` of the same onnxruntime package as createSession. */
  Tensor: TensorConstructor;
  /** A session from a graph's bytes, e.g. `(bytes) => ort.InferenceSession.create(bytes)`. */
  createSession: (bytes: Uint8Array) => Promise<InferenceSession>;
  /** Reads a file of the export folder by its path in the manifest ('model.onnx', 'tokenizer/vocab.txt', 'manifest.json'). */
  loadFile: (name: string) => Promise<Uint8Array>;
  /** The parsed manifest.json; read through loadFile when absent. */
  manifest?: Manifest;
}

/** A graph output, copied out of the runtime. */
export interface Output { data: Float32Array; dims: number[] }

const utf8 = new TextDecoder();

async function readText(o: RunnerOptions, name: string): Promise<string> {
  return utf8.decode(await o.loadFile(name));
}

async function tokenizerFileTexts(o: RunnerOptions, info: TokenizerInfo): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of info.files) files[name] = await readText(o, `${info.dir}/${name}`);
  return files;
}

function int64(Tensor: TensorConstructor, values: readonly number[], dims: readonly number[]): OrtTensor {
  return new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

function floats(t: OrtTensor | undefined, name: string): Output {
  if (!t) throw new RunnerError(`runner: the graph has no output '${name}'`);
  return { data: t.data as Float32Array, dims: [...t.dims] };
}

/** Loads an export folder: a translator or a BERT model, as the manifest's kind says. */
export async function loadExport(o: RunnerOptions): Promise<ExportedBert | ExportedTranslator> {
  o = checkOptions('loadExport', o, { Tensor: 1, createSession: 1, loadFile: 1, manifest: 1 });
  const manifest = o.manifest ? checkManifest(o.manifest) : parseManifest(await readText(o, MANIFEST_FILE));
  return manifest.kind === 'bert' ? ExportedBert.load({ ...o, manifest }) : ExportedTranslator.load({ ...o, manifest });
}

// ---- BERT -------------------------------------------------------------------------------------------

export interface BertRun {
  encoding: BertEncoding;
  /** Every graph output by name (head outputs and attention_0 ..), batch of one. */
  outputs: Record<string, Output>;
}

export interface BertAttentions {
  /** The input's tokens, [CLS] and [SEP] included. */
  tokens: string[];
  /** attention[layer][head][query][key]: the softmax weights (rows sum to 1). */
  attention: number[][][][];
}

export class ExportedBert {
  readonly kind = 'bert';
  private last: { key: string; run: BertRun } | null = null;

  private constructor(
    readonly manifest: BertManifest,
    private readonly session: InferenceSession,
    readonly tokenizer: BertTokenizerCore | null,
    private readonly Tensor: TensorConstructor,
  ) {}

  static async load(o: RunnerOptions & { manifest: BertManifest }): Promise<ExportedBert> {
    o = checkOptions('ExportedBert.load', o, { Tensor: 1, createSession: 1, loadFile: 1, manifest: 1 });
    const m = o.manifest;
    const session = await o.createSession(await o.loadFile(m.graphs.model.file));
    const tokenizer = m.tokenizer.files.length ? BertTokenizerCore.fromFiles(await tokenizerFileTexts(o, m.tokenizer) as BertTokenizerFiles, { source: m.tokenizer.dir }) : null;
    return new ExportedBert(m, session, tokenizer, o.Tensor);
  }

  get architecture(): string { return this.manifest.architecture; }
  get config(): Record<string, unknown> { return this.manifest.config; }
  get numLayers(): number { return this.manifest.attentions.length; }
  get numHeads(): number { return Number(this.manifest.config.num_attention_heads); }
  /** Label names by class index (config.id2label). */
  get labels(): string[] {
    const id2label = (this.manifest.config.id2label ?? {}) as Record<string, string>;
    return Object.keys(id2label).map(Number).sort((a, b) => a - b).map((k) => id2label[k]!);
  }

  private needTokenizer(what: string): BertTokenizerCore {
    if (!this.tokenizer) throw new RunnerError(`${what}: the export has no tokenizer (its model folder had no vocab.txt or tokenizer.json)`);
    return this.tokenizer;
  }

  private needArchitecture(what: string, allowed: readonly string[]): void {
    if (!allowed.includes(this.architecture)) throw new RunnerError(`${what}: needs a ${allowed.join(' or ')} export, this one is ${this.architecture}`);
  }

  /** Tokens a forward may take: the tokenizer's model_max_length, capped by max_position_embeddings. */
  get maxLength(): number {
    return lengthLimit(this.tokenizer, Number(this.manifest.config.max_position_embeddings ?? Infinity));
  }

  /** Runs the graph on one encoded input, or a batch of equally long ones. */
  async forward(encodings: BertEncoding | readonly BertEncoding[]): Promise<Record<string, Output>> {
    const batch: readonly BertEncoding[] = 'inputIds' in encodings ? [encodings] : encodings;
    const feed = (k: 'inputIds' | 'attentionMask' | 'tokenTypeIds'): OrtTensor => int64(this.Tensor, batch.flatMap((e) => e[k]), [batch.length, batch[0]!.inputIds.length]);
    const feeds = { input_ids: feed('inputIds'), attention_mask: feed('attentionMask'), token_type_ids: feed('tokenTypeIds') };
    const res = await this.session.run(feeds);
    const out: Record<string, Output> = {};
    for (const o of this.manifest.graphs.model.outputs) out[o.name] = floats(res[o.name], o.name);
    return out;
  }

  /**
   * Encodes `text` (and `textPair`) with offsets and special-token masks and runs the model; the
   * last run is cached. `truncate` cuts to maxLength; otherwise a longer input is an error.
   */
  async run(text: string, textPair: string | null = null, truncate = true): Promise<BertRun> {
    const tok = this.needTokenizer('run');
    const limit = this.maxLength;
    const enc = tok.encode(text, textPair, {
      returnOffsetsMapping: true, returnSpecialTokensMask: true, ...(truncate && Number.isFinite(limit) ? { truncation: true, maxLength: limit } : {}),
    });
    if (enc.inputIds.length > limit) throw new RunnerError(`run: the text is ${enc.inputIds.length} tokens with [CLS] and [SEP]; the model takes at most ${limit}`);
    // Keyed by what the model sees, so fillMask (never truncates) and attentions (truncates) share a run.
    const key = `${text}\u0000${textPair ?? ''}\u0000${enc.inputIds.join(',')}\u0000${enc.tokenTypeIds.join(',')}`;
    if (this.last?.key === key) return this.last.run;
    const run = { encoding: enc, outputs: await this.forward(enc) };
    this.last = { key, run };
    return run;
  }

  /** Every layer's attention weights for the text, (layers, heads, seq, seq). */
  async attentions(text: string, textPair: string | null = null): Promise<BertAttentions> {
    const { encoding, outputs } = await this.run(text, textPair);
    const T = encoding.inputIds.length;
    const attention = this.manifest.attentions.map((name) => {
      const { data, dims } = outputs[name]!;
      const H = dims[1]!;
      return Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, q) => Array.from(data.subarray((h * T + q) * T, (h * T + q + 1) * T))));
    });
    return { tokens: encoding.tokens, attention };
  }

  /** HF's fill-mask: the topK tokens (default 5) at every mask token of the text, one list per mask. */
  async fillMask(text: string, options: { topK?: number; targets?: readonly string[] } = {}): Promise<FillMaskPrediction[][]> {
    options = checkOptions('ExportedBert.fillMask', options, { topK: 1, targets: 1 });
    this.needArchitecture('fillMask', ['BertForMaskedLM', 'BertForPreTraining']);
    const V = Number(this.manifest.config.vocab_size);
    return fillMaskAt('fillMask', RunnerError, this.needTokenizer('fillMask'), this.maxLength, V, text, options, async (_, positions) => {
      const { outputs } = await this.run(text, null, false); // the run attentions(text) reuses
      const logits = (outputs.logits ?? outputs.prediction_logits!).data; // (1, T, V)
      const rows = new Float32Array(positions.length * V);
      positions.forEach((t, i) => rows.set(logits.subarray(t * V, (t + 1) * V), i * V));
      return rows;
    });
  }

  /** HF's text classification, as zhuyi's `classify` pipeline: labels with scores, best first; topK 1 by default, null for all. */
  async classify(text: string, o: { topK?: number | null; functionToApply?: ClassificationFunction; textPair?: string } = {}): Promise<LabelScore[]> {
    o = checkOptions('ExportedBert.classify', o, { topK: 1, functionToApply: 1, textPair: 1 });
    this.needArchitecture('classify', ['BertForSequenceClassification']);
    const K = this.labels.length;
    const fn = o.functionToApply ?? classificationFunction(this.manifest.config.problem_type as string | null | undefined, K);
    const [scores] = await classifyTexts('classify', RunnerError, this.needTokenizer('classify'), this.maxLength, [text], { ...o, functionToApply: fn }, K, this.label, async (encs) => (await this.forward(encs)).logits!.data);
    return scores!;
  }

  /** HF's token classification (NER), as zhuyi's `tokenClassify` pipeline (windows with `stride`); entities carry character offsets. */
  async tokenClassify(text: string, o: { aggregation?: AggregationStrategy; ignoreLabels?: readonly string[]; stride?: number } = {}): Promise<(TokenEntity | EntityGroup)[]> {
    o = checkOptions('ExportedBert.tokenClassify', o, { aggregation: 1, ignoreLabels: 1, stride: 1 });
    this.needArchitecture('tokenClassify', ['BertForTokenClassification']);
    return classifyTokens('tokenClassify', RunnerError, this.needTokenizer('tokenClassify'), this.maxLength, text, o, this.label, async (windows) => (await this.forward(windows)).logits!.data);
  }

  private get label(): LabelOf {
    return labelOf(this.manifest.config.id2label as Record<string, string>);
  }

  /**
   * HF's question answering (extractive), as zhuyi's `answer` pipeline: the context in windows of
   * maxSeqLength tokens (default 384, capped by maxLength) overlapping by docStride, the best span
   * by p(start) * p(end). Returns the best answer, or the topK best when topK is given.
   */
  async answer(question: string, context: string, o: { topK?: number; maxAnswerLength?: number; maxSeqLength?: number; docStride?: number; handleImpossibleAnswer?: boolean; alignToWords?: boolean } = {}): Promise<QaAnswer | QaAnswer[]> {
    o = checkOptions('ExportedBert.answer', o, { topK: 1, maxAnswerLength: 1, maxSeqLength: 1, docStride: 1, handleImpossibleAnswer: 1, alignToWords: 1 });
    this.needArchitecture('answer', ['BertForQuestionAnswering']);
    return answerQuestion('answer', RunnerError, this.needTokenizer('answer'), this.maxLength, question, context, o, async (windows) => {
      const out = await this.forward(windows);
      return { start: out.start_logits!.data, end: out.end_logits!.data };
    });
  }
}

// ---- translation ------------------------------------------------------------------------------------

export interface TranslationResult {
  /** The translation, as the target tokenizer decodes `ids`. */
  text: string;
  /** Output tokens, EOS excluded. */
  tokens: string[];
  ids: number[];
  /** The source as the model saw it (an empty source is one <unk>). */
  sourceTokens: string[];
  sourceIds: number[];
  /**
   * attention[layer][head][output token][source token]: cross-attention weights of each output
   * token (the Transformer: every decoder layer and head; the attention RNN: one layer, one head);
   * null for the plain Seq2Seq, which has none.
   */
  attention: number[][][][] | null;
  /** Sum of the chosen tokens' log-probabilities, EOS included when reached (zhuyi's Hypothesis.logProb). */
  logProb: number;
  /** log p of the token chosen at each step, EOS included when reached. */
  stepLogProbs: number[];
}

/** The rows `rows` of a tensor along `axis` (beam search reorders the state this way). */
function pickRows(Tensor: TensorConstructor, t: OrtTensor, axis: number, rows: readonly number[]): OrtTensor {
  const dims = [...t.dims];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = dims[axis]!;
  const src = t.data as Float32Array | BigInt64Array;
  const out = new (src.constructor as { new (n: number): Float32Array | BigInt64Array })(outer * rows.length * inner);
  for (let o = 0; o < outer; o++) {
    rows.forEach((r, j) => out.set(src.subarray((o * n + r) * inner, (o * n + r + 1) * inner) as never, (o * rows.length + j) * inner));
  }
  dims[axis] = rows.length;
  return new Tensor(t.type as 'float32', out as Float32Array, dims);
}

export class ExportedTranslator {
  readonly kind = 'translation';

  private constructor(
    readonly manifest: TranslationManifest,
    private readonly encoder: InferenceSession,
    private readonly decoder: InferenceSession,
    readonly source: Tokenizer,
    readonly target: Tokenizer,
    private readonly Tensor: TensorConstructor,
  ) {}

  static async load(o: RunnerOptions & { manifest: TranslationManifest }): Promise<ExportedTranslator> {
    o = checkOptions('ExportedTranslator.load', o, { Tensor: 1, createSession: 1, loadFile: 1, manifest: 1 });
    const m = o.manifest;
    const encoder = await o.createSession(await o.loadFile(m.graphs.encoder.file));
    const decoder = await o.createSession(await o.loadFile(m.graphs.decoder.file));
    const source = tokenizerFromFiles(await tokenizerFileTexts(o, m.tokenizer.source), m.tokenizer.source.dir);
    const target = tokenizerFromFiles(await tokenizerFileTexts(o, m.tokenizer.target), m.tokenizer.target.dir);
    return new ExportedTranslator(m, encoder, decoder, source, target, o.Tensor);
  }

  get modelKind(): string { return this.manifest.config.modelKind; }

  /** The batch axis of a graph value by its manifest axes ('batch_size'), or -1. */
  private batchAxis(name: string): number {
    const { encoder, decoder } = this.manifest.graphs;
    const info = [...decoder.inputs, ...decoder.outputs, ...encoder.outputs, ...encoder.inputs].find((x) => x.name === name);
    return info ? info.axes.findIndex((a) => a === 'batch_size' || a === 'batch') : -1;
  }

  /**
   * Translates one sentence: greedy (beamSize 1, default) or beam search with the GNMT length
   * penalty `lengthPenalty` (default 0), as zhuyi's greedySearch / beamSearch; `maxLength` caps the
   * output tokens (default ceil(2 * source tokens + 10)).
   */
  async translate(text: string, o: { maxLength?: number; beamSize?: number; lengthPenalty?: number } = {}): Promise<TranslationResult> {
    o = checkOptions('ExportedTranslator.translate', o, { maxLength: 1, beamSize: 1, lengthPenalty: 1 });
    const K = o.beamSize ?? 1;
    if (!Number.isInteger(K) || K < 1) throw new RunnerError(`translate: beamSize must be a positive integer, got ${K}`);
    const { config, decoding } = this.manifest;
    let sourceIds = this.source.encode(text);
    let sourceTokens = this.source.tokenize(text);
    if (sourceIds.length === 0) {
      sourceIds = [this.source.vocab.unkId];
      sourceTokens = [this.source.vocab.token(this.source.vocab.unkId)];
    }
    const S = sourceIds.length;
    const cap = lengthCap(o.maxLength ?? Infinity, S, decoding.maxLength.ratio, decoding.maxLength.offset);
    const encoderFeeds: Record<string, OrtTensor> = { src: int64(this.Tensor, sourceIds, [1, S]), src_lengths: int64(this.Tensor, [S], [1]) };
    // Per row: every decoder input but the token (state, encoder outputs, src_lengths); one row to start.
    const encoded = await this.encoder.run(encoderFeeds);
    const rowsOf: Record<string, OrtTensor> = {};
    for (const input of this.manifest.graphs.decoder.inputs) {
      const name = input.name;
      if (name === 'input_ids' || name === 'tokens' || name === 'attention_mask') continue;
      const t = encoded[name] ?? encoderFeeds[name];
      if (t) rowsOf[name] = t;
      else if (decoding.state.some((s) => s.input === name)) { // an empty cache: past_sequence_length 0
        const dims = input.axes.map((a) => (a === 'batch_size' ? 1 : typeof a === 'number' ? a : 0));
        rowsOf[name] = new this.Tensor('float32', new Float32Array(0), dims);
      } else throw new RunnerError(`translate: nothing feeds the decoder input '${name}'`);
    }
    const tokenInput = this.manifest.graphs.decoder.inputs.some((i) => i.name === 'input_ids') ? 'input_ids' : 'tokens';
    const masked = this.manifest.graphs.decoder.inputs.some((i) => i.name === 'attention_mask');
    // zhuyi's greedySearch / beamSearch loops (src/decode/beam.ts), one decoder run per step: the
    // newest token of each row, with the padding mask of its tokens so far; beams reorder the rows.
    const decoder: RowDecoder = {
      step: async (last, prefixes) => {
        const feeds: Record<string, OrtTensor> = { ...rowsOf, [tokenInput]: int64(this.Tensor, last, tokenInput === 'input_ids' ? [last.length, 1] : [last.length]) };
        if (masked) feeds.attention_mask = int64(this.Tensor, prefixes.flatMap((p) => p.map((id) => (id === config.padId ? 0 : 1))), [prefixes.length, prefixes[0]!.length]);
        const out = await this.decoder.run(feeds);
        const lp = out[decoding.logProbs]!;
        for (const s of decoding.state) rowsOf[s.input] = out[s.output]!;
        return { logProbs: lp.data as Float32Array, V: lp.dims[1]!, attention: decoding.attention ? out[decoding.attention.output]!.data as Float32Array : null };
      },
      select: (rows) => {
        for (const [name, t] of Object.entries(rowsOf)) rowsOf[name] = pickRows(this.Tensor, t, this.batchAxis(name), rows);
      },
    };
    const { bosId, eosId } = config;
    const best = K === 1 ? (await greedyDecode(decoder, [cap], bosId, eosId))[0]!
      : (await beamDecode(decoder, [cap], { beamSize: K, eos: eosId, lengthPenalty: o.lengthPenalty ?? 0, nBest: 1 }, bosId))[0]![0]!;
    const ids = best.tokens;
    const n = ids.length;
    let attention: number[][][][] | null = null;
    if (decoding.attention) {
      // Per step (layers, heads, S) or (S): attention[layer][head][token][source].
      const axes = decoding.attention.axes;
      const [L, H] = axes.length === 4 ? [axes[1] as number, axes[2] as number] : [1, 1];
      attention = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => best.attention!.slice(0, n).map((a) => a.slice((l * H + h) * S, (l * H + h + 1) * S))));
    }
    return {
      text: this.target.decode(ids),
      tokens: ids.map((id) => this.target.vocab.token(id)),
      ids,
      sourceTokens,
      sourceIds,
      attention,
      logProb: best.logProb,
      stepLogProbs: best.stepLogProbs,
    };
  }
}
