/**
 * BERT with task heads, as in HF's modeling_bert.py. Each class holds its encoder under `bert` (so
 * its keys start with `bert.`) and its head under HF's names:
 *
 *   BertForPreTraining              cls.predictions.*, cls.seq_relationship.{weight (2, C), bias}
 *   BertForMaskedLM                 cls.predictions.bias (V)
 *                                   cls.predictions.transform.dense.{weight (C, C), bias}
 *                                   cls.predictions.transform.LayerNorm.{weight, bias}
 *                                   cls.predictions.decoder.weight = bert.embeddings.word_embeddings.weight (tied)
 *                                   cls.predictions.decoder.bias = cls.predictions.bias (tied)
 *   BertForNextSentencePrediction   cls.seq_relationship.*
 *   BertForSequenceClassification   classifier.{weight (K, C), bias (K)}       (uses the pooler)
 *   BertForMultipleChoice           classifier.{weight (1, C), bias (1)}       (uses the pooler)
 *   BertForTokenClassification      classifier.{weight (K, C), bias (K)}       (no pooler)
 *   BertForQuestionAnswering        qa_outputs.{weight (2, C), bias (2)}       (no pooler)
 *
 * Losses follow HF: cross-entropy with ignore index -100 for token-level labels; sequence
 * classification picks regression / single-label / multi-label from problem_type, or from
 * numLabels and the labels' dtype when problem_type is unset.
 */
import * as F from '../../ops/functional.js';
import { Dropout, LayerNorm, Linear } from '../../nn/layers.js';
import { Module, Parameter } from '../../nn/module.js';
import { ArgumentError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import * as init from '../../nn/init.js';
import type { BertConfig } from './config.js';
import { bceWithLogits, crossEntropy, mseLoss } from './losses.js';
import { type BertForwardOptions, BertModel, type BertModelOutput, activation } from './modeling.js';
import { type BertConstructorOptions, BertPreTrainedModel } from './pretrained-core.js';
import { type OptionKeys, checkOptions } from '../../tensor/options.js';

/** What a headed forward returns: the loss when labels were given, the head's logits, and the encoder's extras on request. */
export interface BertHeadOutput {
  loss?: Tensor;
  logits: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

export interface BertForwardWithLabels extends BertForwardOptions {
  labels?: Tensor | null;
}

/** BertModel.forward's options, which every head accepts besides its labels. */
const BERT_FORWARD: OptionKeys<BertForwardOptions> = { attentionMask: 1, tokenTypeIds: 1, positionIds: 1, outputAttentions: 1, outputHiddenStates: 1 };

function extras(out: BertModelOutput): Pick<BertHeadOutput, 'hiddenStates' | 'attentions'> {
  const r: Pick<BertHeadOutput, 'hiddenStates' | 'attentions'> = {};
  if (out.hiddenStates) r.hiddenStates = out.hiddenStates;
  if (out.attentions) r.attentions = out.attentions;
  return r;
}

function encoder(config: BertConfig, addPoolingLayer: boolean, generator: Generator): BertModel {
  return new BertModel(config, { addPoolingLayer, generator, initialize: false });
}

// ---- head parts -----------------------------------------------------------------------------------

/** dense, hidden_act, LayerNorm: the transform before the MLM decoder. */
export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  private readonly act: (x: Tensor) => Tensor;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, { generator });
    this.act = activation(config.hiddenAct);
    this.LayerNorm = new LayerNorm(config.hiddenSize, config.layerNormEps);
  }
  forward(hidden: Tensor): Tensor {
    return this.LayerNorm.forward(this.act(this.dense.forward(hidden)));
  }
}

/**
 * The MLM head: transform, then the decoder (C -> V) with an output-only bias. HF keeps the bias
 * as `cls.predictions.bias` and aliases it as `decoder.bias` (so resizing the vocabulary resizes
 * both); the decoder weight is tied to the word embeddings by the model that owns both.
 */
export class BertLMPredictionHead extends Module {
  bias: Parameter;
  transform: BertPredictionHeadTransform;
  decoder: Linear;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.bias = new Parameter(init.zeros([config.vocabSize]));
    this.transform = new BertPredictionHeadTransform(config, generator);
    this.decoder = new Linear(config.hiddenSize, config.vocabSize, { bias: false, generator });
    this.decoder.bias = this.bias;
  }
  forward(hidden: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(hidden)); // (B, T, C) -> (B, T, V)
  }
}

export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.predictions = new BertLMPredictionHead(config, generator);
  }
}

export class BertOnlyNSPHead extends Module {
  seq_relationship: Linear;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.seq_relationship = new Linear(config.hiddenSize, 2, { generator });
  }
}

export class BertPreTrainingHeads extends Module {
  predictions: BertLMPredictionHead;
  seq_relationship: Linear;
  constructor(config: BertConfig, generator: Generator = defaultGenerator) {
    super();
    this.predictions = new BertLMPredictionHead(config, generator);
    this.seq_relationship = new Linear(config.hiddenSize, 2, { generator });
  }
}

// Shared by the two classes with a tied MLM decoder (HF's _tied_weights_keys / ignore lists).
const TIED_DECODER = ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'] as const;
const MLM_IGNORE_MISSING = [/position_ids/, /predictions\.decoder\.bias/, /cls\.predictions\.decoder\.weight/];

function mlmLoss(logits: Tensor, labels: Tensor): Tensor {
  const V = logits.shape[logits.ndim - 1]!;
  return crossEntropy(F.reshape(logits, [-1, V]), F.reshape(labels, [-1])); // (B, T, V) -> (B*T, V)
}

// ---- pretraining ------------------------------------------------------------------------------------

export interface BertPreTrainingOutput {
  loss?: Tensor;
  /** (B, T, V) */
  predictionLogits: Tensor;
  /** (B, 2): index 0 means "B follows A". */
  seqRelationshipLogits: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

/** MLM + NSP heads over BERT: what the paper pretrains. */
export class BertForPreTraining extends BertPreTrainedModel {
  static override readonly keysToIgnoreOnLoadMissing: readonly RegExp[] = MLM_IGNORE_MISSING;
  static override readonly tiedWeightsKeys: readonly string[] = TIED_DECODER;
  bert: BertModel;
  cls: BertPreTrainingHeads;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForPreTraining', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, true, generator);
    this.cls = new BertPreTrainingHeads(config, generator);
    this.tieWeights();
    if (initialize) this.initWeights(generator);
  }
  /** Ties the MLM decoder weight to the word embeddings (call again after replacing either). */
  tieWeights(): void {
    this.cls.predictions.decoder.weight = this.bert.embeddings.word_embeddings.weight;
  }
  forward(inputIds: Tensor, options: BertForwardOptions & { labels?: Tensor | null; nextSentenceLabel?: Tensor | null } = {}): BertPreTrainingOutput {
    const { labels, nextSentenceLabel, ...bertOptions } = checkOptions('BertForPreTraining.forward', options, { ...BERT_FORWARD, labels: 1, nextSentenceLabel: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const predictionLogits = this.cls.predictions.forward(out.lastHiddenState);
    const seqRelationshipLogits = this.cls.seq_relationship.forward(out.poolerOutput!);
    const result: BertPreTrainingOutput = { predictionLogits, seqRelationshipLogits, ...extras(out) };
    if (labels && nextSentenceLabel) {
      result.loss = F.add(mlmLoss(predictionLogits, labels), crossEntropy(seqRelationshipLogits, F.reshape(nextSentenceLabel, [-1])));
    }
    return result;
  }
}

/** Masked-token prediction; the decoder shares the word-embedding matrix. */
export class BertForMaskedLM extends BertPreTrainedModel {
  static override readonly keysToIgnoreOnLoadUnexpected: readonly RegExp[] = [/pooler/];
  static override readonly keysToIgnoreOnLoadMissing: readonly RegExp[] = MLM_IGNORE_MISSING;
  static override readonly tiedWeightsKeys: readonly string[] = TIED_DECODER;
  bert: BertModel;
  cls: BertOnlyMLMHead;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForMaskedLM', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, false, generator);
    this.cls = new BertOnlyMLMHead(config, generator);
    this.tieWeights();
    if (initialize) this.initWeights(generator);
  }
  tieWeights(): void {
    this.cls.predictions.decoder.weight = this.bert.embeddings.word_embeddings.weight;
  }
  /** labels (B, T): the original id at masked positions, -100 elsewhere. logits (B, T, V). */
  forward(inputIds: Tensor, options: BertForwardWithLabels = {}): BertHeadOutput {
    const { labels, ...bertOptions } = checkOptions('BertForMaskedLM.forward', options, { ...BERT_FORWARD, labels: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const logits = this.cls.predictions.forward(out.lastHiddenState);
    const result: BertHeadOutput = { logits, ...extras(out) };
    if (labels) result.loss = mlmLoss(logits, labels);
    return result;
  }
}

/** Does sentence B follow sentence A? logits (B, 2), index 0 = "is next". */
export class BertForNextSentencePrediction extends BertPreTrainedModel {
  bert: BertModel;
  cls: BertOnlyNSPHead;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForNextSentencePrediction', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, true, generator);
    this.cls = new BertOnlyNSPHead(config, generator);
    if (initialize) this.initWeights(generator);
  }
  forward(inputIds: Tensor, options: BertForwardWithLabels = {}): BertHeadOutput {
    const { labels, ...bertOptions } = checkOptions('BertForNextSentencePrediction.forward', options, { ...BERT_FORWARD, labels: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const logits = this.cls.seq_relationship.forward(out.poolerOutput!);
    const result: BertHeadOutput = { logits, ...extras(out) };
    if (labels) result.loss = crossEntropy(logits, F.reshape(labels, [-1]));
    return result;
  }
}

// ---- fine-tuning heads ------------------------------------------------------------------------------

function classifierDropout(config: BertConfig): Dropout {
  return new Dropout(config.classifierDropout ?? config.hiddenDropoutProb);
}

/** One label (or value) per sequence from the pooled [CLS] state. logits (B, K). */
export class BertForSequenceClassification extends BertPreTrainedModel {
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForSequenceClassification', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, true, generator);
    this.dropout = classifierDropout(config);
    this.classifier = new Linear(config.hiddenSize, config.numLabels, { generator });
    if (initialize) this.initWeights(generator);
  }
  get numLabels(): number { return this.config.numLabels; }
  /**
   * labels: (B) class ids (int32) for single-label classification, (B, K) 0/1 floats for
   * multi-label, (B) floats for regression (numLabels 1).
   */
  forward(inputIds: Tensor, options: BertForwardWithLabels = {}): BertHeadOutput {
    const { labels, ...bertOptions } = checkOptions('BertForSequenceClassification.forward', options, { ...BERT_FORWARD, labels: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const logits = this.classifier.forward(this.dropout.forward(out.poolerOutput!));
    const result: BertHeadOutput = { logits, ...extras(out) };
    if (labels) {
      // HF infers the problem type when the config leaves it unset.
      const K = this.numLabels;
      const problem = this.config.problemType ?? (K === 1 ? 'regression' : labels.dtype === 'int32' ? 'single_label_classification' : 'multi_label_classification');
      if (problem === 'regression') result.loss = K === 1 ? mseLoss(F.reshape(logits, [-1]), F.reshape(labels, [-1])) : mseLoss(logits, labels);
      else if (problem === 'single_label_classification') result.loss = crossEntropy(F.reshape(logits, [-1, K]), F.reshape(labels, [-1]));
      else result.loss = bceWithLogits(logits, labels);
    }
    return result;
  }
}

/** One label per token (NER). logits (B, T, K); labels -100 where no loss is wanted (padding, sub-words). */
export class BertForTokenClassification extends BertPreTrainedModel {
  static override readonly keysToIgnoreOnLoadUnexpected: readonly RegExp[] = [/pooler/];
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForTokenClassification', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, false, generator);
    this.dropout = classifierDropout(config);
    this.classifier = new Linear(config.hiddenSize, config.numLabels, { generator });
    if (initialize) this.initWeights(generator);
  }
  get numLabels(): number { return this.config.numLabels; }
  forward(inputIds: Tensor, options: BertForwardWithLabels = {}): BertHeadOutput {
    const { labels, ...bertOptions } = checkOptions('BertForTokenClassification.forward', options, { ...BERT_FORWARD, labels: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const logits = this.classifier.forward(this.dropout.forward(out.lastHiddenState));
    const result: BertHeadOutput = { logits, ...extras(out) };
    if (labels) result.loss = crossEntropy(F.reshape(logits, [-1, this.numLabels]), F.reshape(labels, [-1])); // (B, T, K) -> (B*T, K)
    return result;
  }
}

export interface QuestionAnsweringOutput {
  loss?: Tensor;
  /** (B, T) */
  startLogits: Tensor;
  /** (B, T) */
  endLogits: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

/** Extractive QA (SQuAD): a start and an end score per token. */
export class BertForQuestionAnswering extends BertPreTrainedModel {
  static override readonly keysToIgnoreOnLoadUnexpected: readonly RegExp[] = [/pooler/];
  bert: BertModel;
  qa_outputs: Linear;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForQuestionAnswering', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    if (config.numLabels !== 2) throw new ArgumentError(`BertForQuestionAnswering: num_labels must be 2 (start and end), got ${config.numLabels}`);
    this.bert = encoder(config, false, generator);
    this.qa_outputs = new Linear(config.hiddenSize, config.numLabels, { generator });
    if (initialize) this.initWeights(generator);
  }
  /**
   * startPositions / endPositions (B) token indices of the answer span. Positions outside the
   * sequence are clamped to T and ignored by the loss (HF: answers truncated away).
   */
  forward(inputIds: Tensor, options: BertForwardOptions & { startPositions?: Tensor | null; endPositions?: Tensor | null } = {}): QuestionAnsweringOutput {
    const { startPositions, endPositions, ...bertOptions } = checkOptions('BertForQuestionAnswering.forward', options, { ...BERT_FORWARD, startPositions: 1, endPositions: 1 });
    const out = this.bert.forward(inputIds, bertOptions);
    const logits = this.qa_outputs.forward(out.lastHiddenState); // (B, T, 2)
    const [start, end] = F.split(logits, 1, -1).map((t) => F.squeeze(t, -1)) as [Tensor, Tensor]; // (B, T, 1) -> (B, T)
    const result: QuestionAnsweringOutput = { startLogits: start, endLogits: end, ...extras(out) };
    if (startPositions && endPositions) {
      const T = start.shape[1]!;
      const clampPos = (p: Tensor): Tensor => F.clamp(F.reshape(F.cast(p, 'int32'), [-1]), 0, T);
      const startLoss = crossEntropy(start, clampPos(startPositions), T);
      const endLoss = crossEntropy(end, clampPos(endPositions), T);
      result.loss = F.div(F.add(startLoss, endLoss), 2);
    }
    return result;
  }
}

/** Picks one of N candidate continuations: inputs (B, N, T), logits (B, N), one score per choice from its pooled state. */
export class BertForMultipleChoice extends BertPreTrainedModel {
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;
  constructor(config: BertConfig, options: BertConstructorOptions = {}) {
    const { generator = defaultGenerator, initialize = true } = checkOptions('BertForMultipleChoice', options, { addPoolingLayer: 1, generator: 1, initialize: 1 });
    super(config);
    this.bert = encoder(config, true, generator);
    this.dropout = classifierDropout(config);
    this.classifier = new Linear(config.hiddenSize, 1, { generator });
    if (initialize) this.initWeights(generator);
  }
  /** inputIds and the per-token options (B, N, T); labels (B) the index of the right choice. */
  forward(inputIds: Tensor, options: BertForwardWithLabels = {}): BertHeadOutput {
    const { labels, ...bertOptions } = checkOptions('BertForMultipleChoice.forward', options, { ...BERT_FORWARD, labels: 1 });
    if (inputIds.ndim !== 3) throw new ShapeError(`BertForMultipleChoice: inputIds must be (B, N, T), got ${fmtShape(inputIds.shape)}`);
    const [B, N, T] = inputIds.shape as [number, number, number];
    const flat = (t: Tensor | null | undefined): Tensor | null => {
      if (!t) return null;
      if (t.ndim !== 3 || t.shape[0] !== B || t.shape[1] !== N || t.shape[2] !== T) throw new ShapeError(`BertForMultipleChoice: per-token inputs must be (B, N, T) = [${B},${N},${T}], got ${fmtShape(t.shape)}`);
      return F.reshape(t, [B * N, T]); // (B, N, T) -> (B*N, T)
    };
    const out = this.bert.forward(F.reshape(inputIds, [B * N, T]), {
      ...bertOptions,
      attentionMask: flat(bertOptions.attentionMask),
      tokenTypeIds: flat(bertOptions.tokenTypeIds),
      positionIds: flat(bertOptions.positionIds),
    });
    const logits = F.reshape(this.classifier.forward(this.dropout.forward(out.poolerOutput!)), [B, N]); // (B*N, 1) -> (B, N)
    const result: BertHeadOutput = { logits, ...extras(out) };
    if (labels) result.loss = crossEntropy(logits, F.reshape(labels, [-1]));
    return result;
  }
}
