/**
 * Opening a BERT model folder for inference or evaluation, as the `zhuyi bert` pipeline commands and
 * `bert eval` do. A folder is either
 *
 *   a Hugging Face folder   config.json, model.safetensors or pytorch_model.bin, vocab.txt and/or
 *                           tokenizer.json (what savePretrained writes, or any HF BERT checkpoint)
 *   a run folder            what `zhuyi bert pretrain | finetune --out DIR` writes: DIR/hf is the best
 *                           checkpoint as an HF folder, DIR/zhuyi-bert.json the run's data settings
 *
 * and the model class is the one `config.architectures[0]` names, so a command meant for another head
 * (`ner` on a sequence classifier) fails with a message that names the head and the right command.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BertConfig, type BertConfigJSON } from '../models/bert/config.js';
import {
  BertForMaskedLM, BertForMultipleChoice, BertForNextSentencePrediction, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
  BertForTokenClassification,
} from '../models/bert/heads.js';
import { BertModel } from '../models/bert/modeling.js';
import { BertPreTrainedModel, type BertModelClass } from '../models/bert/pretrained.js';
import { ZhuyiError } from '../tensor/errors.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { HF_DIR, TASK_FILE, TOKENIZER_DIR } from './run.js';

/** The BERT classes by the name config.json's `architectures` gives them (HF's class names). */
export const BERT_CLASSES = {
  BertModel, BertForPreTraining, BertForMaskedLM, BertForNextSentencePrediction, BertForSequenceClassification, BertForTokenClassification,
  BertForQuestionAnswering, BertForMultipleChoice,
} as const;
export type BertArchitecture = keyof typeof BERT_CLASSES;

/** A folder is missing, is not a BERT folder, or holds a model of another head than the caller needs. */
export class BertFolderError extends ZhuyiError {}

/** What a run folder's zhuyi-bert.json says (the part evaluation reads). */
export interface RunSettings {
  task: string;
  data: Record<string, unknown>;
  labels?: string[];
}

export interface BertFolder {
  /** The folder with config.json and the weights. */
  hfDir: string;
  /** The folder with the tokenizer files: hfDir, or else the run's tokenizer/. */
  tokenizerDir: string;
  /** The run folder of `zhuyi bert pretrain | finetune` that holds hfDir, if any, and its settings. */
  runDir: string | null;
  run: RunSettings | null;
  config: BertConfig;
  /** config.architectures[0], when the config names one. */
  architecture: string | null;
}

const hasTokenizer = (d: string): boolean => existsSync(join(d, 'vocab.txt')) || existsSync(join(d, 'tokenizer.json'));

function readRun(runDir: string, who: string): RunSettings | null {
  const path = join(runDir, TASK_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunSettings;
  } catch (e) {
    throw new BertFolderError(`${who}: ${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Finds the HF folder, the tokenizer and the run settings of `dir` (an HF folder, a run folder, or a
 * run's hf/ subfolder) and reads config.json. `who` starts every message (e.g. 'bert classify').
 */
export function findBertFolder(dir: string, who: string): BertFolder {
  if (!existsSync(dir)) throw new BertFolderError(`${who}: ${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new BertFolderError(`${who}: ${dir} is a file; give a model folder (config.json, weights, vocab.txt or tokenizer.json)`);
  let hfDir: string;
  let runDir: string | null = null;
  if (existsSync(join(dir, 'config.json'))) {
    hfDir = dir;
    // A run's hf/ subfolder: the run settings sit one level up.
    if (basename(dir) === HF_DIR && existsSync(join(dirname(dir), TASK_FILE))) runDir = dirname(dir);
  } else if (existsSync(join(dir, HF_DIR, 'config.json'))) {
    hfDir = join(dir, HF_DIR);
    runDir = dir;
  } else if (existsSync(join(dir, TASK_FILE))) {
    throw new BertFolderError(`${who}: ${dir} is a run folder without ${HF_DIR}/ (no validation has run yet, so there is no best checkpoint to load)`);
  } else {
    throw new BertFolderError(`${who}: ${dir} is not a BERT folder: no config.json (nor ${HF_DIR}/config.json, which 'zhuyi bert finetune --out DIR' writes)`);
  }
  const configPath = join(hfDir, 'config.json');
  let json: BertConfigJSON;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as BertConfigJSON;
  } catch (e) {
    throw new BertFolderError(`${who}: ${configPath}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BertFolderError(`${who}: ${configPath}: expected a JSON object`);
  let config: BertConfig;
  try {
    config = new BertConfig(json, configPath);
  } catch (e) {
    throw new BertFolderError(`${who}: ${dir} is not a BERT folder we can load: ${(e as Error).message}`);
  }
  const tokenizerDir = [hfDir, ...(runDir ? [join(runDir, TOKENIZER_DIR)] : [])].find(hasTokenizer);
  if (!tokenizerDir) throw new BertFolderError(`${who}: ${hfDir} has no tokenizer (vocab.txt or tokenizer.json)`);
  return { hfDir, tokenizerDir, runDir, run: runDir ? readRun(runDir, who) : null, config, architecture: config.architectures?.[0] ?? null };
}

export interface LoadOptions<T extends BertPreTrainedModel> {
  /** Architectures the caller can use; the first is built when config.json names none. */
  accepts: readonly BertModelClass<T>[];
  /** What to suggest for an architecture the caller cannot use, e.g. "use 'zhuyi bert classify'". */
  hint?: (architecture: string) => string | undefined;
  /** Build this class whatever the folder holds (an encoder for embeddings): head weights are then unused, not an error. */
  as?: BertModelClass<T>;
  /** Receives a warning when the checkpoint lacks weights the model needs (they start random). Default: none. */
  warn?: (message: string) => void;
}

/** Loads the model of a folder as the class its config names, checked against what the caller accepts. */
export async function loadBertModel<T extends BertPreTrainedModel>(folder: BertFolder, who: string, o: LoadOptions<T>): Promise<T> {
  let cls: BertModelClass<T>;
  if (o.as) {
    cls = o.as;
  } else {
    const arch = folder.architecture;
    const names = o.accepts.map((c) => c.name);
    if (arch !== null && !names.includes(arch)) {
      const hint = o.hint?.(arch);
      throw new BertFolderError(`${who}: ${join(folder.hfDir, 'config.json')} holds a ${arch}, but ${who} needs ${names.join(' or ')}${hint ? `; ${hint}` : ''}`);
    }
    cls = arch === null ? o.accepts[0]! : o.accepts[names.indexOf(arch)]!;
  }
  let missing: string[] = [];
  const model = await BertPreTrainedModel.fromPretrained.call(cls, folder.hfDir, { warn: () => {}, onLoadingInfo: (info) => { missing = info.missingKeys; } }) as T;
  if (missing.length && o.warn) {
    o.warn(`${who}: warning: ${folder.hfDir} has no weights for ${missing.join(', ')}; ${cls.name} starts them at random, so its outputs mean nothing until it is trained`);
  }
  return model;
}

/** The folder's tokenizer. */
export function loadBertTokenizer(folder: BertFolder): BertTokenizer {
  return BertTokenizer.fromPretrained(folder.tokenizerDir);
}
