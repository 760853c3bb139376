/**
 * BERT folders in Node: BertPreTrainedModel (pretrained-core.ts, no file access) plus the reader and
 * writer its fromPretrained / savePretrained use here: a folder on disk or a Hub id (downloaded into
 * Hugging Face's cache), written atomically. Importing this module installs them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readHfCheckpointFolder } from '../../io/hf.js';
import { ensureModelFolder, localModelFolder } from '../../io/hub.js';
import { writeFileAtomic } from '../../io/safetensors.js';
import { type BertConfigJSON } from './config.js';
import { BertCheckpointError, type HfFolder, setBertFolderIo } from './pretrained-core.js';

export * from './pretrained-core.js';

/**
 * Reads `config.json` and the weights of an HF folder through src/io/hf.ts: model.safetensors
 * (or its sharded index), else pytorch_model.bin in either torch.save format (zip since 1.6, legacy
 * pickle before; a restricted unpickler that only rebuilds tensors).
 */
export function readBertFolder(dirOrId: string): HfFolder {
  // A Hub id reads its cached snapshot (BertPreTrainedModel.fromPretrained downloads it first).
  const dir = localModelFolder(dirOrId);
  if (!existsSync(join(dir, 'config.json'))) throw new BertCheckpointError(`${dir}: no config.json (expected a Hugging Face model folder)`);
  const { config, stateDict, files } = readHfCheckpointFolder(dir);
  return { config: config as BertConfigJSON, stateDict, weightsFile: files.join(', ') };
}

setBertFolderIo({
  async read(dirOrId, hub) {
    // 'org/name': Hugging Face's cache, downloaded into it when missing (src/io/hub.ts).
    const dir = await ensureModelFolder(dirOrId, hub);
    return { ...readBertFolder(dir), where: dir };
  },
  async write(dir, files) {
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of files) writeFileAtomic(join(dir, name), bytes);
  },
});
