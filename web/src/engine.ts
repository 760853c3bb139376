/**
 * The explorer's model: an exported folder served under ./model/, run in this page by zhuyi's
 * isomorphic runner (src/export/runner.ts) on onnxruntime-web's WASM backend, and turned into what
 * the page shows for each kind of model.
 *
 * Offline: the WASM runtime comes from ./ort/ next to the bundle (copied there by vite.config.ts),
 * never from a CDN. One thread: more would need a cross-origin-isolated page (COOP/COEP headers),
 * and the demo models are too small to gain from it.
 */
import * as ort from 'onnxruntime-web/wasm';
import { type ExportedBert, type ExportedTranslator, type FillMaskPrediction, loadExport } from '../../src/export/runner.js';
import type { Attention } from './views.js';

ort.env.wasm.wasmPaths = new URL('./ort/', document.baseURI).href;
ort.env.wasm.numThreads = 1;

export interface TranslationResult {
  text: string;
  /** Rows of the alignment: the output tokens (EOS excluded). */
  outputTokens: string[];
  /** Columns: the source tokens as the model saw them. */
  sourceTokens: string[];
  /** [layers][heads][output][source]; empty for the plain Seq2Seq. */
  crossAttention: Attention;
}

export interface LabelScore { label: string; score: number }

export interface BertResult {
  /** The input's tokens, [CLS] and [SEP] included. */
  tokens: string[];
  /** [layers][heads][query][key]. */
  attentions: Attention;
  /** Masked LM: per [MASK], the candidates; [] when the text has no [MASK]. */
  fillMask?: LabelScore[][];
  /** Sequence classification: every label, best first. */
  classes?: LabelScore[];
  /** Token classification: the entities found (words grouped, HF's 'simple' aggregation). */
  tokenLabels?: Array<{ word: string; label: string; score: number }>;
}

/** What the page needs of a model, whatever its kind. */
export type Engine =
  | { task: 'translation'; description: string; example: string; run(text: string): Promise<TranslationResult> }
  | { task: 'bert'; head: BertHead; description: string; example: string; run(text: string): Promise<BertResult> };

export type BertHead = 'masked-lm' | 'sequence-classification' | 'token-classification' | 'none';

function bertHead(architecture: string): BertHead {
  if (architecture === 'BertForMaskedLM' || architecture === 'BertForPreTraining') return 'masked-lm';
  if (architecture === 'BertForSequenceClassification') return 'sequence-classification';
  if (architecture === 'BertForTokenClassification') return 'token-classification';
  return 'none';
}

/** Loads manifest.json, the graphs and the tokenizers from `base` (a URL ending in /). */
export async function loadEngine(base: URL): Promise<Engine> {
  const model = await loadExport({
    Tensor: ort.Tensor,
    createSession: (bytes) => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
    loadFile: async (name) => {
      const url = new URL(name, base);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  });
  return model.kind === 'translation' ? translationEngine(model) : bertEngine(model);
}

function translationEngine(t: ExportedTranslator): Engine {
  const c = t.manifest.config;
  const shape = c.modelKind === 'transformer'
    ? `Transformer, ${String(c.numEncoderLayers)}+${String(c.numDecoderLayers)} layers, ${String(c.nHead)} heads, d_model ${String(c.dModel)}`
    : c.modelKind === 'attention' ? 'RNN encoder-decoder with attention' : 'RNN encoder-decoder (no attention)';
  // A first sentence that needs no typing: a few words of the source vocabulary.
  const words = t.source.vocab.tokens.filter((_, id) => !t.source.vocab.isSpecialId(id)).slice(0, 5);
  return {
    task: 'translation',
    description: `translation: ${shape}; vocabulary ${String(c.srcVocabSize)} source, ${String(c.tgtVocabSize)} target; greedy decoding`,
    example: words.join(t.source.kind === 'char' ? '' : ' '),
    async run(text) {
      const r = await t.translate(text);
      return { text: r.text, outputTokens: r.tokens, sourceTokens: r.sourceTokens, crossAttention: r.attention ?? [] };
    },
  };
}

const asLabels = (candidates: FillMaskPrediction[]): LabelScore[] => candidates.map((p) => ({ label: p.token, score: p.score }));

function bertEngine(b: ExportedBert): Engine {
  const head = bertHead(b.architecture);
  const c = b.config;
  const mask = b.tokenizer?.maskToken ?? '[MASK]';
  return {
    task: 'bert',
    head,
    description: `BERT (${b.architecture}): ${b.numLayers} layers, ${b.numHeads} heads, hidden ${String(c.hidden_size)}, vocabulary ${String(c.vocab_size)}`,
    example: head === 'masked-lm' ? `the cat sat on the ${mask} .` : 'the cat sat on the mat .',
    async run(text) {
      // One forward serves the attentions and the head's predictions (the runner caches it).
      const { tokens, attention } = await b.attentions(text);
      const result: BertResult = { tokens, attentions: attention };
      if (head === 'masked-lm') result.fillMask = tokens.includes(mask) ? (await b.fillMask(text)).map(asLabels) : [];
      else if (head === 'sequence-classification') result.classes = await b.classify(text, { topK: null });
      else if (head === 'token-classification') {
        result.tokenLabels = (await b.tokenClassify(text, { aggregation: 'simple' })).map((e) => ({
          word: e.word, label: 'entityGroup' in e ? e.entityGroup : e.entity, score: e.score,
        }));
      }
      return result;
    },
  };
}
