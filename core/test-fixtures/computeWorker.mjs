// A worker script for the WorkerPool tests: real threads, trivial tasks. It uses the
// compiled serveTasks (run `npm run build` first; `npm test` does).
import { serveTasks } from '../dist/compute/serveTasks.js';

serveTasks({
  square: (x) => ({ result: x * x }),
  sum: (payload) => {
    const arr = new Float64Array(payload.buffer);
    return { result: arr.reduce((a, b) => a + b, 0) };
  },
  slow: async (ms, progress) => {
    for (let i = 1; i <= 3; i++) {
      await new Promise((r) => setTimeout(r, ms / 3));
      progress(i);
    }
    return { result: 'done' };
  },
  fail: () => {
    const e = new Error('bad things');
    e.name = 'DataFileError';
    e.code = 'BAD_DATA_FILE';
    throw e;
  },
  crash: () => process.exit(3),
  // Busy without ever yielding (as a wasm kernel is) until its signal aborts: how many checks it made.
  spin: (maxMs, _progress, signal) => {
    const until = performance.now() + maxMs;
    let checks = 0;
    while (performance.now() < until) {
      checks++;
      if (signal.aborted) return { result: { aborted: true, checks } };
    }
    return { result: { aborted: false, checks } };
  },
  // Records that it ran, for a later `ran` to report.
  mark: (name) => {
    globalThis.marks = [...(globalThis.marks ?? []), name];
    return { result: name };
  },
  ran: () => ({ result: globalThis.marks ?? [] }),
  threadId: async () => ({ result: (await import('node:worker_threads')).threadId }),
});
