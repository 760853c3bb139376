export { Optimizer, type GroupOptions, type ParamGroupInput, type ParamGroup, type ParamState, type OptimizerStateDict, type Update, type Scalars } from './optimizer.js';
export { SGD, Adam, AdamW, type SGDOptions, type AdamOptions } from './sgd-adam.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export {
  LambdaLR, noamLambda, linearWarmupDecayLambda, cosineWarmupLambda, constantWarmupLambda, getSchedule,
  type LrLambda, type SchedulerState, type ScheduleName,
} from './lr-scheduler.js';
