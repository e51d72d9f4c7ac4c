export { QueuePool, type QueuePoolInit } from './queuePool.js';
export { runSimWorker, type SimWorkerInit, type SimWorkerSummary } from './simWorker.js';
export { computeVersion, parseQueueUrl, PREFETCH, QueueTaskError, QueueUnavailableError, QueueUrlError, WorkerRefusedError, QUEUE_NAME } from './queueProtocol.js';
export type { QueueReport, QueueStatus, WorkerPlacement } from './queueReport.js';
