// The browser-safe part of the compute layer, for the desktop app's GPU window: the training
// task table it serves and the messages it exchanges with the node over a MessagePort. No
// Node built-ins are reachable from here.
export { trainTaskHandlers, type TrainTaskKind, type TrainTaskInit } from './trainTasks.js';
export type { TaskHandler } from './serveTasks.js';
export * from './portMessages.js';
// The two ML entry points the GPU window calls itself (its backend self-test). Imported from
// their files, not the ml index, whose CSV loader (csv-parse) needs Node's Buffer at load.
export { createModel } from '../ml/models.js';
export { trainLocal } from '../ml/train.js';
