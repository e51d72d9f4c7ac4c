// The ML engine: models from serialisable specs, local training and evaluation on the
// best available tfjs backend, parameter vectors and their encoding, deterministic
// aggregators, datasets and partitioners, and the in-process FedAvg reference.
export * from '../spec/ml.js';
export * from './types.js';
export { architecture, kerasGraph, layerParams, paramLayout, paramCount, shapeSize, type ParamShape, type Activation, type LayerDef, type Architecture } from './layout.js';
export { initBackend, type BackendInfo, type BackendPreference } from './backend.js';
export { Model, createModel, getParams, setParams, initialParams } from './models.js';
export { exportLayersModel, type LayersModelFiles } from './keras/export.js';
export { encodeParams, decodeParams, paramsHash, type DecodedParams } from './params.js';
export { trainLocal, evaluate, shuffledIndices, chooseEngine, type TrainOptions, type EvaluateOptions, type TrainEngine } from './train.js';
export { benchTrain, syntheticDigits, type TrainBenchOptions, type TrainBenchResult } from './trainBench.js';
export * from './aggregate/index.js';
export * from './data/index.js';
export { encodeDataChunk, decodeDataChunk, splitForMembers } from './dataChunk.js';
export * from './synthetic.js';
export { clipToNorm, addGaussianNoise, type NormalSource } from './clipAndNoise.js';
export { runFedAvgBaseline, privateAverage, modelSpecFor, type BaselineOptions, type BaselineRound, type BaselineResult, type BaselineProgress, type BaselineHooks } from './fedavgBaseline.js';
