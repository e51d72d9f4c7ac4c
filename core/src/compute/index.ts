// The compute layer: the ComputeBackend interface the runtime and the simulator train and
// aggregate through, its implementations (tfjs on worker threads, a GPU window over a port,
// synthetic, artifacts), the idle gate, and the worker-thread pools. The thread side of the
// pools (task tables, serveTasks) is in ./thread.ts; the browser-safe side in ./port.ts.
export type {
  ComputeBackend,
  ComputeTaskOptions,
  TrainTaskOptions,
  TrainOutcome,
  TrainProgress,
  DataOwner,
  PreparedChunk,
  AggregateInput,
  LoadDataTask,
  InitParamsTask,
  TrainTask,
  EvaluateTask,
  AggregateTask,
  PrepareChunksTask,
} from './computeBackend.js';
export type { DataSource, MlTasks } from './mlTaskTypes.js';
export { mlCompute } from './mlCompute.js';
export { syntheticCompute, type SyntheticComputeInit } from './syntheticCompute.js';
export { artifactCompute, readNamed, type ArtifactComputeInit } from './artifactCompute.js';
export { portCompute, PortTaskError, type PortCompute, type PortComputeInit, type TaskPort } from './portCompute.js';
export * from './portMessages.js';
export { lyingCompute } from './lyingCompute.js';
export { IdleGate, IdleGateStoppedError, type IdleGateState, type IdleGateInit } from './idleGate.js';
export { ComputePool } from './computePool.js';
export type { ComputeTarget } from './computeTarget.js';
export { WorkerPool, WorkerTaskError, threadScript, type WorkerPoolInit, type RunOptions, type TaskRequest, type TaskResponse } from './workerPool.js';
