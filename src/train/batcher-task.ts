/** A TrainTask whose data is a BucketBatcher: the epoch, resume and position plumbing every task shares. */
import type { Batch, BucketBatcher, DataPosition } from '../data/batching.js';
import type { TrainTask } from './trainer.js';

export type BatchTaskParts = Omit<TrainTask<Batch>, 'batchesPerEpoch' | 'epochBatches' | 'startNextEpoch' | 'dataPosition' | 'setDataPosition'>;

/** The trainer's view of `batcher` (epochs, exact resume position) plus the task's model, loss and validation. */
export function batcherTask(batcher: BucketBatcher, parts: BatchTaskParts): TrainTask<Batch> {
  return {
    ...parts,
    batchesPerEpoch: batcher.batchesPerEpoch,
    epochBatches: () => batcher.epochRest(),
    startNextEpoch: () => batcher.startNextEpoch(),
    dataPosition: () => batcher.position,
    setDataPosition: (p) => batcher.setPosition(p as DataPosition),
  };
}
