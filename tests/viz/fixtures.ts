/**
 * Tiny model and run folders for the viz tests, built in seconds: translation models trained a
 * few steps on a parallel file whose words need escaping in HTML, and a random BERT saved with
 * savePretrained beside a vocab.txt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BertConfig, BertModel, manualSeed } from '../../src/index.js';
import { type ModelKind, trainTranslator } from '../../src/translate/translator.js';

/** Source words include `<b>&`: every label drawn from them must come out escaped. */
export const SOURCE_WORDS = ['<b>&', 'red', 'green', 'blue', 'cat', 'dog'];
export const TEXT = '<b>& red cat dog';

/** Parallel lines: the target is the source reversed and upper-cased, so the model has something to align. */
function parallelFile(path: string): void {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const words = Array.from({ length: 2 + (i % 4) }, (_, k) => SOURCE_WORDS[(i * 7 + k * 3) % SOURCE_WORDS.length]!);
    lines.push(`${words.join(' ')}\t${[...words].reverse().map((w) => w.toUpperCase()).join(' ')}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** A translation model folder (zhuyi-translate.json, tokenizers, checkpoints, log.jsonl) after a few steps. */
export async function translationFolder(root: string, kind: ModelKind, modelOptions: Record<string, unknown> = {}): Promise<string> {
  const data = join(root, 'data.tsv');
  parallelFile(data);
  const out = join(root, kind);
  await trainTranslator({
    model: kind, size: 'tiny', modelOptions, train: data, valid: data, sourceTokenizer: 'whitespace', targetTokenizer: 'whitespace',
    outDir: out, epochs: 2, batchTokens: 128, lr: 3e-3, seed: 3, validDecode: 8, logEvery: 2, progress: false,
  });
  return out;
}

export const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<', '>', '&', 'b', 'the', 'cat', 'sat', 'on', 'mat', 'it', 'was', 'happy'];

/** A random 2-layer, 3-head BERT folder: config.json, model.safetensors, vocab.txt. */
export async function bertFolder(root: string, seed = 11): Promise<string> {
  const dir = join(root, 'bert');
  mkdirSync(dir, { recursive: true });
  manualSeed(seed);
  const model = new BertModel(new BertConfig({
    vocab_size: BERT_VOCAB.length, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 24, max_position_embeddings: 64,
  }));
  await model.savePretrained(dir);
  writeFileSync(join(dir, 'vocab.txt'), `${BERT_VOCAB.join('\n')}\n`);
  return dir;
}

/** The JSON the page carries for its script. */
export function pageData(html: string): { translation?: { maps: number[][][][]; sourceTokens: string[]; outputTokens: string[]; translation: string; kind: string }; bert?: { maps: number[][][][]; tokens: string[]; tokenTypeIds: number[] } } {
  const m = /<script type="application\/json" id="zhuyi-viz-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no zhuyi-viz-data script in the page');
  return JSON.parse(m[1]!);
}
