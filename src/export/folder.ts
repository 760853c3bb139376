/** Files of an export folder: copying the tokenizer files in, listing what was written. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { MANIFEST_FILE } from './manifest.js';

/** Copies `names` (those present) from `from` to `out/dir`; returns the copied names. */
export function copyFiles(from: string, out: string, dir: string, names: readonly string[]): string[] {
  const copied: string[] = [];
  for (const name of names) {
    const src = join(from, name);
    if (!existsSync(src) || !statSync(src).isFile()) continue;
    const dst = join(out, dir, name);
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(src, dst);
    copied.push(name);
  }
  return copied;
}

/** Every file under `out` (relative, '/'-separated), manifest.json aside. */
export function listFiles(out: string): string[] {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [relative(out, p).split('\\').join('/')];
  });
  return walk(out).filter((f) => f !== MANIFEST_FILE).sort();
}

/**
 * The pipeline task of each BERT architecture in @huggingface/transformers (transformers.js): the
 * exports whose folder `pipeline(task, folder)` loads as it is (multiple choice: AutoModel). Other
 * architectures (BertForPreTraining, BertForNextSentencePrediction) get zhuyi's layout only.
 */
export const TRANSFORMERS_JS_TASKS: Readonly<Record<string, string>> = {
  BertModel: 'feature-extraction',
  BertForMaskedLM: 'fill-mask',
  BertForSequenceClassification: 'text-classification',
  BertForTokenClassification: 'token-classification',
  BertForQuestionAnswering: 'question-answering',
  // No pipeline in transformers.js: AutoModel.from_pretrained(folder) loads it and returns the logits.
  BertForMultipleChoice: 'multiple-choice',
};

/** Where transformers.js (and Optimum) look for the graph: onnx/model.onnx (dtype fp32), onnx/model_quantized.onnx (q8). */
export const TRANSFORMERS_JS_MODEL = 'onnx/model.onnx';
export const TRANSFORMERS_JS_QUANTIZED = 'onnx/model_quantized.onnx';

/**
 * Writes the Hugging Face / transformers.js layout at the root of `out`: config.json, the tokenizer
 * files (tokenizer.json + tokenizer_config.json included: copied from `from` when it has them, else
 * the given texts, which zhuyi's BertTokenizer writes) and onnx/model.onnx. Returns the files written.
 */
export function writeHubLayout(
  out: string, o: { from: string; config: Record<string, unknown>; model: Uint8Array; tokenizerFiles: () => Record<string, string> },
): string[] {
  mkdirSync(join(out, 'onnx'), { recursive: true });
  writeFileSync(join(out, TRANSFORMERS_JS_MODEL), o.model);
  writeFileSync(join(out, 'config.json'), `${JSON.stringify(o.config, null, 2)}\n`);
  const copied = copyFiles(o.from, out, '', ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json']);
  // A folder with vocab.txt only (an older BERT) gets the tokenizer.json transformers.js needs, built from it.
  const written: string[] = [];
  if (!copied.includes('tokenizer.json') || !copied.includes('tokenizer_config.json')) {
    for (const [name, text] of Object.entries(o.tokenizerFiles())) {
      if (copied.includes(name)) continue;
      writeFileSync(join(out, name), text);
      written.push(name);
    }
  }
  return [TRANSFORMERS_JS_MODEL, 'config.json', ...copied, ...written];
}
