/**
 * safetensors files in Node: the format itself (parse, serialize) is in safetensors-core.ts, which
 * the browser entry uses without file access.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ZhuyiError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { SafetensorsError, type SafetensorsFile, parseSafetensors, serializeSafetensors } from './safetensors-core.js';

export { SafetensorsError, type SafetensorsFile, parseSafetensors, serializeSafetensors } from './safetensors-core.js';

export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/** A file that could not be written; `code` is the system's (ENOSPC, EACCES, ...) and `path` the file. */
export class FileWriteError extends ZhuyiError {
  constructor(readonly path: string, readonly code: string | undefined, message: string) {
    super(message);
  }
}

let tmpCounter = 0;

/**
 * Writes a file atomically: a temp file in the same folder, written in full, fsynced, then renamed
 * over `path` (and the folder fsynced). A crash or a failed write (a full disk) at any point leaves
 * the old file intact; a failure removes the temp file and throws FileWriteError naming the path and
 * the cause.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  // Unique per process and call: two writers of one file never share a temp file.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    // writeSync may write less than asked: loop until every byte is in.
    for (let done = 0; done < data.byteLength;) done += writeSync(fd, data, done, data.byteLength - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) try { closeSync(fd); } catch { /* the write error is the one to report */ }
    try { unlinkSync(tmp); } catch { /* never created, or already gone */ }
    const err = e as NodeJS.ErrnoException;
    const kept = existsSync(path) ? 'the previous file is unchanged' : 'no file was written';
    throw new FileWriteError(path, err.code, `could not write ${path} (${err.message}); ${kept}`);
  }
  // fsync the directory so the rename itself survives a power loss.
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch { /* some filesystems refuse fsync on directories */ }
}

export async function saveSafetensors(path: string, tensors: Record<string, Tensor> | Map<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  writeFileAtomic(path, await serializeSafetensors(tensors, metadata));
}
