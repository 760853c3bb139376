/**
 * `zhuyi viz DIR`: what a folder holds decides what the page shows.
 *
 *   zhuyi-translate.json          a translation model (src/translate/translator.ts): the alignment of --text
 *   config.json (or hf/config.json, a BERT run folder)   a BERT model: head view and model view of --text [--pair]
 *   log.jsonl                     a training run: the curves, always, beside either of the above
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BertModel } from '../models/bert/modeling.js';
// Installs BertModel.fromPretrained's folder reader (Node).
import '../models/bert/pretrained.js';
import { BertTokenizer } from '../text/bert/tokenizer.js';
import { ArgumentError } from '../tensor/errors.js';
import { LOG } from '../train/trainer.js';
import { CONFIG_FILE, loadTranslator } from '../translate/translator.js';
import { bertAttentionMaps, translationAttentionMaps } from './attention.js';
import { readTrainingLog } from './curves.js';
import { type VizPage, vizHtml } from './page.js';
import { checkOptions } from '../tensor/options.js';

export interface VizFolderOptions {
  /** The sentence to translate, or BERT's sentence A. Needed for model folders. */
  text?: string;
  /** BERT's sentence B (token_type_ids 1). */
  pair?: string;
  /** The layer shown first, 0-based (default: translation the last, BERT the first). */
  layer?: number;
}

export interface VizFolderResult {
  html: string;
  /** What was drawn: 'translation', 'bert' or 'curves' (a run folder without a model). */
  kind: 'translation' | 'bert' | 'curves';
  /** Things the caller may want to tell the user (ignored options). */
  notes: string[];
}

const KIND_NAME = { transformer: 'Transformer', attention: 'RNN with attention (Bahdanau)', seq2seq: 'RNN Seq2Seq (no attention)' } as const;

/** The folder holding a BERT config.json: DIR itself, or DIR/hf of a `zhuyi bert` run folder. */
function bertFolder(dir: string): string | null {
  if (existsSync(join(dir, 'config.json'))) return dir;
  if (existsSync(join(dir, 'hf', 'config.json'))) return join(dir, 'hf');
  return null;
}

/** The page for a model or run folder; see the file comment. */
export async function vizFolder(dir: string, o: VizFolderOptions = {}): Promise<VizFolderResult> {
  o = checkOptions('vizFolder', o, { text: 1, pair: 1, layer: 1 });
  if (!existsSync(dir)) throw new ArgumentError(`viz: ${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new ArgumentError(`viz: ${dir} is not a directory (give a model or run folder)`);
  const logPath = join(dir, LOG);
  const log = existsSync(logPath) ? readTrainingLog(logPath) : undefined;
  const title = `zhuyi viz: ${basename(resolve(dir))}`;
  const notes: string[] = [];
  const needText = (what: string): string => {
    if (o.text === undefined || o.text.trim() === '') throw new ArgumentError(`viz: ${dir} is ${what}: give the sentence to look at with --text "..."`);
    return o.text;
  };

  if (existsSync(join(dir, CONFIG_FILE))) {
    const text = needText('a translation model');
    if (o.pair !== undefined) throw new ArgumentError(`viz: --pair is for BERT models; ${dir} is a translation model`);
    const translator = await loadTranslator(dir);
    const translation = await translationAttentionMaps(translator, text);
    const shape = translation.kind === 'transformer' ? ` (${translation.maps.length} decoder layers x ${translation.maps[0]!.length} heads)` : '';
    const page: VizPage = { title, subtitle: `${KIND_NAME[translation.kind]} translation model${shape}, from ${dir}`, translation, ...(log && { log }) };
    if (o.layer !== undefined) {
      if (translation.kind !== 'transformer') throw new ArgumentError(`viz: --layer is for Transformers; ${dir} holds an ${KIND_NAME[translation.kind]}`);
      page.layer = o.layer;
    }
    return { html: vizHtml(page), kind: 'translation', notes };
  }

  const hf = bertFolder(dir);
  if (hf) {
    const text = needText('a BERT model');
    const tokenizerDir = [hf, join(dir, 'tokenizer')].find((d) => existsSync(join(d, 'vocab.txt')) || existsSync(join(d, 'tokenizer.json')));
    if (!tokenizerDir) throw new ArgumentError(`viz: ${hf} has no tokenizer (vocab.txt or tokenizer.json)`);
    const tokenizer = BertTokenizer.fromPretrained(tokenizerDir);
    // Any BERT checkpoint: head weights (MLM, NSP, classifier) are not needed for the attention.
    const model = await BertModel.fromPretrained(hf, { warn: () => {} });
    const bert = await bertAttentionMaps(model, tokenizer, text, o.pair);
    const c = model.config;
    return {
      html: vizHtml({
        title, subtitle: `BERT (${c.numHiddenLayers} layers x ${c.numAttentionHeads} heads, hidden ${c.hiddenSize}), from ${hf}`,
        bert, ...(o.layer !== undefined && { layer: o.layer }), ...(log && { log }),
      }),
      kind: 'bert', notes,
    };
  }

  if (log) {
    for (const flag of ['text', 'pair', 'layer'] as const) if (o[flag] !== undefined) notes.push(`--${flag} ignored: ${dir} holds no model, only ${LOG}`);
    return { html: vizHtml({ title, subtitle: `Training run ${dir}`, log }), kind: 'curves', notes };
  }
  throw new ArgumentError(`viz: ${dir} is neither a model folder (${CONFIG_FILE}, or a BERT config.json) nor a run folder (${LOG})`);
}
