import type { QueueTaskKind, TaskAnswer } from './queueProtocol.js';

/** The queue as a run sees it, polled every few seconds. */
export interface QueueStatus {
  /** Tasks queued and not started. */
  readonly waiting: number;
  /** Tasks a worker is running. */
  readonly active: number;
  /** Live workers that take this run's tasks, and their threads. */
  readonly workers: number;
  readonly threads: number;
  /** Live workers of another compute version or job, which refuse them. */
  readonly refused: number;
  readonly connected: boolean;
}

/** Where one worker ran a run's tasks. */
export interface WorkerPlacement {
  readonly worker: string;
  readonly host: string;
  readonly tasks: number;
  readonly byKind: Partial<Record<QueueTaskKind, number>>;
  /** Seconds spent running tasks (sum over tasks): computing, and handling them. */
  readonly runSeconds: number;
  /** Of which seconds its compute threads ran them. */
  readonly computeSeconds: number;
  /** Milliseconds tasks waited in the queue before this worker started them. */
  readonly waitedMsMean: number;
  readonly waitedMsMax: number;
}

/** Where a run's tasks ran and how long they waited (repetitions.jsonl, report.html). */
export interface QueueReport {
  readonly queue: string;
  readonly tasks: number;
  /** Times a task went back to the queue because its worker stopped answering. */
  readonly retriedAfterLoss: number;
  readonly waitedMsMean: number;
  readonly waitedMsMax: number;
  /**
   * Mean milliseconds per task the queue's own work took: the worker's (reading the message,
   * fetching its blobs, storing its result) and the simulation's (fetching the result).
   */
  readonly overheadMsMean: number;
  readonly workers: readonly WorkerPlacement[];
}

/** Sums a run's answers per worker. */
export function placementReport(queue: string, answers: ReadonlyArray<{ kind: QueueTaskKind; answer: TaskAnswer; fetchMs: number }>, retried: number): QueueReport {
  const by = new Map<string, { host: string; tasks: number; byKind: Partial<Record<QueueTaskKind, number>>; ranMs: number; computeMs: number; waited: number; waitedMax: number }>();
  let waited = 0;
  let waitedMax = 0;
  let overhead = 0;
  for (const { kind, answer, fetchMs } of answers) {
    let w = by.get(answer.worker);
    if (!w) by.set(answer.worker, (w = { host: answer.host, tasks: 0, byKind: {}, ranMs: 0, computeMs: 0, waited: 0, waitedMax: 0 }));
    const wait = Math.max(0, answer.waitedMs);
    w.tasks++;
    w.byKind[kind] = (w.byKind[kind] ?? 0) + 1;
    w.ranMs += answer.ranMs;
    w.computeMs += answer.computeMs;
    overhead += answer.handlingMs + fetchMs;
    w.waited += wait;
    w.waitedMax = Math.max(w.waitedMax, wait);
    waited += wait;
    waitedMax = Math.max(waitedMax, wait);
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    queue,
    tasks: answers.length,
    retriedAfterLoss: retried,
    waitedMsMean: answers.length === 0 ? 0 : round1(waited / answers.length),
    waitedMsMax: round1(waitedMax),
    overheadMsMean: answers.length === 0 ? 0 : round1(overhead / answers.length),
    workers: [...by.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([worker, w]) => ({ worker, host: w.host, tasks: w.tasks, byKind: w.byKind, runSeconds: Math.round(w.ranMs) / 1000, computeSeconds: Math.round(w.computeMs) / 1000, waitedMsMean: round1(w.waited / w.tasks), waitedMsMax: round1(w.waitedMax) })),
  };
}
