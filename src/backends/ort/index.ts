/** The ort backend for Node: the platform-neutral backend plus its Node loader. */
export { configureOrt, endOrtProfiling, ortConfig, ortStats, resetOrtStats, OrtBackend, type GraphOptimizationLevel, type OrtOptions, type OrtStats, type OrtRuntime } from './backend.js';
export { createOrtBackend, nodeDefaults } from './node.js';
export { OPSET, graphKey, lowerGraph, type LoweredModel } from './builder.js';
