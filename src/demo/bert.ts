/**
 * The BERT demo (`zhuyi bert demo`): what pretraining and attention buy, on generated data (no download).
 *
 * A small synthetic language of reviews and stories where the sentiment of a sentence depends on context:
 *   plain      "the food was very good", "the room is nice and friendly"   (the adjectives decide)
 *   negation   "the food was not very good", "the room was bad , not good"
 *   word order "the hero defeated the villain" vs "the villain defeated the hero"
 * Intensifiers (very, really, so) never change the label.
 *
 * 1. A tiny BERT (2 layers, hidden 64, a word-level vocabulary) is pretrained with pretrainBert (MLM + NSP) on
 *    unlabelled documents: 3-5 sentences of one sentiment (all kinds mixed), sometimes a closing remark
 *    ("i loved it", "we cried").
 * 2. It is fine-tuned with finetuneBert on a few labelled sentences and compared with
 *    (a) the same architecture from random init, fine-tuned the same way (same data, epochs, learning rate), and
 *    (b) a bag-of-words logistic regression (word counts; zhuyi tensors + Adam).
 *    The bag of words fails on negation and word order by construction: the test set holds the word-order and
 *    "X , not Y" sentences in mirrored pairs with the same words and opposite labels (so it is right on exactly
 *    half of them), and "not good" / "not bad" need an interaction that no sum of word weights has.
 * 3. A table (accuracy overall and on the plain / negation / word-order subsets) and outDir/report.html: inline
 *    SVG (accuracy bars, loss curves, attention heatmaps of the pretrained model's heads on a negation example),
 *    no scripts, no network. The data files, the runs (Hugging Face folders in <run>/hf) and logs stay in outDir.
 *
 * With the default settings the whole demo takes about 1.5-2 minutes on 2 cores (pretraining ~70 s).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BertRunResult } from '../bert/run.js';
import { pretrainBert } from '../bert/pretrain.js';
import { finetuneBert } from '../bert/classify.js';
import { writeFileAtomic } from '../io/safetensors.js';
import type { BertConfigJSON } from '../models/bert/config.js';
import { BertForSequenceClassification } from '../models/bert/heads.js';
import { Linear } from '../nn/layers.js';
import * as F from '../ops/functional.js';
import { Adam } from '../optim/sgd-adam.js';
import { crossEntropy } from '../models/bert/losses.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Generator, manualSeed } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { escapeXml, heatmap, lineChart } from '../viz/svg.js';

// ---- the synthetic language ----------------------------------------------------------------------------

export type Kind = 'plain' | 'negation' | 'order';
export const KINDS: readonly Kind[] = ['plain', 'negation', 'order'];
export const LABELS = ['negative', 'positive'] as const;

export interface Example {
  text: string;
  /** 1 positive, 0 negative. */
  label: 0 | 1;
  kind: Kind;
}

const THINGS = ['food', 'service', 'movie', 'hotel', 'music', 'room'];
const VERBS = ['was', 'is'];
const POSITIVE = ['good', 'great', 'nice', 'excellent', 'lovely', 'wonderful', 'tasty', 'friendly'];
const NEGATIVE = ['bad', 'awful', 'terrible', 'poor', 'boring', 'horrible', 'bland', 'rude'];
const INTENSIFIERS = ['very', 'really', 'so'];
const HEROES = ['hero', 'doctor', 'knight', 'police', 'princess'];
const VILLAINS = ['villain', 'virus', 'dragon', 'thief', 'monster'];
const ACTIONS = ['defeated', 'beat', 'stopped', 'caught', 'chased'];
const MANNER = ['easily', 'finally', 'quickly', 'bravely'];
/** Closing remarks of unlabelled documents: they carry the document's sentiment, whatever the sentences were about. */
const CLOSERS: Record<0 | 1, string[]> = {
  1: ['i loved it', 'we cheered', 'what a relief', 'everyone was happy', 'i would recommend it'],
  0: ['i hated it', 'we cried', 'what a shame', 'everyone was sad', 'i want my money back'],
};

/** Every word of the language, sorted (the demo's word-level WordPiece vocabulary, after BERT's special tokens). */
export function languageWords(): string[] {
  const all = [...THINGS, ...VERBS, ...POSITIVE, ...NEGATIVE, ...INTENSIFIERS, ...HEROES, ...VILLAINS, ...ACTIONS, ...MANNER, ...CLOSERS[0], ...CLOSERS[1], 'the', 'not', 'and', ','];
  return [...new Set(all.flatMap((p) => p.split(' ')))].sort();
}

const pick = <T>(g: Generator, xs: readonly T[]): T => xs[g.randint(0, xs.length)]!;
const adjectives = (positive: boolean): readonly string[] => (positive ? POSITIVE : NEGATIVE);
const maybe = (g: Generator, p: number, s: string): string => (g.random() < p ? `${s} ` : '');

/** One sentence of `kind` with sentiment `label` (no final period: labelled examples are bare sentences). */
export function sentence(g: Generator, kind: Kind | 'contrast' | 'and', label: 0 | 1): string {
  const thing = `the ${pick(g, THINGS)}`;
  switch (kind) {
    case 'plain':
      return `${thing} ${pick(g, VERBS)} ${maybe(g, 0.5, pick(g, INTENSIFIERS))}${pick(g, adjectives(label === 1))}`;
    case 'and':
      return `${thing} ${pick(g, VERBS)} ${maybe(g, 0.5, pick(g, INTENSIFIERS))}${pick(g, adjectives(label === 1))} and ${pick(g, adjectives(label === 1))}`;
    case 'negation':
      return `${thing} ${pick(g, VERBS)} not ${maybe(g, 0.5, pick(g, INTENSIFIERS))}${pick(g, adjectives(label !== 1))}`;
    case 'contrast':
      return `${thing} ${pick(g, VERBS)} ${pick(g, adjectives(label === 1))} , not ${pick(g, adjectives(label !== 1))}`;
    case 'order': {
      const [h, v] = [`the ${pick(g, HEROES)}`, `the ${pick(g, VILLAINS)}`];
      const act = `${maybe(g, 0.3, pick(g, MANNER))}${pick(g, ACTIONS)}`;
      return label === 1 ? `${h} ${act} ${v}` : `${v} ${act} ${h}`;
    }
  }
}

/** The same words with the opposite label: "A , not B" <-> "B , not A"; "X acted Y" <-> "Y acted X". */
export function mirror(e: Example): Example {
  const w = e.text.split(' ');
  let text: string;
  if (e.kind === 'order') {
    // "the X [manner] verb the Y": swap the two noun phrases.
    text = [w[0], w[w.length - 1], ...w.slice(2, -2), w[w.length - 2], w[1]].join(' ');
  } else {
    const comma = w.indexOf(',');
    if (comma < 0) throw new Error(`mirror: no comma in ${JSON.stringify(e.text)}`);
    text = [...w.slice(0, comma - 1), w[comma + 2], ',', 'not', w[comma - 1]].join(' ');
  }
  return { text, label: e.label === 1 ? 0 : 1, kind: e.kind };
}

/** A labelled example: plain 45%, negation 30% ("not ADJ" 20%, "ADJ , not ADJ" 10%), word order 25%. */
function labelledExample(g: Generator): Example {
  const label = g.random() < 0.5 ? 1 : 0;
  const r = g.random();
  if (r < 0.45) return { text: sentence(g, g.random() < 0.7 ? 'plain' : 'and', label), label, kind: 'plain' };
  if (r < 0.65) return { text: sentence(g, 'negation', label), label, kind: 'negation' };
  if (r < 0.75) return { text: sentence(g, 'contrast', label), label, kind: 'negation' };
  return { text: sentence(g, 'order', label), label, kind: 'order' };
}

/**
 * An unlabelled document: 3-5 sentences of one sentiment (plain 45%, "X and Y" 35%, negation 12%, word order 8%),
 * then, in half of them, a closing remark with that sentiment. (The language is small: sentences of the test set
 * occur here too, unlabelled.)
 */
function document(g: Generator): string[] {
  const label: 0 | 1 = g.random() < 0.5 ? 1 : 0;
  const out: string[] = [];
  const n = g.randint(3, 6);
  for (let i = 0; i < n; i++) {
    const r = g.random();
    out.push(sentence(g, r < 0.45 ? 'plain' : r < 0.8 ? 'and' : r < 0.92 ? 'negation' : 'order', label));
  }
  if (g.random() < 0.5) out.push(pick(g, CLOSERS[label]));
  return out;
}

export interface SentimentData {
  /** Unlabelled documents . */
  corpus: string[][];
  train: Example[];
  valid: Example[];
  /** Balanced per kind; negation "X , not Y" and word-order sentences come in mirrored pairs. */
  test: Example[];
}

export interface DataSizes {
  documents?: number;
  train?: number;
  valid?: number;
  /** Test sentences per kind (even). */
  testPerKind?: number;
}

/** The generated corpus and labelled splits; test sentences never occur in train or valid. */
export function sentimentData(seed: number, sizes: DataSizes = {}): SentimentData {
  const g = new Generator(seed * 7 + 12345);
  const corpus = Array.from({ length: sizes.documents ?? 4000 }, () => document(g));
  const train = Array.from({ length: sizes.train ?? 200 }, () => labelledExample(g));
  const valid = Array.from({ length: sizes.valid ?? 100 }, () => labelledExample(g));
  const seen = new Set([...train, ...valid].map((e) => e.text));
  const perKind = 2 * Math.round((sizes.testPerKind ?? 200) / 2);
  const test: Example[] = [];
  const add = (e: Example): boolean => {
    if (seen.has(e.text)) return false;
    seen.add(e.text);
    test.push(e);
    return true;
  };
  const fill = (count: number, make: () => Example, paired: boolean): void => {
    for (let n = 0, tries = 0; n < count && tries < 100 * count; tries++) {
      const e = make();
      if (!paired) { if (add(e)) n++; continue; }
      const m = mirror(e);
      if (seen.has(e.text) || seen.has(m.text)) continue;
      add(e); add(m); n += 2;
    }
  };
  const label = (): 0 | 1 => (g.random() < 0.5 ? 1 : 0);
  fill(perKind, () => { const l = label(); return { text: sentence(g, 'plain', l), label: l, kind: 'plain' }; }, false);
  fill(perKind / 2, () => { const l = label(); return { text: sentence(g, 'negation', l), label: l, kind: 'negation' }; }, false);
  fill(perKind / 2, () => { const l = label(); return { text: sentence(g, 'contrast', l), label: l, kind: 'negation' }; }, true);
  fill(perKind, () => { const l = label(); return { text: sentence(g, 'order', l), label: l, kind: 'order' }; }, true);
  return { corpus, train, valid, test };
}

// ---- bag of words ----------------------------------------------------------------------------------------

/** Logistic regression on word counts (a linear layer to two logits, full-batch Adam). */
export class BagOfWords {
  readonly words = new Map<string, number>();
  readonly linear: Linear;

  constructor(train: readonly Example[]) {
    for (const e of train) for (const w of e.text.split(' ')) if (!this.words.has(w)) this.words.set(w, this.words.size);
    this.linear = new Linear(this.words.size, 2);
  }

  counts(texts: readonly string[]): Tensor {
    const V = this.words.size;
    const x = new Float32Array(texts.length * V);
    texts.forEach((t, i) => {
      for (const w of t.split(' ')) {
        const k = this.words.get(w);
        if (k !== undefined) x[i * V + k]! += 1;
      }
    });
    return Tensor.fromBuffer(x, [texts.length, V]);
  }

  async fit(train: readonly Example[], { steps = 300, lr = 0.05, weightDecay = 1e-3 } = {}): Promise<number> {
    const x = this.counts(train.map((e) => e.text));
    const y = Tensor.fromBuffer(Int32Array.from(train.map((e) => e.label)), [train.length]);
    const opt = new Adam(this.linear.parameters(), { lr, weightDecay });
    let loss = NaN;
    for (let s = 0; s < steps; s++) {
      opt.zeroGrad();
      const l = crossEntropy(this.linear.forward(x), y);
      l.backward();
      await opt.step(l);
      loss = await l.item();
    }
    return loss;
  }

  async predict(texts: readonly string[]): Promise<number[]> {
    const pred = noGrad(() => F.argmax(this.linear.forward(this.counts(texts)), -1));
    return Array.from(await pred.data());
  }
}

// ---- the demo --------------------------------------------------------------------------------------------

export interface BertDemoOptions {
  outDir: string;
  seed?: number;
  data?: DataSizes;
  /** Model config overrides (HF keys) on the tiny preset; default hidden 64, 2 layers, 2 heads, FFN 256. */
  modelOptions?: BertConfigJSON;
  /** Pretraining optimizer steps (default 1500), peak learning rate (default 2e-3), token budget of a batch (default 2048). */
  pretrainSteps?: number;
  pretrainLr?: number;
  batchTokens?: number;
  /** Hidden and attention dropout while pretraining (default 0: the run is short; fine-tuning uses 0.1). */
  pretrainDropout?: number;
  /** Fine-tuning epochs (default 60) and peak learning rate (default 5e-4), the same for both inits. */
  finetuneEpochs?: number;
  finetuneLr?: number;
  /** Token budget of a fine-tuning batch (default 256: 16 sentences of up to 16 tokens). */
  finetuneBatchTokens?: number;
  /** Progress lines (default none). */
  log?: (line: string) => void;
  /** Progress bars (default: when stderr is a TTY). */
  progress?: boolean;
}

export interface ModelScores {
  name: string;
  overall: number;
  byKind: Record<Kind, number>;
  /** Predictions on the test set, in order. */
  predictions: number[];
  seconds: number;
}

export interface BertDemoResult {
  data: SentimentData;
  models: ModelScores[];
  /** Fine-tuning training loss curves (step, loss) of the two BERT runs; the pretraining curve. */
  curves: { name: string; points: Array<[number, number]> }[];
  pretrain: { steps: number; mlmAccuracy: number | null; nspAccuracy: number | null; seconds: number };
  /** The model's shape (config.json keys of the BERTs). */
  config: { layers: number; hidden: number; heads: number; vocab: number };
  /**
   * The negation sentence the heatmaps show (pretrained + fine-tuned model), the heads shown ("layer l head h",
   * at most 4, those attending most to "not" from the adjective and [CLS]), and P(positive) under each BERT.
   */
  attention: { text: string; heads: string[]; svgs: string[]; totalHeads: number; positive: Record<'pretrained' | 'random', number> };
  reportPath: string;
  seconds: number;
}

/** The `zhuyi bert demo` settings: pretraining, two fine-tunings and the baseline in about 3 minutes on 2 cores. */
export const BERT_DEMO: Omit<BertDemoOptions, 'outDir'> = {
  data: { documents: 4000, train: 200, valid: 100, testPerKind: 200 },
  pretrainSteps: 1500,
  finetuneEpochs: 60,
};

export const MODEL_NAMES = {
  pretrained: 'BERT, MLM-pretrained + fine-tuned',
  random: 'BERT, random init + fine-tuned',
  bow: 'bag of words (logistic regression)',
} as const;

function score(name: string, test: readonly Example[], predictions: number[], seconds: number): ModelScores {
  const acc = (keep: (e: Example) => boolean): number => {
    const idx = test.flatMap((e, i) => (keep(e) ? [i] : []));
    return idx.filter((i) => predictions[i] === test[i]!.label).length / Math.max(1, idx.length);
  };
  const byKind = Object.fromEntries(KINDS.map((k) => [k, acc((e) => e.kind === k)])) as Record<Kind, number>;
  return { name, overall: acc(() => true), byKind, predictions, seconds };
}

function writeTsv(path: string, rows: readonly Example[]): void {
  writeFileAtomic(path, `text\tlabel\n${rows.map((e) => `${e.text}\t${LABELS[e.label]}`).join('\n')}\n`);
}

/** P(positive) of each text under a fine-tuned folder (its id2label names the classes). */
async function positiveProbabilities(hfDir: string, texts: readonly string[]): Promise<number[]> {
  const tok = BertTokenizer.fromPretrained(hfDir);
  const model = await BertForSequenceClassification.fromPretrained(hfDir);
  model.eval();
  const pos = Number(Object.entries(model.config.id2label).find(([, l]) => l === 'positive')![0]);
  const out: number[] = [];
  for (let i = 0; i < texts.length; i += 128) {
    const encs = tok.encodeBatch(texts.slice(i, i + 128), null, { padding: true });
    const S = encs[0]!.inputIds.length;
    const ids = Tensor.fromBuffer(Int32Array.from(encs.flatMap((e) => e.inputIds)), [encs.length, S]);
    const mask = Tensor.fromBuffer(Int32Array.from(encs.flatMap((e) => e.attentionMask)), [encs.length, S]);
    const probs = await noGrad(() => F.softmax(model.forward(ids, { attentionMask: mask }).logits, -1)).data();
    for (let r = 0; r < encs.length; r++) out.push(probs[2 * r + pos]!);
  }
  return out;
}

/** Heatmaps of up to `count` heads on `text`: those attending most to "not" from the adjective and [CLS]. */
async function attentionHeatmaps(hfDir: string, text: string, count: number): Promise<{ heads: string[]; svgs: string[]; totalHeads: number }> {
  const tok = BertTokenizer.fromPretrained(hfDir);
  const model = await BertForSequenceClassification.fromPretrained(hfDir);
  model.eval();
  const enc = tok.encode(text);
  const T = enc.inputIds.length;
  const ids = Tensor.fromBuffer(Int32Array.from(enc.inputIds), [1, T]);
  const atts = noGrad(() => model.bert.forward(ids, { outputAttentions: true }).attentions!);
  const notAt = enc.tokens.indexOf('not');
  const adjAt = enc.tokens.length - 2; // the adjective before [SEP]
  const heads: Array<{ layer: number; head: number; weights: number[][]; focus: number }> = [];
  for (let l = 0; l < atts.length; l++) {
    const a = atts[l]!;
    const H = a.shape[1]!;
    const flat = await a.data();
    for (let h = 0; h < H; h++) {
      const weights = Array.from({ length: T }, (_, i) => Array.from(flat.subarray((h * T + i) * T, (h * T + i + 1) * T)));
      heads.push({ layer: l, head: h, weights, focus: notAt >= 0 ? weights[adjAt]![notAt]! + weights[0]![notAt]! : 0 });
    }
  }
  const shown = [...heads].sort((x, y) => y.focus - x.focus).slice(0, count).sort((x, y) => x.layer - y.layer || x.head - y.head);
  return {
    totalHeads: heads.length,
    heads: shown.map((s) => `layer ${s.layer + 1} head ${s.head + 1}`),
    svgs: shown.map((s) => heatmap(s.weights, enc.tokens, enc.tokens, `layer ${s.layer + 1}, head ${s.head + 1}`)),
  };
}

const lossCurve = (r: BertRunResult): Array<[number, number]> =>
  r.summary.history.filter((h) => h.train_loss !== undefined).map((h) => [h.step!, h.train_loss!] as [number, number]);

/** Runs the whole demo: data, pretraining, two fine-tunings, the baseline, the table and report.html. */
export async function runBertDemo(o: BertDemoOptions): Promise<BertDemoResult> {
  const userLog = o.log ?? (() => {});
  // Per-epoch validation lines stay in each run's log.jsonl; the demo reports the test sets.
  const log = (line: string): void => { if (!line.startsWith('validation:')) userLog(line); };
  const t0 = performance.now();
  const seed = o.seed ?? 0;
  const out = o.outDir;
  for (const sub of ['pretrain', 'finetune-pretrained', 'finetune-random']) rmSync(join(out, sub), { recursive: true, force: true });
  mkdirSync(join(out, 'data'), { recursive: true });
  const data = sentimentData(seed, { ...BERT_DEMO.data, ...o.data });
  const corpusFile = join(out, 'data', 'corpus.txt');
  writeFileAtomic(corpusFile, `${data.corpus.map((d) => d.join('\n')).join('\n\n')}\n`);
  const vocabFile = join(out, 'data', 'vocab.txt');
  writeFileAtomic(vocabFile, `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...languageWords()].join('\n')}\n`);
  writeTsv(join(out, 'data', 'train.tsv'), data.train);
  writeTsv(join(out, 'data', 'valid.tsv'), data.valid);
  writeTsv(join(out, 'data', 'test.tsv'), data.test);
  log(`data: ${data.corpus.length} unlabelled documents (${data.corpus.reduce((n, d) => n + d.length, 0)} sentences); ${data.train.length} labelled training, ${data.valid.length} validation, ${data.test.length} test sentences (${KINDS.map((k) => `${data.test.filter((e) => e.kind === k).length} ${k}`).join(', ')})`);

  // Fine-tuning (both inits) uses these; pretraining the same shape with pretrainDropout.
  const modelOptions: BertConfigJSON = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 256, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, ...o.modelOptions };
  const batchTokens = o.batchTokens ?? 2048;
  const common = { size: 'tiny' as const, modelOptions, maxSeqLength: 32, seed, progress: o.progress, logEvery: 25 };

  log('\n== pretraining (masked LM + next sentence) on the unlabelled documents ==');
  let t = performance.now();
  const pt = await pretrainBert({
    ...common, modelOptions: { ...modelOptions, hidden_dropout_prob: o.pretrainDropout ?? 0, attention_probs_dropout_prob: o.pretrainDropout ?? 0 },
    corpus: corpusFile, outDir: join(out, 'pretrain'), vocab: vocabFile, validFraction: 0.03, maxValidInstances: 300,
    maxSteps: o.pretrainSteps ?? BERT_DEMO.pretrainSteps, epochs: 1000, lr: o.pretrainLr ?? 2e-3, warmup: 50, batchTokens, log,
  });
  const pretrain = { steps: pt.summary.steps, mlmAccuracy: pt.bestMetrics?.mlm_accuracy ?? null, nspAccuracy: pt.bestMetrics?.nsp_accuracy ?? null, seconds: (performance.now() - t) / 1000 };
  if (!pt.hfDir) throw new Error('bert demo: pretraining ended without a checkpoint');
  log(`pretraining: ${pretrain.steps} steps in ${pretrain.seconds.toFixed(1)} s; held-out MLM accuracy ${pretrain.mlmAccuracy === null ? 'n/a' : pct(pretrain.mlmAccuracy)}, NSP accuracy ${pretrain.nspAccuracy === null ? 'n/a' : pct(pretrain.nspAccuracy)}`);

  const finetune = { ...common, train: join(out, 'data', 'train.tsv'), valid: join(out, 'data', 'valid.tsv'), epochs: o.finetuneEpochs ?? BERT_DEMO.finetuneEpochs, lr: o.finetuneLr ?? 5e-4, batchTokens: o.finetuneBatchTokens ?? 256, warmup: 20, log };
  const texts = data.test.map((e) => e.text);
  const models: ModelScores[] = [];
  const hf: Partial<Record<'pretrained' | 'random', string>> = {};
  const curves: BertDemoResult['curves'] = [{ name: 'pretraining (MLM + NSP)', points: lossCurve(pt) }];
  for (const init of ['pretrained', 'random'] as const) {
    log(`\n== fine-tuning: ${MODEL_NAMES[init]} ==`);
    t = performance.now();
    const r = await finetuneBert({
      ...finetune, outDir: join(out, `finetune-${init}`),
      ...(init === 'pretrained' ? { model: pt.hfDir } : { init: 'random' as const, vocab: vocabFile }),
    });
    if (!r.hfDir) throw new Error(`bert demo: fine-tuning (${init}) ended without a checkpoint`);
    hf[init] = r.hfDir;
    const predictions = (await positiveProbabilities(r.hfDir, texts)).map((p) => (p > 0.5 ? 1 : 0));
    models.push(score(MODEL_NAMES[init], data.test, predictions, (performance.now() - t) / 1000));
    log(`${MODEL_NAMES[init]}: test accuracy ${pct(models[models.length - 1]!.overall)}`);
    curves.push({ name: `fine-tuning, ${init === 'pretrained' ? 'pretrained' : 'random init'}`, points: lossCurve(r) });
  }

  log('\n== bag of words ==');
  t = performance.now();
  manualSeed(seed);
  const bow = new BagOfWords(data.train);
  const bowLoss = await bow.fit(data.train);
  models.push(score(MODEL_NAMES.bow, data.test, await bow.predict(texts), (performance.now() - t) / 1000));
  log(`bag of words: ${bow.words.size} words, training loss ${bowLoss.toFixed(3)}`);

  const example = 'the food was not very good';
  const attention = {
    text: example, ...(await attentionHeatmaps(hf.pretrained!, example, 4)),
    positive: { pretrained: (await positiveProbabilities(hf.pretrained!, [example]))[0]!, random: (await positiveProbabilities(hf.random!, [example]))[0]! },
  };
  const cfg = pt.config;
  const config = { layers: cfg.num_hidden_layers!, hidden: cfg.hidden_size!, heads: cfg.num_attention_heads!, vocab: cfg.vocab_size! };
  const result: BertDemoResult = { data, models, curves, pretrain, config, attention, reportPath: join(out, 'report.html'), seconds: 0 };
  result.seconds = (performance.now() - t0) / 1000;
  writeFileAtomic(result.reportPath, renderBertReport(result));
  return result;
}

// ---- output ----------------------------------------------------------------------------------------------

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The terminal table: accuracy overall and per subset. */
export function bertDemoTable(r: BertDemoResult): string {
  const n = (k: Kind): number => r.data.test.filter((e) => e.kind === k).length;
  const head = `${'model'.padEnd(36)}${'overall'.padStart(9)}${`plain (${n('plain')})`.padStart(14)}${`negation (${n('negation')})`.padStart(17)}${`word order (${n('order')})`.padStart(19)}`;
  const lines = r.models.map((m) => `${m.name.padEnd(36)}${pct(m.overall).padStart(9)}${pct(m.byKind.plain).padStart(14)}${pct(m.byKind.negation).padStart(17)}${pct(m.byKind.order).padStart(19)}`);
  return [head, ...lines].join('\n');
}

/** Grouped horizontal bars: one group per subset, one bar per model. */
function barChart(r: BertDemoResult): string {
  const groups: Array<[string, (m: ModelScores) => number]> = [['overall', (m) => m.overall], ['plain', (m) => m.byKind.plain], ['negation', (m) => m.byKind.negation], ['word order', (m) => m.byKind.order]];
  const colors = ['#1f77b4', '#ff7f0e', '#7f7f7f'];
  const barH = 14;
  const groupH = r.models.length * barH + 16;
  const left = 90;
  const plotW = 380;
  const W = left + plotW + 60;
  const legendH = 18 * r.models.length + 10;
  const H = 30 + groups.length * groupH + 30 + legendH;
  const x = (v: number): number => left + v * plotW;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">Test accuracy by subset</text>`);
  const bottom = 30 + groups.length * groupH;
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(v)}" y1="26" x2="${x(v)}" y2="${bottom}" stroke="${v === 0.5 ? '#999' : '#eee'}"${v === 0.5 ? ' stroke-dasharray="4 3"' : ''}/><text x="${x(v)}" y="${bottom + 14}" text-anchor="middle">${v * 100}%</text>`);
  }
  groups.forEach(([name, f], gi) => {
    const y0 = 30 + gi * groupH;
    parts.push(`<text x="${left - 6}" y="${y0 + (r.models.length * barH) / 2 + 4}" text-anchor="end">${escapeXml(name)}</text>`);
    r.models.forEach((m, mi) => {
      const v = f(m);
      parts.push(`<rect x="${left}" y="${y0 + mi * barH}" width="${(v * plotW).toFixed(1)}" height="${barH - 3}" fill="${colors[mi % colors.length]}"><title>${escapeXml(`${m.name}, ${name}: ${pct(v)}`)}</title></rect>`);
      parts.push(`<text x="${x(v) + 4}" y="${y0 + mi * barH + barH - 5}">${pct(v)}</text>`);
    });
  });
  r.models.forEach((m, mi) => {
    const y = bottom + 30 + mi * 18;
    parts.push(`<rect x="${left}" y="${y - 9}" width="12" height="10" fill="${colors[mi % colors.length]}"/><text x="${left + 18}" y="${y}">${escapeXml(m.name)}</text>`);
  });
  parts.push(`<text x="${x(0.5) + 4}" y="${bottom - 4}" fill="#777">chance</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Test sentences with each model's prediction: two word-order pairs, two "X , not Y" pairs (each with its mirror),
 * three "not" sentences and two plain ones; within each group the sentences most models get wrong come first.
 */
function examplesTable(r: BertDemoResult): string {
  const test = r.data.test;
  const wrong = (i: number): number => r.models.reduce((n, m, k) => n + (m.predictions[i] !== test[i]!.label ? (k < 2 ? 2 : 1) : 0), 0);
  const mirrored = (a: Example | undefined, b: Example | undefined): boolean => !!a && !!b && (a.kind === 'order' || a.text.includes(',')) && mirror(a).text === b.text;
  // The first of a mirrored pair (the test set adds each pair as two neighbours).
  const isPair = (i: number): boolean => mirrored(test[i], test[i + 1]) && !mirrored(test[i - 1], test[i]);
  const group = (keep: (e: Example) => boolean, paired: boolean, n: number): number[] => {
    const starts = test.flatMap((e, i) => (keep(e) && (!paired || isPair(i)) ? [i] : []));
    const hardness = (i: number): number => wrong(i) + (paired ? wrong(i + 1) : 0);
    return starts.map((i, k) => [i, k] as const).sort((x, y) => hardness(y[0]) - hardness(x[0]) || x[1] - y[1]).slice(0, n).flatMap(([i]) => (paired ? [i, i + 1] : [i]));
  };
  const picks = [
    ...group((e) => e.kind === 'order', true, 2),
    ...group((e) => e.kind === 'negation' && e.text.includes(','), true, 2),
    ...group((e) => e.kind === 'negation' && !e.text.includes(','), false, 3),
    ...group((e) => e.kind === 'plain', false, 2),
  ];
  const cell = (m: ModelScores, i: number): string => {
    const p = m.predictions[i]!;
    const ok = p === test[i]!.label;
    return `<td style="color:${ok ? '#2a7d2a' : '#c0392b'}">${LABELS[p]}${ok ? '' : ' ✗'}</td>`;
  };
  const rows = picks.map((i) => {
    const e = test[i]!;
    return `<tr><td>${escapeXml(e.text)}</td><td>${e.kind}</td><td>${LABELS[e.label]}</td>${r.models.map((m) => cell(m, i)).join('')}</tr>`;
  }).join('\n');
  return `<table><tr><th>test sentence</th><th>subset</th><th>label</th>${r.models.map((m) => `<th>${escapeXml(m.name)}</th>`).join('')}</tr>\n${rows}</table>`;
}

export function renderBertReport(r: BertDemoResult): string {
  const n = (k: Kind): number => r.data.test.filter((e) => e.kind === k).length;
  const rows = r.models.map((m) => `<tr><td>${escapeXml(m.name)}</td><td>${pct(m.overall)}</td><td>${pct(m.byKind.plain)}</td><td>${pct(m.byKind.negation)}</td><td>${pct(m.byKind.order)}</td><td>${m.seconds.toFixed(0)} s</td></tr>`).join('\n');
  const curves = lineChart(r.curves.filter((c) => c.points.length > 0), { title: 'Training loss', xLabel: 'step', yLabel: 'loss', logY: true });
  const doc = r.data.corpus[0] ?? [];
  const mlm = r.pretrain.mlmAccuracy === null ? 'n/a' : pct(r.pretrain.mlmAccuracy);
  const nsp = r.pretrain.nspAccuracy === null ? 'n/a' : pct(r.pretrain.nspAccuracy);
  const a = r.attention;
  const which = a.svgs.length >= a.totalHeads ? `all ${a.totalHeads} heads` : `the ${a.svgs.length} heads (of ${a.totalHeads}) that attend most to <code>not</code> from the adjective and [CLS]`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zhuyi: BERT demo — pretraining and context</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:0.5em}code{background:#f4f4f4;padding:1px 4px}</style>
</head><body>
<h1>注意 zhuyi: what pretraining and attention buy</h1>
<p>A generated language of reviews and stories whose sentiment depends on context: negation (<code>the food was not very good</code>,
<code>the room was bad , not good</code>), word order (<code>the hero defeated the villain</code> vs <code>the villain defeated the hero</code>)
and intensifiers (<code>very</code>, <code>really</code>, <code>so</code>) that never change the label.</p>
<p>A tiny BERT (${escapeXml(modelSummary(r))}) was pretrained with masked-LM + next-sentence prediction on ${r.data.corpus.length} unlabelled documents
(${r.pretrain.steps} steps, ${r.pretrain.seconds.toFixed(0)} s; held-out MLM accuracy ${mlm}, NSP accuracy ${nsp}): each document keeps one sentiment
and may end with a remark such as <code>i loved it</code>. It was then fine-tuned on only <b>${r.data.train.length}</b> labelled sentences
(${r.data.valid.length} more pick the best epoch). The same architecture from random init was fine-tuned the same way, and a bag-of-words
logistic regression (word counts) was trained on the same ${r.data.train.length} sentences.</p>
<p>An unlabelled document: <code>${escapeXml(doc.join(' / '))}</code></p>
<h2>Test accuracy</h2>
<table><tr><th>model</th><th>overall (${r.data.test.length})</th><th>plain (${n('plain')})</th><th>negation (${n('negation')})</th><th>word order (${n('order')})</th><th>time</th></tr>
${rows}</table>
<p>The bag of words sees counts only. Every word-order sentence and every <code>X , not Y</code> sentence in the test set has a mirror with the same
words and the opposite label, so it is right on exactly one of each pair; and <code>not good</code> / <code>not bad</code> need an interaction of two
words that no sum of word weights has. Test sentences never occur in the labelled training or validation data (the language is small, so many
occur, unlabelled, in the pretraining documents).</p>
${barChart(r)}
<h2>Examples</h2>
<p>The hardest test sentences of each kind (those most models get wrong come first, so these are not typical: the table above has the rates).
Word-order and <code>X , not Y</code> sentences are shown with their mirror.</p>
${examplesTable(r)}
<h2>Training</h2>
${curves}
<h2>Where the pretrained model looks</h2>
<p><code>${escapeXml(a.text)}</code>: P(positive) = ${a.positive.pretrained.toFixed(3)} for the pretrained + fine-tuned model, ${a.positive.random.toFixed(3)} from random init.
Below, ${which} of the pretrained + fine-tuned model. Rows: the token attending (query); columns: the token attended to (key); darker = more attention.</p>
${a.svgs.map((svg) => `<figure>${svg}</figure>`).join('\n')}
<p>Total time ${r.seconds.toFixed(0)} s. The data (TSV, corpus, vocabulary), the checkpoints (Hugging Face folders under <code>*/hf</code>) and the training logs are next to this file.</p>
</body></html>
`;
}

function modelSummary(r: BertDemoResult): string {
  return `${r.config.layers} layers, hidden ${r.config.hidden}, ${r.config.heads} heads, ${r.config.vocab} word vocabulary`;
}
