/**
 * BERT pretraining (MLM + NSP) on the shared trainer, as Google's BERT: sentence pairs from a
 * document corpus with 50% random next sentences (createNspInstances), 15% of tokens masked
 * (80/10/10, whole words optional), the masked-LM loss computed only at the masked positions plus
 * the NSP loss. The best checkpoint (by masked-LM loss) is exported as an HF folder
 * (`BertForPreTraining.fromPretrained`, and `finetuneBert({ model })` starts from it). The run
 * folder is laid out as run.ts describes; `resume` continues it exactly: the masks are a function of
 * (seed, epoch, instance), see data/pretraining.ts.
 */
import { batcherTask } from '../train/batcher-task.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { BertForPreTraining } from '../models/bert/heads.js';
import { crossEntropy } from '../models/bert/losses.js';
import { readBertFolder } from '../models/bert/pretrained.js';
import {
  IGNORE_INDEX, PretrainingDataset, createNspInstances, pairIds, readPretrainingCorpus, tokenizeDocuments, type NspInstance,
} from './data/pretraining.js';
import * as F from '../ops/functional.js';
import { ArgumentError } from '../tensor/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Generator, manualSeed } from '../tensor/random.js';
import { realize } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { trainWordPiece } from '../text/bert/trainer.js';
import {  LAST, pickTrainOptions, train } from '../train/trainer.js';
import { withRunLock } from '../train/lock.js';
import { checkOptions } from '../tensor/options.js';

import { BERT_COMMON_KEYS, BertTaskError, TASK_FILE, TOKENIZER_DIR, bertPreset, bestMetricsOf, checkModelFits, checkSeqLength, exportBest, loadForTraining, sequenceBatches, tokenizerFromVocab, attentionMask, type BertCommonOptions, type BertRunResult } from './run.js';

/** Options of `pretrainBert`: the corpus, masking and NSP settings, plus what every run takes. */
export interface PretrainOptions extends BertCommonOptions {
  /** One sentence per line, blank lines between documents. */
  corpus: string;
  /**
   * Continue pretraining a Hugging Face BERT folder (its config, weights and tokenizer) on this
   * corpus: domain- or task-adaptive pretraining (Gururangan et al. 2020). Heads it lacks start
   * from the init; `size`, `vocab` and `vocabSize` do not apply.
   */
  model?: string;
  /** An existing vocabulary: a vocab.txt file or a tokenizer folder ... */
  vocab?: string;
  /** ... or the size of a WordPiece vocabulary trained on the corpus (default 8000). */
  vocabSize?: number;
  wholeWordMask?: boolean;
  /** Share of tokens predicted (default 0.15). */
  maskProb?: number;
  /** Google's short_seq_prob (default 0.1). */
  shortSeqProb?: number;
  /** New masks each epoch (default true). */
  dynamicMasking?: boolean;
  /** Share of documents held out for validation (default 0.05; instances when there are fewer than 10 documents). */
  validFraction?: number;
  /** At most this many validation instances (default 2000). */
  maxValidInstances?: number;
}

interface SavedTask {
  /** 'pretrain' here; the fine-tuning runs write theirs through finetune.ts. */
  task: string;
  config: BertConfigJSON;
  /** Every data setting the run needs again on --resume. */
  data: Record<string, unknown>;
  labels?: string[];
}

function readSaved(out: string): SavedTask {
  const path = join(out, TASK_FILE);
  if (!existsSync(path)) throw new BertTaskError(`${path}: nothing to resume (no ${TASK_FILE}; was the run started in this folder?)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedTask;
  } catch (e) {
    throw new BertTaskError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function startFolder(out: string, resume: boolean | undefined): void {
  if (!resume && existsSync(join(out, LAST))) throw new BertTaskError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });
}

function trainTokenizer(texts: string[], vocabSize: number, lowercase: boolean, maxSeqLength: number): BertTokenizer {
  const vocab = trainWordPiece(texts, { vocabSize, lowercase });
  return new BertTokenizer(vocab, { doLowerCase: lowercase, modelMaxLength: maxSeqLength });
}

function pct(n: number, of: number): string {
  return `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
}

// ---- pretraining -----------------------------------------------------------------------------------------

/** The tensors of one pretraining batch; MLM targets gathered as Google does (positions + labels, padded to a per-length count). */
export interface PretrainingBatchTensors {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds: Tensor;
  /** (B*P) flat indices into the (B*S) token positions; padding entries point at 0 with label -100. */
  mlmPositions: Tensor;
  /** (B*P) original ids, -100 for padding entries. */
  mlmLabels: Tensor;
  /** (B) 0 = B follows A, 1 = random. */
  nextSentenceLabels: Tensor;
  /** The same labels laid out (B, S), -100 off target (what BertForPreTraining.forward takes). */
  labels: Tensor;
  targets: number;
  tokens: number;
}

/** Masks the batch's instances for `epoch` and lays them out as tensors. */
export function pretrainingBatch(ds: PretrainingDataset, indices: readonly number[], epoch: number, padId: number, paddedLength?: number): PretrainingBatchTensors {
  const B = indices.length;
  const longest = Math.max(...indices.map((i) => ds.lengthOf(i)));
  const S = paddedLength ?? longest;
  if (S < longest) throw new ArgumentError(`pretrainingBatch: padded length ${S} is shorter than the longest instance (${longest} tokens)`);
  const P = ds.masker.maxTargetsFor(S);
  const ids = new Int32Array(B * S).fill(padId);
  const types = new Int32Array(B * S);
  const lengths = new Int32Array(B);
  const labels = new Int32Array(B * S).fill(IGNORE_INDEX);
  const positions = new Int32Array(B * P);
  const mlmLabels = new Int32Array(B * P).fill(IGNORE_INDEX);
  const nsp = new Int32Array(B);
  let targets = 0;
  let tokens = 0;
  indices.forEach((i, b) => {
    const ex = ds.example(i, epoch);
    const n = ex.inputIds.length;
    ids.set(ex.inputIds, b * S);
    types.set(ex.tokenTypeIds, b * S);
    labels.set(ex.labels, b * S);
    lengths[b] = n;
    nsp[b] = ex.nextSentenceLabel;
    tokens += n;
    let k = 0;
    for (let t = 0; t < n; t++) {
      if (ex.labels[t] === IGNORE_INDEX) continue;
      if (k >= P) throw new BertTaskError(`pretrainingBatch: instance ${i} has more than ${P} masked tokens (internal bound broken)`);
      positions[b * P + k] = b * S + t;
      mlmLabels[b * P + k] = ex.labels[t]!;
      k++;
    }
    targets += k;
  });
  return {
    inputIds: Tensor.fromBuffer(ids, [B, S]), attentionMask: attentionMask(lengths, S), tokenTypeIds: Tensor.fromBuffer(types, [B, S]),
    mlmPositions: Tensor.fromBuffer(positions, [B * P]), mlmLabels: Tensor.fromBuffer(mlmLabels, [B * P]), nextSentenceLabels: Tensor.fromBuffer(nsp, [B]),
    labels: Tensor.fromBuffer(labels, [B, S]), targets, tokens,
  };
}

/**
 * MLM + NSP loss of a batch, as BertForPreTraining's (mean cross-entropy over the masked tokens plus
 * the NSP cross-entropy), computing the vocabulary projection only at the masked positions.
 */
export function pretrainingLoss(model: BertForPreTraining, t: PretrainingBatchTensors): { loss: Tensor; mlmLoss: Tensor; nspLoss: Tensor; mlmLogits: Tensor; nspLogits: Tensor } {
  const out = model.bert.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds });
  const [B, S, C] = out.lastHiddenState.shape as [number, number, number];
  const picked = F.indexSelect(F.reshape(out.lastHiddenState, [B * S, C]), 0, t.mlmPositions); // (B*S, C) -> (B*P, C)
  const mlmLogits = model.cls.predictions.forward(picked); // (B*P, V)
  const nspLogits = model.cls.seq_relationship.forward(out.poolerOutput!); // (B, 2)
  const mlmLoss = crossEntropy(mlmLogits, t.mlmLabels, IGNORE_INDEX);
  const nspLoss = crossEntropy(nspLogits, t.nextSentenceLabels);
  return { loss: F.add(mlmLoss, nspLoss), mlmLoss, nspLoss, mlmLogits, nspLogits };
}

/** Pretrains BERT (MLM + NSP) on a corpus into `outDir` (or continues it with `resume`). */
export async function pretrainBert(o: PretrainOptions): Promise<BertRunResult> {
  o = checkOptions('pretrainBert', o, {
    ...BERT_COMMON_KEYS, corpus: 1, model: 1, vocab: 1, vocabSize: 1, wholeWordMask: 1, maskProb: 1, shortSeqProb: 1, dynamicMasking: 1, validFraction: 1, maxValidInstances: 1,
  });
  return withRunLock(o.outDir, 'pretrainBert', () => pretrainBertLocked(o), o.log);
}

async function pretrainBertLocked(o: PretrainOptions): Promise<BertRunResult> {
  const log = o.log ?? (() => {});
  const out = o.outDir;
  startFolder(out, o.resume);
  const saved = o.resume ? readSaved(out) : null;
  if (saved && saved.task !== 'pretrain') throw new BertTaskError(`${join(out, TASK_FILE)}: this folder holds a '${saved.task}' run, not pretraining`);
  const data = (saved?.data ?? {
    corpus: o.corpus, maxSeqLength: checkSeqLength(o.maxSeqLength ?? 128), wholeWordMask: o.wholeWordMask ?? false, maskProb: o.maskProb ?? 0.15,
    shortSeqProb: o.shortSeqProb ?? 0.1, dynamicMasking: o.dynamicMasking ?? true, validFraction: o.validFraction ?? 0.05,
    maxValidInstances: o.maxValidInstances ?? 2000, seed: o.seed ?? 0, batchTokens: o.batchTokens ?? 4096, model: o.model,
  }) as {
    corpus: string; maxSeqLength: number; wholeWordMask: boolean; maskProb: number; shortSeqProb: number; dynamicMasking: boolean;
    validFraction: number; maxValidInstances: number; seed: number; batchTokens: number; model?: string;
  };
  if (!data.corpus) throw new ArgumentError('pretrainBert: give a corpus file');
  if (!saved && o.model && (o.vocab !== undefined || o.size !== undefined)) {
    throw new ArgumentError('pretrainBert: a model folder brings its own vocabulary and size; give model, or vocab/vocabSize and size, not both');
  }
  const seed = data.seed;
  manualSeed(seed);
  const corpus = readPretrainingCorpus(data.corpus);
  const lowercase = o.lowercase ?? true;
  let tokenizer: BertTokenizer;
  const start = !saved && data.model ? readBertFolder(data.model) : null;
  if (saved) tokenizer = BertTokenizer.fromPretrained(join(out, TOKENIZER_DIR));
  else if (start) tokenizer = BertTokenizer.fromPretrained(data.model!);
  else if (o.vocab) tokenizer = tokenizerFromVocab(o.vocab, lowercase, data.maxSeqLength);
  else tokenizer = trainTokenizer(corpus.documents.flatMap((d) => d.map((s) => s.text)), o.vocabSize ?? 8000, lowercase, data.maxSeqLength);

  const documents = tokenizeDocuments(corpus.documents, tokenizer);
  if (documents.length === 0) throw new BertTaskError(`${data.corpus}: no sentence has any token in this vocabulary`);
  const instances = createNspInstances(documents, new Generator(seed), { maxSeqLength: data.maxSeqLength, shortSeqProb: data.shortSeqProb });
  // Hold out whole documents (no sentence seen in training) when there are enough, else a slice of instances.
  let trainInst: NspInstance[];
  let validInst: NspInstance[];
  if (documents.length >= 10) {
    const k = Math.max(1, Math.round(documents.length * data.validFraction));
    trainInst = instances.filter((x) => x.docA < documents.length - k);
    validInst = instances.filter((x) => x.docA >= documents.length - k);
  } else {
    const k = Math.max(1, Math.round(instances.length * data.validFraction));
    if (instances.length < 2) throw new BertTaskError(`${data.corpus}: only ${instances.length} instance; need at least 2 (one to train on, one to validate)`);
    trainInst = instances.slice(0, instances.length - k);
    validInst = instances.slice(instances.length - k);
  }
  validInst = validInst.slice(0, data.maxValidInstances);
  const masking = { wholeWordMask: data.wholeWordMask, maskProb: data.maskProb, seed, dynamicMasking: data.dynamicMasking };
  const trainSet = new PretrainingDataset(trainInst, tokenizer, masking);
  // Validation masks are fixed (their own seed), so epochs compare on the same targets.
  const validSet = new PretrainingDataset(validInst, tokenizer, { ...masking, seed: seed + 7919, dynamicMasking: false });
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  log(`data: ${corpus.sentences} sentences in ${corpus.documents.length} documents; ${trainSet.length} training and ${validSet.length} validation instances (max ${data.maxSeqLength} tokens; ${pct(instances.filter((x) => x.isRandomNext).length, instances.length)} random-next, ${pct(instances.filter((x) => x.forced).length, instances.length)} of all forced by single-sentence chunks); vocab ${tokenizer.vocabSize}`);

  let config: BertConfigJSON;
  if (saved) config = saved.config;
  else if (start) {
    const { architectures: _a, ...rest } = start.config;
    void _a;
    config = { ...rest, ...(o.modelOptions ?? {}) };
  } else {
    config = {
      ...bertPreset(o.size ?? 'tiny'), ...(o.modelOptions ?? {}),
      vocab_size: tokenizer.vocabSize, pad_token_id: padId, max_position_embeddings: Math.max(512, data.maxSeqLength),
    };
  }
  const model = new BertForPreTraining(new BertConfig(config));
  if (start) {
    checkModelFits(model.config, tokenizer, data.maxSeqLength, data.model);
    await loadForTraining(model, start.stateDict, data.model!, log);
  }
  if (!saved) {
    tokenizer.savePretrained(join(out, TOKENIZER_DIR));
    writeFileAtomic(join(out, TASK_FILE), `${JSON.stringify({ task: 'pretrain', config, data } satisfies SavedTask, null, 2)}\n`);
  }
  const clsId = tokenizer.convertTokensToIds(tokenizer.clsToken);
  const sepId = tokenizer.convertTokensToIds(tokenizer.sepToken);
  const idsOf = (ds: PretrainingDataset) => ds.instances.map((inst) => pairIds(inst, clsId, sepId).ids);
  const { batcher, validBatches } = sequenceBatches(idsOf(trainSet), idsOf(validSet), { batchTokens: data.batchTokens, seed, padId, maxSeqLength: data.maxSeqLength });

  const task = batcherTask(batcher, {
    model,
    loss: (b) => {
      const t = pretrainingBatch(trainSet, b.indices, batcher.currentEpoch, padId, b.sourceLength);
      return { loss: pretrainingLoss(model, t).loss, tokens: t.tokens };
    },
    validate: async () => {
      let mlmSum = 0; let nspSum = 0; let targets = 0; let rows = 0; let mlmRight = 0; let nspRight = 0;
      for (const b of validBatches) {
        const t = pretrainingBatch(validSet, b.indices, 0, padId, b.sourceLength);
        const r = noGrad(() => pretrainingLoss(model, t));
        const mlmPred = F.argmax(r.mlmLogits, -1);
        const nspPred = F.argmax(r.nspLogits, -1);
        await realize(r.mlmLoss, r.nspLoss, mlmPred, nspPred);
        const labels = t.mlmLabels.buffer as Int32Array;
        const pred = await mlmPred.data();
        for (let k = 0; k < labels.length; k++) if (labels[k] !== IGNORE_INDEX && pred[k] === labels[k]) mlmRight++;
        const nl = t.nextSentenceLabels.buffer as Int32Array;
        const np = await nspPred.data();
        for (let k = 0; k < nl.length; k++) if (np[k] === nl[k]) nspRight++;
        mlmSum += (await r.mlmLoss.item()) * t.targets;
        nspSum += (await r.nspLoss.item()) * nl.length;
        targets += t.targets;
        rows += nl.length;
      }
      const m = {
        valid_loss: mlmSum / targets + nspSum / rows, mlm_loss: mlmSum / targets, nsp_loss: nspSum / rows,
        mlm_accuracy: mlmRight / targets, nsp_accuracy: nspRight / rows,
      };
      log(`validation: loss ${m.valid_loss.toFixed(3)} (MLM ${m.mlm_loss.toFixed(3)}, NSP ${m.nsp_loss.toFixed(3)}), MLM accuracy ${(100 * m.mlm_accuracy).toFixed(1)}%, NSP accuracy ${(100 * m.nsp_accuracy).toFixed(1)}%`);
      return m;
    },
    // The masked-LM loss picks the checkpoint: it is what transfers; NSP (which RoBERTa found does not
    // help) can overfit and raise the summed loss while MLM still improves.
    bestMetric: { name: 'mlm_loss', higherIsBetter: false },
  });
  const summary = await train(task, { ...pickTrainOptions(o), outDir: out, meta: { task: 'pretrain' } });
  const hfDir = await exportBest(out, () => new BertForPreTraining(new BertConfig(config), { initialize: false }), tokenizer);
  return { summary, hfDir, bestMetrics: bestMetricsOf(out, summary.best), tokenizer, config };
}
