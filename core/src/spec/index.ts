// The spec layer: serialisable, pure (zod only) descriptions every other layer shares. A job
// manifest carries them, so the protocol validates them; ml, artifacts, compute and the app
// build from them. Nothing here does I/O, ML or networking.
export * from './ml.js';
export * from './artifactSteps.js';
export * from './artifactPlan.js';
export * from './blobRef.js';
export * from './topics.js';
export * from './verdict.js';
export * from './keras/topology.js';
export { ACTIVATIONS, LAYER_CLASSES, type KerasWeight, type KerasLayerClass, type WeightInit } from './keras/layers.js';
