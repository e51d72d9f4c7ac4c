// The browser-safe part of the compute layer, for the desktop app's GPU window: the training
// task table it serves and the messages it exchanges with the node over a MessagePort. No
// Node built-ins are reachable from here.
export { trainTaskHandlers, type TrainTaskKind, type TrainTaskInit } from './trainTasks.js';
export type { TaskHandler } from './serveTasks.js';
export * from './portMessages.js';
