import { AbortedError, CanopyError, ErrorCode, throwIfAborted } from '../util/errors.js';
import type { ComputeBackend } from './computeBackend.js';

// The desktop app's "only while idle" limit. While the owner uses the computer the gate is
// closed, and new training and evaluation tasks wait until it opens again. A task already
// running finishes: neither backend can pause a task midway, and a task takes seconds to a
// few minutes, so the owner gets the machine back at the next task boundary. A waiting task
// that is aborted (its node stops, or leaves the job) stops waiting and never runs.
//
// Aggregation, data loading, chunk preparation and initParams pass through even while the
// gate is closed. A worker's aggregation is short (a weighted sum of a few parameter
// vectors) and every client below it waits on it, so holding it back would stall the whole
// subtree for the sake of a moment of CPU; data loading is mostly I/O.

/** A task was waiting for the owner to leave the computer idle when the node stopped. */
export class IdleGateStoppedError extends CanopyError {
  constructor(task: 'train' | 'evaluate') {
    super(ErrorCode.Aborted, `the node stopped while a ${task} task was waiting for the owner to leave this computer idle ("only while idle" limit); the task was not run`);
  }
}

/** What an {@link IdleGate} reports whenever the owner's activity or the number of held tasks changes. */
export interface IdleGateState {
  /** The owner is using the computer: training and evaluation are paused. */
  readonly ownerActive: boolean;
  /** Tasks waiting for the gate to open. */
  readonly held: number;
}

/** Options of {@link IdleGate}. */
export interface IdleGateInit {
  /** Whether the owner is active when the gate is made (default false: the gate is open). */
  readonly ownerActive?: boolean;
  readonly onChange?: (state: IdleGateState) => void;
}

/**
 * A {@link ComputeBackend} that holds `train` and `evaluate` while the owner is active
 * (`setOwnerActive(true)`) and passes everything else straight to `inner`. `stop()` rejects
 * every held task with {@link IdleGateStoppedError}, then stops `inner`.
 */
export class IdleGate implements ComputeBackend {
  readonly kind: ComputeBackend['kind'];
  private active: boolean;
  private stopped = false;
  private held = 0;
  // Settled when the gate opens or the gate stops; replaced each time the gate closes.
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private readonly onChange: ((state: IdleGateState) => void) | undefined;

  constructor(
    private readonly inner: ComputeBackend,
    init: IdleGateInit = {},
  ) {
    this.kind = inner.kind;
    this.active = false;
    this.onChange = init.onChange;
    if (init.ownerActive) this.setOwnerActive(true);
  }

  /** Whether the owner is using the computer (the gate is closed). */
  get ownerActive(): boolean {
    return this.active;
  }

  /** Closes the gate (the owner is active) or opens it (the owner is idle). Repeating a state does nothing. */
  setOwnerActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (active) {
      this.opened = new Promise((resolve) => (this.release = resolve));
    } else {
      this.release();
    }
    this.report();
  }

  loadData: ComputeBackend['loadData'] = (...args) => this.inner.loadData(...args);
  initParams: ComputeBackend['initParams'] = (...args) => this.inner.initParams(...args);
  aggregate: ComputeBackend['aggregate'] = (...args) => this.inner.aggregate(...args);
  prepareChunks: ComputeBackend['prepareChunks'] = (...args) => this.inner.prepareChunks(...args);
  paramsLimit: ComputeBackend['paramsLimit'] = (model) => this.inner.paramsLimit(model);

  train: ComputeBackend['train'] = async (...args) => {
    await this.waitUntilIdle('train', args[1]?.signal);
    return this.inner.train(...args);
  };

  evaluate: ComputeBackend['evaluate'] = async (...args) => {
    await this.waitUntilIdle('evaluate', args[1]?.signal);
    return this.inner.evaluate(...args);
  };

  async stop(): Promise<void> {
    this.stopped = true;
    this.release();
    await this.inner.stop();
  }

  private async waitUntilIdle(task: 'train' | 'evaluate', signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal, task === 'train' ? 'local training' : 'evaluation');
    if (!this.active || this.stopped) return this.checkStopped(task);
    this.held++;
    this.report();
    // A held task that is aborted stops waiting (and never runs).
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortedError(task === 'train' ? 'local training' : 'evaluation'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      // The owner may come back between the gate opening and this task resuming: wait again
      // then, so each held task runs once, when the owner is idle.
      while (this.active && !this.stopped) await Promise.race([this.opened, aborted]);
    } finally {
      signal?.removeEventListener('abort', onAbort!);
      this.held--;
      if (!this.stopped) this.report();
    }
    this.checkStopped(task);
  }

  private checkStopped(task: 'train' | 'evaluate'): void {
    if (this.stopped && this.active) throw new IdleGateStoppedError(task);
  }

  private report(): void {
    this.onChange?.({ ownerActive: this.active, held: this.held });
  }
}
