import { ZhuyiError } from '../tensor/errors.js';

/** A checkpoint (PyTorch .bin, zip archive, HF folder) that cannot be read: names the file and what is wrong. */
export class CheckpointError extends ZhuyiError {}

/** A pickle that names a global outside the tensor-rebuilding allow-list. Nothing was executed. */
export class UnsafePickleError extends CheckpointError {
  constructor(message: string, readonly global: string) {
    super(message);
  }
}
