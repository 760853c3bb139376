/**
 * The Train tab's choices, with no imports (tests compare them with the library's own presets):
 * models at `modelPreset(kind, 'small')` of src/translate/translator.ts (which reads files, so the
 * page cannot import it), and the built-in tasks at sizes a browser tab trains in minutes.
 */
export type ModelKind = 'seq2seq' | 'attention' | 'transformer';
export type TaskName = 'numbers' | 'dates' | 'reverse';

/** modelPreset(kind, 'small'): the demo's models (tests/web/train-tab.test.ts checks they match). */
export const MODEL_PRESETS: Record<ModelKind, Record<string, unknown>> = {
  seq2seq: { cell: 'gru', embDim: 64, hidden: 256, numLayers: 1, dropout: 0.1 },
  attention: { embDim: 64, encoderHidden: 128, decoderHidden: 256, dropout: 0.1 },
  transformer: { dModel: 128, nHead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 512, dropout: 0.1 },
};

export interface TaskPreset {
  /** builtinTask options (the folder's zhuyi-translate.json keeps them, so `translate eval` rebuilds the same held-out split). */
  taskOptions: Record<string, number | boolean>;
  epochs: number;
  /** A fixed input whose attention the tab draws after each validation. */
  example: string;
}

/**
 * numbers: the demo's data (zhuyi demo: 12,000 pairs, 2-9 digits with commas) at 2-6 digits and
 * 4,000 pairs, in batches of 1,024 tokens: `zhuyi translate train --model attention --task numbers
 * --task-size 4000 --max-digits 6 --commas --batch-tokens 1024 --lr 2e-3` reached 98.5% validation
 * exact match after 4 epochs in Node, a few minutes of one WASM thread in a tab.
 */
export const TASK_PRESETS: Record<TaskName, TaskPreset> = {
  numbers: { taskOptions: { train: 4000, valid: 200, test: 500, minDigits: 2, maxDigits: 6, commas: true }, epochs: 5, example: '40,517' },
  dates: { taskOptions: { train: 6000, valid: 200, test: 500 }, epochs: 6, example: 'Wed 5 Aug 1992' },
  reverse: { taskOptions: { train: 6000, valid: 200, test: 500 }, epochs: 6, example: 'c f f g f j' },
};

/** The demo's optimisation (zhuyi demo / trainTranslator): AdamW lr 2e-3, betas (0.9, 0.98), weight decay 0.01, 4% linear warmup then linear decay, clip 1, label smoothing 0.1; batches of 1,024 tokens (the demo: 2,048). */
export const TRAINING = { lr: 2e-3, betas: [0.9, 0.98] as [number, number], weightDecay: 0.01, warmupShare: 0.04, clipNorm: 1, labelSmoothing: 0.1, batchTokens: 1024 };
