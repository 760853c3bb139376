/**
 * The optimisation defaults of a BERT fine-tuning run, chosen by where the model comes from.
 *
 * - From a pretrained folder: Hugging Face Trainer's (TrainingArguments' defaults): lr 5e-5, 3
 *   epochs, AdamW betas (0.9, 0.999), eps 1e-8, weight decay 0, linear decay with no warmup, clip 1.
 *   A pretrained BERT fine-tuned at the from-scratch lr (1e-3) tends to diverge or forget.
 * - From scratch (init random): the presets tuned on this project's runs (lr 1e-3, 10 epochs,
 *   betas (0.9, 0.98), weight decay 0.01, 4% warmup), as before.
 *
 * Both never decay biases or LayerNorm parameters (HF's and Google BERT's rule). Options the caller
 * sets win over the recipe.
 */
import { noDecayOnBiasAndNorm, pickTrainOptions, type TrainOptions } from '../train/trainer.js';

export type FinetuneInit = 'pretrained' | 'random';

type Recipe = Omit<TrainOptions, 'outDir'>;

/** Hugging Face Trainer's defaults for fine-tuning a pretrained model. */
export const HF_TRAINER_RECIPE: Readonly<Recipe> = Object.freeze({
  lr: 5e-5, epochs: 3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, warmup: 0, schedule: 'linear', clipNorm: 1,
});

/** zhuyi's from-scratch preset (the values the README's random-init baselines were measured with). */
export const FROM_SCRATCH_RECIPE: Readonly<Recipe> = Object.freeze({
  lr: 1e-3, epochs: 10, betas: [0.9, 0.98] as [number, number], eps: 1e-8, weightDecay: 0.01, schedule: 'linear', clipNorm: 1,
});

/** The recipe of an init. */
export function finetuneRecipe(init: FinetuneInit): Readonly<Recipe> {
  return init === 'pretrained' ? HF_TRAINER_RECIPE : FROM_SCRATCH_RECIPE;
}

/** The trainer's options of a fine-tuning run: the recipe of its init, overridden by every option the caller set. */
export function finetuneTrainOptions(o: Partial<TrainOptions>, init: FinetuneInit): Recipe {
  const recipe: Recipe = { ...finetuneRecipe(init), noDecay: noDecayOnBiasAndNorm };
  const set = pickTrainOptions(o);
  // A warmup ratio replaces the recipe's warmup steps (the trainer refuses both).
  if (set.warmupRatio !== undefined) delete recipe.warmup;
  return { ...recipe, ...set };
}
