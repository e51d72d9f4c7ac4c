import { UnsupportedError } from '../../util/errors.js';
import type { Architecture } from '../layout.js';
import { FastTrainer, type LaneTeam } from './trainer.js';

// Lanes 1.. of a step on worker threads over the trainer's shared memory. The threads wait on
// Int32 words of the plan's control block (Atomics.wait), so a step costs no messages: the
// trainer's thread bumps the generation word, runs lane 0 itself, then waits for every lane's
// "done" word to reach that generation.

/** Words of the control block. A lane's done word holds the generation it finished, negated if it failed. */
export const GEN = 0;
export const COUNT = 1;
export const STOP = 2;
export const DONE = 3;

// A lane that has not answered after this long is taken for dead (the step fails cleanly
// instead of waiting forever).
const LANE_TIMEOUT_MS = 120_000;

/** What a lane thread is started with. */
export interface LaneWorkerData {
  readonly memory: unknown;
  readonly arch: Architecture;
  readonly batch: number;
  readonly numClasses: number;
  readonly threads: number;
  readonly lane: number;
}

interface NodeWorker {
  on(event: 'message' | 'error' | 'exit', listener: (arg: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

class WorkerTeam implements LaneTeam {
  private generation = 0;

  constructor(
    private readonly control: Int32Array,
    private readonly lanes: number,
    private readonly workers: readonly NodeWorker[],
  ) {}

  start(n: number): void {
    this.generation++;
    Atomics.store(this.control, COUNT, n);
    Atomics.store(this.control, GEN, this.generation);
    Atomics.notify(this.control, GEN);
  }

  wait(): void {
    const deadline = Date.now() + LANE_TIMEOUT_MS;
    for (let t = 1; t < this.lanes; t++) {
      for (;;) {
        const v = Atomics.load(this.control, DONE + t);
        if (v === this.generation) break;
        if (v === -this.generation) throw new UnsupportedError(`training thread ${t} failed its share of the batch`);
        if (Date.now() > deadline) throw new UnsupportedError(`training thread ${t} has not answered for ${LANE_TIMEOUT_MS / 1000} s`);
        Atomics.wait(this.control, DONE + t, v, 1000);
      }
    }
  }

  close(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * A trainer whose batches are split over `threads` lanes: this thread and threads − 1 worker
 * threads (Node only). Close it with {@link closeTrainer} to stop the threads; they do not keep
 * the process alive meanwhile.
 */
export async function createThreadedTrainer(arch: Architecture, batch: number, numClasses: number, threads: number): Promise<FastTrainer> {
  const trainer = new FastTrainer(arch, batch, numClasses, threads);
  if (threads === 1) return trainer;
  const { Worker } = await import('node:worker_threads');
  const script = await laneScript();
  const workers: NodeWorker[] = [];
  try {
    await Promise.all(
      Array.from({ length: threads - 1 }, (_, i) => {
        const workerData: LaneWorkerData = { memory: trainer.memory, arch, batch, numClasses, threads, lane: i + 1 };
        const w = new Worker(script, { workerData }) as unknown as NodeWorker;
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.on('message', () => resolve());
          w.on('error', (e) => reject(e instanceof Error ? e : new Error(String(e))));
          w.on('exit', (code) => reject(new UnsupportedError(`a training thread exited with code ${String(code)} before it was ready`)));
        });
      }),
    );
  } catch (err) {
    for (const w of workers) void w.terminate();
    throw err;
  }
  for (const w of workers) w.unref();
  const control = new Int32Array(trainer.memory.buffer, trainer.plan.control, DONE + threads);
  const team = new WorkerTeam(control, threads, workers);
  trainer.useTeam(team);
  teams.set(trainer, team);
  return trainer;
}

const teams = new WeakMap<FastTrainer, WorkerTeam>();

/** Stops a trainer's worker threads, if it has any. */
export function closeTrainer(trainer: FastTrainer): void {
  teams.get(trainer)?.close();
  teams.delete(trainer);
  trainer.useTeam(undefined);
}

/** laneWorker.js next to this module, or in dist/ when this runs from src/ (vitest). */
async function laneScript(): Promise<URL> {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const here = new URL('./laneWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const url = import.meta.url;
  const i = url.lastIndexOf('/src/');
  const built = i < 0 ? undefined : new URL('./laneWorker.js', `${url.slice(0, i)}/dist/${url.slice(i + 5)}`);
  if (built !== undefined && existsSync(fileURLToPath(built))) return built;
  throw new UnsupportedError('the training thread script laneWorker.js is not built: run `npm run build` in the repository root');
}
