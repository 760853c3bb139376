/**
 * Training checkpoints: ONE safetensors file holding the model's state dict (`model.` keys), the
 * optimizer's tensors (`optimizer.` keys) and, in `__metadata__`, the JSON trainer state (step,
 * epoch, data position, RNG states, schedule, best metric). One file means one atomic rename: a
 * crash at any point leaves either the previous checkpoint or the new one, never a mix.
 */
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ZhuyiError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { FileWriteError, loadSafetensors, saveSafetensors } from '../io/safetensors.js';

export class CheckpointError extends ZhuyiError {}

export interface Checkpoint<S> {
  model: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
  state: S;
}

const STATE_KEY = 'zhuyi.trainer';

export async function saveCheckpoint<S>(path: string, model: Record<string, Tensor>, optimizer: Record<string, Tensor>, state: S): Promise<void> {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of Object.entries(model)) tensors.set(`model.${k}`, t);
  for (const [k, t] of Object.entries(optimizer)) tensors.set(`optimizer.${k}`, t);
  try {
    await saveSafetensors(path, tensors, { format: 'zhuyi-checkpoint', [STATE_KEY]: JSON.stringify(state) });
  } catch (e) {
    // The write is atomic (temp file, fsync, rename): a failure leaves the previous checkpoint loadable.
    if (e instanceof FileWriteError) throw new CheckpointError(`saveCheckpoint: ${e.message.replace('previous file', 'previous checkpoint')}`);
    throw e;
  }
}

export function loadCheckpoint<S>(path: string): Checkpoint<S> {
  if (!existsSync(path)) throw new CheckpointError(`${path}: no checkpoint to resume from`);
  const { tensors, metadata } = loadSafetensors(path);
  const raw = metadata[STATE_KEY];
  if (raw === undefined) throw new CheckpointError(`${path}: not a zhuyi training checkpoint (no '${STATE_KEY}' metadata)`);
  let state: S;
  try {
    state = JSON.parse(raw) as S;
  } catch (e) {
    throw new CheckpointError(`${path}: trainer state is not valid JSON (${(e as Error).message})`);
  }
  const model = new Map<string, Tensor>();
  const optimizer = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), t);
    else if (k.startsWith('optimizer.')) optimizer.set(k.slice(10), t);
  }
  return { model, optimizer, state };
}

/**
 * Deletes the temp files of checkpoint writes that a killed run left in `dir` (`.last.safetensors.<pid>.<n>.tmp`,
 * written by writeFileAtomic and never renamed): each is as large as a checkpoint, and a run killed
 * during its saves would otherwise fill the disk. Call it only while holding the folder's run lock
 * (no other process writes checkpoints there); returns the names removed.
 */
export function removeCheckpointTemps(dir: string, names: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^\.(.+)\.(\d+)\.\d+\.tmp$/.exec(f);
    if (!m || !names.includes(m[1]!) || Number(m[2]) === process.pid) continue;
    try {
      unlinkSync(join(dir, f));
      removed.push(f);
    } catch { /* already gone */ }
  }
  return removed;
}
