import type { ClientState } from './client.js';
import type { DistributorState } from './distributor.js';
import type { ClientJournal, DistributorJournal, WorkerJournal } from './memberJournal.js';
import type { WorkerState } from './worker.js';

// How a fresh client, worker or distributor takes back its journal (PROTOCOL.md §6.15).

/**
 * Applies a client's journal to a fresh client (PROTOCOL.md §6.15). Consent is not asked
 * again; a refusal stands. Trained work comes back: a submitted update is resent once, the
 * first time the host's snapshot shows that round still training; an update trained but not
 * yet evaluated waits for the evaluation only. The ACKs are sent again (the host keeps the
 * higher level it recorded).
 */
export function restoreClientState(s: ClientState, j: ClientJournal): ClientState {
  s.datasetIndex = j.datasetIndex;
  if (j.consent === 'refused') {
    s.consent = 'refused';
    s.refused = true;
    s.acked = 2;
    s.status = 2;
    return s;
  }
  if (j.consent === 'given') s.consent = 'given';
  const w = j.work;
  if (w?.trained) {
    const submitted = w.submit !== null;
    s.work = { round: w.round, global: w.global, phase: submitted ? 'submitted' : 'fetching', trained: w.trained, evaluated: w.evaluated, submit: w.submit, resentAt: null, ...(submitted ? { resendOnRestore: true } : {}) };
  }
  return s;
}

/** Applies a worker's journal: its last aggregate is voted again (on its next heartbeat while the host still asks for it). */
export function restoreWorkerState(s: WorkerState, j: WorkerJournal): WorkerState {
  if (j.work) s.work = { ...j.work };
  if (j.init) s.init = { ref: j.init };
  return s;
}

/** Applies a distributor's journal: prepared indexes are offered at once, without preparing again. */
export function restoreDistributorState(s: DistributorState, j: DistributorJournal): DistributorState {
  if (j.indexes) s.indexes = { ...j.indexes };
  else if (j.failure !== null) s.failure = j.failure;
  return s;
}
