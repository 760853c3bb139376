/**
 * BertConfig: Hugging Face's config.json for BERT, key for key. The JSON form (snake_case, exactly
 * HF's keys) is the source of truth and what `toJSON` writes back; the camelCase getters are typed
 * views over it. Keys zhuyi does not use (`output_past`, `gradient_checkpointing`, ...) are kept and
 * written back unchanged, as HF's PretrainedConfig keeps unknown attributes.
 */
import { ZhuyiError } from '../../tensor/errors.js';

export class BertConfigError extends ZhuyiError {}

/** Activations HF's ACT2FN offers for BERT that zhuyi implements (`gelu` is the exact erf form). */
export const BERT_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish', 'tanh'] as const;
export type BertActivation = (typeof BERT_ACTIVATIONS)[number];

export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

/** config.json as HF writes it. Every key is optional; missing keys take HF's defaults (BERT-base). */
export interface BertConfigJSON {
  vocab_size?: number;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  hidden_act?: string;
  hidden_dropout_prob?: number;
  attention_probs_dropout_prob?: number;
  max_position_embeddings?: number;
  type_vocab_size?: number;
  initializer_range?: number;
  layer_norm_eps?: number;
  pad_token_id?: number;
  position_embedding_type?: string;
  use_cache?: boolean;
  classifier_dropout?: number | null;
  num_labels?: number;
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  problem_type?: ProblemType | null;
  architectures?: string[];
  model_type?: string;
  [extra: string]: unknown;
}

// HF's BertConfig.__init__ defaults (bert-base-uncased).
const DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  use_cache: true,
  classifier_dropout: null as number | null,
  problem_type: null as ProblemType | null,
};

// Keys HF's PretrainedConfig derives or rewrites itself; they are not copied as extras.
const DERIVED = new Set(['num_labels', '_num_labels', 'id2label', 'label2id', 'architectures', 'model_type', 'transformers_version']);

export class BertConfig {
  readonly json: Required<Pick<BertConfigJSON, keyof typeof DEFAULTS>> & BertConfigJSON;
  /** Label names by class index. HF's default for 2 labels is LABEL_0, LABEL_1. */
  readonly id2label: Record<number, string>;
  readonly label2id: Record<string, number>;

  constructor(json: BertConfigJSON = {}, source = 'BertConfig') {
    const fail = (msg: string): never => { throw new BertConfigError(`${source}: ${msg}`); };
    if (json.model_type !== undefined && json.model_type !== 'bert') {
      fail(`model_type is '${String(json.model_type)}', not 'bert' (other families differ in layout and position ids)`);
    }
    const merged = { ...DEFAULTS, ...json } as BertConfig['json'];
    for (const k of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
      const v = merged[k];
      if (!Number.isInteger(v) || (v as number) <= 0) fail(`${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    if (merged.hidden_size % merged.num_attention_heads !== 0) {
      fail(`hidden_size (${merged.hidden_size}) is not a multiple of num_attention_heads (${merged.num_attention_heads})`);
    }
    if (!(BERT_ACTIVATIONS as readonly string[]).includes(merged.hidden_act)) {
      fail(`hidden_act '${merged.hidden_act}' is not supported (supported: ${BERT_ACTIVATIONS.join(', ')})`);
    }
    if (merged.position_embedding_type !== 'absolute') {
      fail(`position_embedding_type '${merged.position_embedding_type}' is not supported; only 'absolute' is (relative_key / relative_key_query need distance embeddings zhuyi does not implement)`);
    }
    // PretrainedConfig: id2label wins over num_labels, which wins over the legacy _num_labels; default 2.
    let id2label: Record<number, string>;
    if (json.id2label && Object.keys(json.id2label).length) {
      id2label = Object.fromEntries(Object.entries(json.id2label).map(([k, v]) => [Number(k), v]));
      if (Object.keys(id2label).some((k) => !Number.isInteger(Number(k)))) fail(`id2label keys must be integers, got ${JSON.stringify(Object.keys(json.id2label))}`);
    } else {
      const n = json.num_labels ?? (json._num_labels as number | undefined) ?? 2;
      if (!Number.isInteger(n) || n < 1) fail(`num_labels must be a positive integer, got ${JSON.stringify(n)}`);
      id2label = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, `LABEL_${i}`]));
    }
    if (json.num_labels !== undefined && json.id2label && json.num_labels !== Object.keys(id2label).length) {
      fail(`num_labels (${json.num_labels}) disagrees with id2label (${Object.keys(id2label).length} labels)`);
    }
    this.id2label = id2label;
    this.label2id = json.label2id && Object.keys(json.label2id).length ? { ...json.label2id } : Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
    const pt = merged.problem_type;
    if (pt !== null && pt !== 'regression' && pt !== 'single_label_classification' && pt !== 'multi_label_classification') {
      fail(`problem_type '${String(pt)}' must be regression, single_label_classification or multi_label_classification`);
    }
    this.json = merged;
  }

  /** Builds a config from HF keys, e.g. `BertConfig.from({ hidden_size: 32, num_hidden_layers: 2 })`. */
  static from(json: BertConfigJSON): BertConfig {
    return new BertConfig(json);
  }

  get vocabSize(): number { return this.json.vocab_size; }
  get hiddenSize(): number { return this.json.hidden_size; }
  get numHiddenLayers(): number { return this.json.num_hidden_layers; }
  get numAttentionHeads(): number { return this.json.num_attention_heads; }
  /** D, the width of one attention head. */
  get attentionHeadSize(): number { return this.json.hidden_size / this.json.num_attention_heads; }
  get intermediateSize(): number { return this.json.intermediate_size; }
  get hiddenAct(): BertActivation { return this.json.hidden_act as BertActivation; }
  get hiddenDropoutProb(): number { return this.json.hidden_dropout_prob; }
  get attentionProbsDropoutProb(): number { return this.json.attention_probs_dropout_prob; }
  get maxPositionEmbeddings(): number { return this.json.max_position_embeddings; }
  get typeVocabSize(): number { return this.json.type_vocab_size; }
  get initializerRange(): number { return this.json.initializer_range; }
  get layerNormEps(): number { return this.json.layer_norm_eps; }
  get padTokenId(): number | null { return this.json.pad_token_id ?? null; }
  get positionEmbeddingType(): 'absolute' { return 'absolute'; }
  /** Dropout before classification heads; null means hidden_dropout_prob (HF). */
  get classifierDropout(): number | null { return this.json.classifier_dropout ?? null; }
  get numLabels(): number { return Object.keys(this.id2label).length; }
  get problemType(): ProblemType | null { return this.json.problem_type ?? null; }
  get architectures(): string[] | undefined { return this.json.architectures; }

  /**
   * The config.json HF writes (PretrainedConfig.to_dict): every BERT key, labels with string keys,
   * `architectures`, `model_type: "bert"`, and unknown keys carried over.
   */
  toJSON(architectures?: string[]): BertConfigJSON {
    const out: BertConfigJSON = {};
    const arch = architectures ?? this.json.architectures;
    if (arch) out.architectures = [...arch];
    for (const [k, v] of Object.entries(this.json)) if (!DERIVED.has(k) && !(k in DEFAULTS)) out[k] = v;
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) out[k] = this.json[k] as never;
    out.id2label = Object.fromEntries(Object.entries(this.id2label).map(([k, v]) => [String(k), v]));
    out.label2id = { ...this.label2id };
    out.model_type = 'bert';
    return out;
  }
}
