/**
 * A Hugging Face checkpoint folder as `save_pretrained` writes it: `config.json` plus the weights,
 * looked for in the order transformers prefers: `model.safetensors`, its sharded index
 * `model.safetensors.index.json`, then `pytorch_model.bin` (zip or legacy torch.save) and its index.
 * Keys are returned exactly as stored; prefixes (`bert.`) and ignored keys are the model's business.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { CheckpointError } from './checkpoint-error.js';
import { loadSafetensors } from './safetensors.js';
import { readTorchBin, type TorchBinFormat } from './torch-bin.js';

export type HfWeightsFormat = 'safetensors' | TorchBinFormat;

export interface HfCheckpoint {
  /** config.json as parsed (keys as HF writes them: `hidden_size`, `num_attention_heads`, ...). */
  config: Record<string, unknown>;
  stateDict: Map<string, Tensor>;
  format: HfWeightsFormat;
  /** The weight files read, in order (one, or every shard of an index). */
  files: string[];
}

const CANDIDATES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

export function readHfCheckpointFolder(dir: string): HfCheckpoint {
  const config = readJsonObject(join(dir, 'config.json'));
  const found = CANDIDATES.find((name) => existsSync(join(dir, name)));
  if (!found) throw new CheckpointError(`${dir}: no weights found (looked for ${CANDIDATES.join(', ')})`);
  const path = join(dir, found);
  if (!found.endsWith('.index.json')) {
    const { tensors, format } = readWeights(path);
    return { config, stateDict: tensors, format, files: [path] };
  }
  return { config, ...readSharded(dir, path), files: shardFiles(dir, path) };
}

function readWeights(path: string): { tensors: Map<string, Tensor>; format: HfWeightsFormat } {
  if (path.endsWith('.safetensors')) return { tensors: loadSafetensors(path).tensors, format: 'safetensors' };
  return readTorchBin(path);
}

function readJsonObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CheckpointError(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** The index's `weight_map` {tensor name: shard file name}, validated. */
function weightMap(indexPath: string): Map<string, string> {
  const index = readJsonObject(indexPath);
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(`${indexPath}: missing "weight_map" object`);
  const out = new Map<string, string>();
  for (const [key, file] of Object.entries(map as Record<string, unknown>)) {
    // Shard names are plain file names beside the index; anything with a path could escape the folder.
    if (typeof file !== 'string' || file === '' || /[/\\]/.test(file) || file === '..') throw new CheckpointError(`${indexPath}: weight_map['${key}'] must be a file name in the same folder, got ${JSON.stringify(file)}`);
    out.set(key, file);
  }
  return out;
}

function shardFiles(dir: string, indexPath: string): string[] {
  return [...new Set(weightMap(indexPath).values())].map((f) => join(dir, f));
}

function readSharded(dir: string, indexPath: string): { stateDict: Map<string, Tensor>; format: HfWeightsFormat } {
  const map = weightMap(indexPath);
  const stateDict = new Map<string, Tensor>();
  let format: HfWeightsFormat | null = null;
  for (const file of new Set(map.values())) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new CheckpointError(`${indexPath}: shard ${file} is missing`);
    const shard = readWeights(path);
    format ??= shard.format;
    for (const [key, t] of shard.tensors) {
      if (map.get(key) !== file) throw new CheckpointError(`${path}: tensor '${key}' is not listed for this shard in ${indexPath}`);
      stateDict.set(key, t);
    }
  }
  for (const [key, file] of map) {
    if (!stateDict.has(key)) throw new CheckpointError(`${join(dir, file)}: tensor '${key}' listed in ${indexPath} is missing`);
  }
  return { stateDict, format: format ?? 'safetensors' };
}
