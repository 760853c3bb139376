/**
 * The scaffolding the NER, QA and multiple-choice fine-tuning runs share: the run folder (checks,
 * zhuyi-bert.json, --resume), the model's init from a pretrained Hugging Face folder or from a size
 * preset (with a tokenizer given or trained here), and the options that say where the model comes
 * from. Classification (tasks.ts) predates it and keeps its own copy.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import { readBertFolder, type BertPreTrainedModel } from '../models/bert/pretrained.js';
import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { trainWordPiece } from '../text/bert/trainer.js';
import { LAST } from '../train/trainer.js';
import { BertTaskError, TASK_FILE, TOKENIZER_DIR, bertPreset, checkModelFits, loadForTraining, tokenizerFromVocab, type FinetuneSourceOptions } from './tasks.js';

/** What the NER, QA and multiple-choice runs take besides their data: the options every fine-tuning run shares. */
export type HeadFinetuneOptions = FinetuneSourceOptions;


/** The fine-tuning tasks built on this scaffolding (classification in tasks.ts keeps its own). */
export type HeadTask = 'ner' | 'qa' | 'multiple-choice';

/** What zhuyi-bert.json holds for a NER, QA or multiple-choice run. */
export interface SavedHeadTask {
  task: HeadTask;
  config: BertConfigJSON;
  /** Every data setting the run needs again on --resume. */
  data: Record<string, unknown>;
  labels?: string[];
}

const TASK_NAMES: Record<HeadTask, string> = { ner: 'named-entity recognition', qa: 'question answering', 'multiple-choice': 'multiple choice' };

/** @internal Checks the run folder and the init choice; reads zhuyi-bert.json on resume. */
export function beginHeadRun(o: HeadFinetuneOptions, kind: HeadTask, fn: string): { saved: SavedHeadTask | null; init: 'pretrained' | 'random' } {
  const out = o.outDir;
  if (!o.resume && existsSync(join(out, LAST))) throw new BertTaskError(`${join(out, LAST)} exists: pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });
  let saved: SavedHeadTask | null = null;
  if (o.resume) {
    const path = join(out, TASK_FILE);
    if (!existsSync(path)) throw new BertTaskError(`${path}: nothing to resume (no ${TASK_FILE}; was the run started in this folder?)`);
    try {
      saved = JSON.parse(readFileSync(path, 'utf8')) as SavedHeadTask;
    } catch (e) {
      throw new BertTaskError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    if (saved.task !== kind) throw new BertTaskError(`${path}: this folder holds a '${saved.task}' run, not ${TASK_NAMES[kind]}`);
  }
  const init = o.init ?? (o.model ? 'pretrained' : 'random');
  if (!saved && init === 'pretrained' && !o.model) throw new ArgumentError(`${fn}: init pretrained needs a model folder (--model DIR), or use init random with a size preset`);
  if (!saved && init === 'random' && o.model) throw new ArgumentError(`${fn}: give either a model folder (pretrained init) or init random, not both`);
  return { saved, init };
}

/** @internal Saves the tokenizer and zhuyi-bert.json of a new run. */
export function saveHeadTask(out: string, task: SavedHeadTask, tokenizer: BertTokenizer): void {
  tokenizer.savePretrained(join(out, TOKENIZER_DIR));
  writeFileAtomic(join(out, TASK_FILE), `${JSON.stringify(task, null, 2)}\n`);
}

export interface HeadModelSpec<M extends BertPreTrainedModel> {
  out: string;
  o: HeadFinetuneOptions;
  saved: SavedHeadTask | null;
  data: { maxSeqLength: number; init: 'pretrained' | 'random'; model?: string };
  /** num_labels, id2label, label2id of the head. */
  labelKeys: BertConfigJSON;
  /** Head weights (e.g. 'classifier.') taken from a pretrained folder only when their shapes fit. */
  headPrefix: string;
  /** Texts a vocabulary is trained on (random init without a vocab). */
  vocabTexts: () => string[];
  build: (config: BertConfig, initialize: boolean) => M;
  log: (line: string) => void;
}

/** @internal The tokenizer, the config and the model of a run: saved (resume), from a pretrained folder, or from a size preset. */
export async function buildHeadModel<M extends BertPreTrainedModel>(s: HeadModelSpec<M>): Promise<{ tokenizer: BertTokenizer; config: BertConfigJSON; model: M }> {
  const { o, saved, data, log } = s;
  const lowercase = o.lowercase ?? true;
  let tokenizer: BertTokenizer;
  let config: BertConfigJSON;
  let pretrained: Map<string, Tensor> | null = null;
  if (saved) {
    tokenizer = BertTokenizer.fromPretrained(join(s.out, TOKENIZER_DIR));
    config = saved.config;
  } else if (data.init === 'pretrained') {
    const folder = readBertFolder(data.model!);
    tokenizer = BertTokenizer.fromPretrained(data.model!);
    // A fine-tuned folder's head settings do not carry over.
    const { architectures: _a, _num_labels: _n, problem_type: _p, ...rest } = folder.config;
    void _a; void _n; void _p;
    config = { ...rest, ...(o.modelOptions ?? {}), ...s.labelKeys };
    pretrained = folder.stateDict;
  } else {
    tokenizer = o.vocab
      ? tokenizerFromVocab(o.vocab, lowercase, data.maxSeqLength)
      : new BertTokenizer(trainWordPiece(s.vocabTexts(), { vocabSize: o.vocabSize ?? 8000, lowercase }), { doLowerCase: lowercase, modelMaxLength: data.maxSeqLength });
    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    config = {
      ...bertPreset(o.size ?? 'tiny'), ...(o.modelOptions ?? {}), vocab_size: tokenizer.vocabSize, pad_token_id: padId,
      max_position_embeddings: Math.max(512, data.maxSeqLength), ...s.labelKeys,
    };
  }
  const bertConfig = new BertConfig(config);
  checkModelFits(bertConfig, tokenizer, data.maxSeqLength);
  const model = s.build(bertConfig, true);
  if (pretrained) {
    // A head of another shape (a folder fine-tuned for other labels) is not reused.
    const own = model.stateDict();
    const weights = new Map([...pretrained].filter(([k, v]) => !k.startsWith(s.headPrefix) || (own[k] && own[k]!.shape.join() === v.shape.join())));
    await loadForTraining(model, weights, data.model!, log);
  } else if (!saved) {
    log(`init: random, ${o.size ?? 'tiny'} preset (${bertConfig.numHiddenLayers} layers, hidden ${bertConfig.hiddenSize}), no pretraining`);
  }
  return { tokenizer, config, model };
}
