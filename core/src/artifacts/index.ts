// Artifacts (docs/ARTIFACTS.md): ordered steps of federated analytics and training, run over
// the job protocol. Everything here is pure: no libp2p, no tfjs, no file I/O.
// The step and plan schemas live in the spec layer (the protocol carries them); re-exported
// so an artifact's author finds its whole vocabulary here.
export * from '../spec/artifactSteps.js';
export * from '../spec/artifactPlan.js';
export * from './plan.js';
export * from './schema.js';
export * from './compile.js';
export * from './table.js';
export * from './partial.js';
export * from './privacy.js';
export * from './resource.js';
export * from './execute.js';
export * from './result.js';
