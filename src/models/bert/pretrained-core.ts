/**
 * BertPreTrainedModel: what every BERT class shares with HF's PreTrainedModel — `_init_weights`,
 * `from_pretrained` (prefix handling, ignored keys, warnings worded like HF's) and `save_pretrained`
 * (config.json + model.safetensors, tied weights written once).
 *
 * Loading follows transformers' `_load_pretrained_model`:
 *   - checkpoint keys may carry the base-model prefix `bert.` or not, whatever the class: a headed
 *     checkpoint loads into BertModel (head keys become "unexpected"), a base checkpoint into a
 *     headed class (head keys become "missing" and keep their fresh init);
 *   - missing / unexpected keys are warnings (filtered by each class's ignore patterns, and buffers
 *     such as `embeddings.position_ids` never count as unexpected); shape mismatches are errors;
 *   - legacy TF-converted names `LayerNorm.gamma` / `LayerNorm.beta` are read as weight / bias.
 *
 * No file access here (the browser entry imports this module): a folder given by name is read by the
 * platform's BertFolderIo (pretrained.ts in Node: folders and Hub ids; browser.ts: URLs), and a
 * folder given as its files (name -> bytes, e.g. from a file picker) is parsed here.
 */
import type { HubOptions } from '../../io/hub.js';
import { parseSafetensors, serializeSafetensors } from '../../io/safetensors-core.js';
import * as init from '../../nn/init.js';
import { Embedding, LayerNorm, Linear } from '../../nn/layers.js';
import { Module, type Parameter } from '../../nn/module.js';
import { ZhuyiError, fmtShape } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { BertConfig, type BertConfigJSON } from './config.js';
import { checkOptions } from '../../tensor/options.js';

export class BertCheckpointError extends ZhuyiError {}

/** What loading did with the checkpoint's keys (HF's `output_loading_info`). */
export interface LoadingInfo {
  /** Model keys the checkpoint did not provide (they keep their fresh initialisation). */
  missingKeys: string[];
  /** Checkpoint keys the model has no place for (not loaded). */
  unexpectedKeys: string[];
}

export interface FromPretrainedOptions {
  /**
   * BertModel only: build the pooler. Default: exactly when the checkpoint holds pooler weights
   * (HF always builds it and initialises a missing one randomly; a random pooler is rarely wanted).
   */
  addPoolingLayer?: boolean;
  /** Receives HF-worded warnings about missing and unexpected keys. Default: console.warn. */
  warn?: (message: string) => void;
  /** Called with the loading info (HF's output_loading_info=True). */
  onLoadingInfo?: (info: LoadingInfo) => void;
  /** Generator for the initialisation of weights the checkpoint lacks. */
  generator?: Generator;
  /** A Hub id's revision, cache, endpoint, token, offline mode (default: main and HF's environment variables). */
  hub?: HubOptions;
}

export interface BertConstructorOptions {
  /** BertModel only: build the pooler (default true, as HF). */
  addPoolingLayer?: boolean;
  /** Source of the initial weights. */
  generator?: Generator;
  /** Run initWeights (default true); a headed class builds its inner BertModel with false and initialises once, whole. */
  initialize?: boolean;
}

/** A concrete BERT class, as `fromPretrained` sees it through `this`. */
export interface BertModelClass<T extends BertPreTrainedModel> {
  new (config: BertConfig, options?: BertConstructorOptions): T;
  readonly name: string;
  readonly keysToIgnoreOnLoadMissing: readonly RegExp[];
  readonly keysToIgnoreOnLoadUnexpected: readonly RegExp[];
  readonly tiedWeightsKeys: readonly string[];
}

/** config.json plus weights read from a Hugging Face model folder. */
export interface HfFolder {
  config: BertConfigJSON;
  stateDict: Map<string, Tensor>;
  /** The weights file(s) read, for messages. */
  weightsFile: string;
}

/** An HF folder given as its files: name -> bytes (config.json and model.safetensors are read). */
export type BertFolderFiles = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

/** How a platform reads a named folder and writes one (see the file comment). */
export interface BertFolderIo {
  /** config.json and weights of `source` (a folder, a Hub id, a URL: whatever the platform takes); `where` names it in messages. */
  read(source: string, hub: HubOptions | undefined): Promise<HfFolder & { where: string }>;
  /** Writes the files (config.json last) into `dir`. */
  write(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void>;
}

let folderIo: BertFolderIo | null = null;

/** Installs the platform's folder reader and writer (pretrained.ts in Node, browser.ts in a browser). */
export function setBertFolderIo(io: BertFolderIo): void {
  folderIo = io;
}

function platformIo(what: string): BertFolderIo {
  if (!folderIo) throw new BertCheckpointError(`${what}: no folder access on this platform; import 'zhuyi' (Node) or 'zhuyi/browser', or pass the folder's files (name -> bytes)`);
  return folderIo;
}

/** config.json and model.safetensors from a folder's files (`where` names it in messages). */
export function bertFolderFromFiles(files: BertFolderFiles, where = '<files>'): HfFolder {
  const get = (name: string): Uint8Array | undefined => (files instanceof Map ? files.get(name) : (files as Record<string, Uint8Array>)[name]);
  const configBytes = get('config.json');
  if (!configBytes) throw new BertCheckpointError(`${where}: no config.json (expected a Hugging Face model folder)`);
  let config: BertConfigJSON;
  try {
    config = JSON.parse(new TextDecoder().decode(configBytes)) as BertConfigJSON;
  } catch (e) {
    throw new BertCheckpointError(`${where}/config.json: not JSON (${(e as Error).message})`);
  }
  const weights = get('model.safetensors');
  if (!weights) throw new BertCheckpointError(`${where}: no model.safetensors (a folder given as files must hold its weights as safetensors)`);
  return { config, stateDict: parseSafetensors(weights, `${where}/model.safetensors`).tensors, weightsFile: `${where}/model.safetensors` };
}

// HF's _fix_key: TF-converted checkpoints name LayerNorm's parameters gamma and beta.
function fixKey(key: string): string {
  return key.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

export abstract class BertPreTrainedModel extends Module {
  /** The attribute under which headed classes hold their BertModel (HF's base_model_prefix). */
  static readonly baseModelPrefix = 'bert';
  /** HF's `_keys_to_ignore_on_load_missing`: missing keys matching these raise no warning. */
  static readonly keysToIgnoreOnLoadMissing: readonly RegExp[] = [/position_ids/];
  /** HF's `_keys_to_ignore_on_load_unexpected`. */
  static readonly keysToIgnoreOnLoadUnexpected: readonly RegExp[] = [];
  /** Keys that alias another parameter (the MLM decoder tied to the word embeddings); saved once, under the other name. */
  static readonly tiedWeightsKeys: readonly string[] = [];

  constructor(readonly config: BertConfig) {
    super();
  }

  /**
   * HF's `_init_weights`, over every module: Linear and Embedding weights ~ N(0, initializer_range),
   * biases 0, the padding row of an embedding 0, LayerNorm weight 1 and bias 0. A parameter shared
   * by two modules (the tied decoder) is initialised once, as its first owner (the embedding).
   * With `only`, just those parameters are (re)initialised (fromPretrained: the missing ones).
   */
  initWeights(generator: Generator = defaultGenerator, only: ReadonlySet<Parameter> | null = null): void {
    const std = this.config.initializerRange;
    const done = new Set<Parameter>();
    const set = (p: Parameter | null, values: () => Tensor): void => {
      if (!p || done.has(p)) return;
      done.add(p);
      if (!only || only.has(p)) p.buffer = values().buffer;
    };
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        set(m.weight, () => init.normal(m.weight.shape, 0, std, generator));
        if (m.bias) set(m.bias, () => init.zeros(m.bias!.shape));
      } else if (m instanceof Embedding) {
        set(m.weight, () => {
          const w = init.normal(m.weight.shape, 0, std, generator);
          if (m.paddingIdx !== null) w.buffer!.fill(0, m.paddingIdx * m.embeddingDim, (m.paddingIdx + 1) * m.embeddingDim);
          return w;
        });
      } else if (m instanceof LayerNorm) {
        if (m.weight) set(m.weight, () => init.ones(m.weight!.shape));
        if (m.bias) set(m.bias, () => init.zeros(m.bias!.shape));
      }
    }
    // Parameters outside those modules (cls.predictions.bias) start at zero, as HF builds them.
    for (const p of this.parameters()) if (!done.has(p) && (!only || only.has(p))) p.buffer = init.zeros(p.shape).buffer;
  }

  private get statics(): BertModelClass<BertPreTrainedModel> {
    return this.constructor as unknown as BertModelClass<BertPreTrainedModel>;
  }

  /**
   * Copies a checkpoint state dict into this model with HF's rules (see the file comment).
   * Throws BertCheckpointError listing every shape mismatch; returns missing and unexpected keys.
   */
  async loadPretrainedStateDict(checkpoint: Map<string, Tensor>, source = 'checkpoint'): Promise<LoadingInfo> {
    return (await this.loadWithUnloaded(checkpoint, source)).info;
  }

  /** loadPretrainedStateDict, plus the parameters that received no value (missing, ignored or not). */
  private async loadWithUnloaded(checkpoint: Map<string, Tensor>, source: string): Promise<{ info: LoadingInfo; unloaded: Set<Parameter> }> {
    const cls = this.statics;
    const prefix = `${BertPreTrainedModel.baseModelPrefix}.`;
    const own = this.stateDict();
    const expected = Object.keys(own);
    const loaded = new Map<string, Tensor>();
    for (const [k, v] of checkpoint) loaded.set(fixKey(k), v);
    const hasPrefix = [...loaded.keys()].some((k) => k.startsWith(prefix));
    const expectsPrefix = expected.some((k) => k.startsWith(prefix));
    // Model key -> checkpoint key for the checkpoint's naming.
    const toCheckpoint = (k: string): string => {
      if (expectsPrefix && !hasPrefix) return k.startsWith(prefix) ? k.slice(prefix.length) : k; // base checkpoint, headed model
      if (hasPrefix && !expectsPrefix) return prefix + k; // headed checkpoint, base model
      return k;
    };
    const used = new Set<string>();
    const values = new Map<string, Tensor>();
    const missing: string[] = [];
    const mismatched: string[] = [];
    for (const k of expected) {
      const ck = toCheckpoint(k);
      const v = loaded.get(ck);
      if (!v) { missing.push(k); continue; }
      used.add(ck);
      // A tied alias takes its value from the parameter it aliases, never from the checkpoint.
      if (cls.tiedWeightsKeys.includes(k)) continue;
      const t = own[k]!;
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        mismatched.push(`${ck}: checkpoint ${fmtShape(v.shape)} vs model ${k} ${fmtShape(t.shape)}`);
        continue;
      }
      values.set(k, v);
    }
    if (mismatched.length) {
      throw new BertCheckpointError(`${source}: size mismatch loading ${cls.name} (set the config to match the checkpoint): ${mismatched.join('; ')}`);
    }
    const buffers = new Set(this.namedBuffers().map(([k]) => toCheckpoint(k)));
    const unexpectedKeys = [...loaded.keys()]
      .filter((k) => !used.has(k) && !buffers.has(k))
      .filter((k) => !cls.keysToIgnoreOnLoadUnexpected.some((re) => re.test(k)));
    const missingKeys = missing.filter((k) => !cls.keysToIgnoreOnLoadMissing.some((re) => re.test(k)));
    const unloaded = new Set(this.parameters());
    for (const [k, v] of values) {
      const t = own[k]!;
      t.buffer = (await v.to(t.dtype).data()).slice();
      unloaded.delete(t as Parameter);
    }
    return { info: { missingKeys, unexpectedKeys }, unloaded };
  }

  /**
   * Loads config.json and weights from an HF model folder into a new model of this class.
   *
   *   const model = await BertForTokenClassification.fromPretrained('path/to/folder');
   */
  static async fromPretrained<T extends BertPreTrainedModel>(this: BertModelClass<T>, source: string | BertFolderFiles, options: FromPretrainedOptions = {}): Promise<T> {
    options = checkOptions(`${this.name}.fromPretrained`, options, { addPoolingLayer: 1, warn: 1, onLoadingInfo: 1, generator: 1, hub: 1 });
    // A name (Node: a folder or a Hub id; browser: a URL) goes to the platform; files are parsed here.
    const { where: dir, ...folder } = typeof source === 'string'
      ? await platformIo(`${this.name}.fromPretrained`).read(source, options.hub)
      : { ...bertFolderFromFiles(source), where: '<files>' };
    const config = new BertConfig(folder.config, `${dir}/config.json`);
    const hasPooler = [...folder.stateDict.keys()].some((k) => /(^|\.)pooler\./.test(k));
    // Like HF's _fast_init: build without initialising, load, then initialise only what the checkpoint lacked.
    const model = new this(config, { addPoolingLayer: options.addPoolingLayer ?? hasPooler, initialize: false });
    const { info, unloaded } = await model.loadWithUnloaded(folder.stateDict, folder.weightsFile);
    if (unloaded.size) model.initWeights(options.generator ?? defaultGenerator, unloaded);
    const warn = options.warn ?? ((m: string) => console.warn(m));
    if (info.unexpectedKeys.length) {
      warn(`Some weights of the model checkpoint at ${dir} were not used when initializing ${this.name}: [${info.unexpectedKeys.join(', ')}]`);
    }
    if (info.missingKeys.length) {
      warn(`Some weights of ${this.name} were not initialized from the model checkpoint at ${dir} and are newly initialized: [${info.missingKeys.join(', ')}]\n` +
        'You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.');
    }
    options.onLoadingInfo?.(info);
    return model.eval();
  }

  /**
   * Writes config.json (HF keys, `architectures: [<class>]`, `model_type: "bert"`) and
   * model.safetensors (HF key names, `format: pt` metadata that transformers checks, tied aliases
   * left out as HF does), each atomically. transformers' from_pretrained reads the folder as is.
   */
  async savePretrained(dir: string): Promise<void> {
    await platformIo(`${this.statics.name}.savePretrained`).write(dir, await this.toPretrainedFiles());
  }

  /** The files savePretrained writes, as bytes: model.safetensors then config.json (a browser downloads them, e.g. zipped). */
  async toPretrainedFiles(): Promise<Map<string, Uint8Array>> {
    const cls = this.statics;
    const tensors = new Map<string, Tensor>();
    for (const [k, t] of Object.entries(this.stateDict())) if (!cls.tiedWeightsKeys.includes(k)) tensors.set(k, t);
    return new Map([
      ['model.safetensors', await serializeSafetensors(tensors, { format: 'pt' })],
      ['config.json', new TextEncoder().encode(`${JSON.stringify(this.config.toJSON([cls.name]), null, 2)}\n`)],
    ]);
  }
}
