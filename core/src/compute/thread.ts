// The thread side of the compute layer's pools: what a worker-thread script imports to answer
// a WorkerPool's tasks.
export { serveTasks, type TaskHandler } from './serveTasks.js';
export { mlTaskHandlers } from './mlTasks.js';
export type { MlTasks, DataSource } from './mlTaskTypes.js';
export { trainTaskHandlers, type TrainTaskKind, type TrainTaskInit } from './trainTasks.js';
