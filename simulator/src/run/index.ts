/**
 * The simulator's runner (issue #5): a shell over the core's protocol machines in virtual
 * time, with synthetic or real (tfjs, worker threads) training, and the library API.
 */
export { runRepetition, createTrainer, classify, type RepetitionResult, type RepetitionHooks } from './repetition.js';
export { SimShell, type ShellOptions, type ShellObserver, type HostCrash } from './simShell.js';
export { VirtualLoop, type LoopEnd } from './virtualLoop.js';
export { BlobStore, type BlobBody } from './blobStore.js';
export { Availability } from './availability.js';
export { createPeers, type Peer, type Slot } from './peers.js';
export { RoundRecorder, type RecorderOptions } from './roundRecorder.js';
export { AggregateRunner, type Trainer, type TrainOutcome, type DataCounts, type VectorCodec, type Maybe } from './trainer.js';
export { SyntheticTrainer, type SyntheticTrainerOptions } from './syntheticTrainer.js';
export { RealTrainer, REFERENCE_SAMPLES_PER_SECOND, referenceSamplesPerSecond } from './realTrainer.js';
export { AGGREGATE_SECONDS_PER_VALUE, FETCH_TIMEOUT_MS } from './computeEffects.js';
export { ArtifactTrainer, ANSWER_SECONDS, type ArtifactTrainerOptions } from './artifactTrainer.js';
