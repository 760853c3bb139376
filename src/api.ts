/**
 * The public API both entries share (index.ts for Node, browser.ts for browsers): tensors, autograd,
 * ops, nn, optim, the translation models, BERT's module tree, tokenizers, decoding and metrics. Nothing
 * here reaches a Node module; each entry adds its platform's backend, file access and extras.
 */
export { Tensor, tensor, type NestedArray, type TensorOptions } from './tensor/tensor.js';
export { type DType, type TypedArray, DTYPES } from './tensor/dtype.js';
export { ZhuyiError, ShapeError, DTypeError, ArgumentError } from './tensor/errors.js';
export { realize, setBackend, getBackend, registerBackend, buildGraph, type Backend, type Graph, type GraphValue } from './tensor/realize.js';
export { noGrad, isGradEnabled, setGradEnabled } from './tensor/grad-mode.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/random.js';
export * from './tensor/creation.js';
export { grad, type GradOptions } from './autograd/grad.js';
export {
  add, sub, mul, div, pow, neg, exp, log, sqrt, rsqrt, reciprocal, tanh, sigmoid, relu, gelu, erf, abs, sign, sin, cos,
  maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, where, maskedFill, clamp,
  sum, mean, max, min, amax, amin, argmax, argmin, topk, softmax, logSoftmax,
  reshape, flatten, squeeze, unsqueeze, permute, transpose, expand, broadcastTo, slice, narrow, split, chunk, cat, stack, pad,
  gather, indexSelect, scatterAdd, matmul, tril, triu, oneHot, layerNorm, dropout, cast, clone, detach,
  type ValuesIndices,
} from './ops/functional.js';
export { listOps, getOp, type OpDef, type Meta } from './ops/registry.js';
export { Module, Parameter, Sequential, ModuleList, ModuleDict, StateDictError, type StateDict, type LoadResult } from './nn/module.js';
export { Linear, Embedding, LayerNorm, Dropout, ReLU, GELU, Tanh, Sigmoid, Identity, embedding } from './nn/layers.js';
export * as init from './nn/init.js';
export { GRUCell, LSTMCell, GRU, LSTM, type CellOptions, type RNNOptions, type RNNForwardOptions } from './nn/rnn.js';
export {
  AdditiveAttention, LuongAttention, MultiheadAttention, scaledDotProductAttention, scaledDotProductAttentionWithWeights,
  applyMask, causalMask, headWeights,
  type LuongScore, type AttentionMasks, type AttentionResult, type SDPAOptions, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions,
} from './nn/attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer, type DecoderLayerCache,
  type Activation, type TransformerLayerOptions, type TransformerOptions, type SelfAttentionMasks, type DecoderMasks, type TransformerMasks,
} from './nn/transformer.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEmbedding, type PositionalOptions } from './nn/positional.js';
export { CheckpointError, UnsafePickleError } from './io/checkpoint-error.js';
export {
  builtinTask, datesTask, numbersTask, numbersZhTask, reverseTask, numberToWords, numberToChinese, isoDate, BUILTIN_TASKS,
  type BuiltinTaskName, type TaskExample, type TaskSplits, type TaskSizes, type TaskOptions, type DatesOptions, type NumbersOptions, type ReverseOptions,
} from './tasks/builtin/index.js';
export {
  corpusBleu, sentenceBleu, computeBleu, corpusChrf, sentenceChrf, exactMatch, exactMatchByLength, tokenize13a, tokenizeZh, SACREBLEU_VERSION,
  type BleuOptions, type BleuScore, type SmoothMethod, type ChrfOptions, type ChrfScore, type ExactMatchOptions, type LengthRow, type BleuTokenizerName,
} from './metrics/index.js';
export {
  crossEntropy, nllLoss, mseLoss, l1Loss, binaryCrossEntropyWithLogits, CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss,
  type Reduction, type NllLossOptions, type CrossEntropyOptions, type ReductionOptions, type BceWithLogitsOptions,
} from './nn/losses.js';
export * as optim from './optim/index.js';
export { clipGradNorm, clipGradValue } from './optim/index.js';
export * from './models/translate/index.js';
