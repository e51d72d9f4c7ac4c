import { parentPort, workerData } from 'node:worker_threads';
import type { WasmMemory } from './kernels.js';
import { COUNT, DONE, GEN, STOP, type LaneWorkerData } from './threads.js';
import { FastTrainer } from './trainer.js';

// One lane of a threaded FastTrainer (threads.ts): attaches to the trainer's shared memory,
// then runs its share of every batch when the generation word moves.
const data = workerData as LaneWorkerData;
const trainer = new FastTrainer(data.arch, data.batch, data.numClasses, data.threads, data.memory as WasmMemory);
const control = new Int32Array(trainer.memory.buffer, trainer.plan.control, DONE + data.threads);
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(control, GEN, seen);
  const generation = Atomics.load(control, GEN);
  if (generation === seen) continue;
  seen = generation;
  if (Atomics.load(control, STOP) !== 0) break;
  let result = generation;
  try {
    trainer.runLaneStats(data.lane, Atomics.load(control, COUNT));
  } catch {
    result = -generation;
  }
  Atomics.store(control, DONE + data.lane, result);
  Atomics.notify(control, DONE + data.lane);
}
