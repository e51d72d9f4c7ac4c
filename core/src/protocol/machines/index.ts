import type { Ctx } from '../ctx.js';
import type { Input } from '../inputs.js';
import { deriveJobSheet, derivedSheetHash, type Role } from '../jobSheet.js';
import { jobOf, jobTopic, rolesOf, type JobTree } from '../jobTree.js';
import type { MemberId } from '../manifest.js';
import type { Message } from '../messages/index.js';
import { createClientState, stepClient, type ClientState } from './client.js';
import { createDistributorState, distributorTopics, stepDistributor, type DistributorState } from './distributor.js';
import { stepHost, type StepResult } from './host.js';
import { restoreHostState } from './hostCheckpoint.js';
import { createHostState, type HostState } from './hostState.js';
import { createWorkerState, stepWorker, type WorkerState } from './worker.js';
import { decodeJournal } from './memberJournal.js';
import { restoreClientState, restoreDistributorState, restoreWorkerState } from './memberRestore.js';

// How a shell gets machines for a member: one machine per role it plays in a job, each with
// the topics it must subscribe to. The shell routes every accepted message of a topic to
// every machine of that topic, and every effect result back to the machine that asked.

/** The state of any role's machine. */
export type MachineState = HostState | ClientState | WorkerState | DistributorState;

/** A machine as a shell holds it. */
export interface Machine {
  /** Unique per member: `${role}:${job}`. Timer ids are scoped to it. */
  readonly key: string;
  readonly role: Role;
  readonly job: string;
  /** Gossip topics to subscribe to. */
  readonly topics: readonly string[];
  state: MachineState;
}

/** Steps any machine. Takes ownership of `state` (it may be mutated and is returned). */
export function stepMachine(state: MachineState, input: Input, ctx: Ctx): StepResult<MachineState> {
  switch (state.role) {
    case 'host':
      return stepHost(state, input, ctx);
    case 'client':
      return stepClient(state, input, ctx);
    case 'worker':
      return stepWorker(state, input, ctx);
    case 'distributor':
      return stepDistributor(state, input, ctx);
  }
}

/** The machine for one role of a member in one job. `now` starts offline-detection grace periods. */
export function createMachine(tree: JobTree, role: Role, job: string, member: MemberId, now: number): Machine {
  const key = `${role}:${job}`;
  switch (role) {
    case 'host': {
      const node = jobOf(tree, job);
      const topics = [jobTopic(tree.rootId, job), ...(node.parent === undefined ? [] : [jobTopic(tree.rootId, node.parent)])];
      return { key, role, job, topics, state: createHostState(tree, job, now) };
    }
    // The sheet's hash through the tree's cache, which the member's host reads on every ACK:
    // one hash per member for both, instead of one each.
    case 'client':
      return { key, role, job, topics: [jobTopic(tree.rootId, job)], state: createClientState(deriveJobSheet(tree, job, role, member), derivedSheetHash(tree, job, role, member)) };
    case 'worker':
      return { key, role, job, topics: [jobTopic(tree.rootId, job)], state: createWorkerState(deriveJobSheet(tree, job, role, member), derivedSheetHash(tree, job, role, member)) };
    case 'distributor':
      return { key, role, job, topics: distributorTopics(tree), state: createDistributorState(tree, deriveJobSheet(tree, job, role, member)) };
  }
}

/**
 * Every machine a member runs for a job tree (one per role per job), in a stable order.
 * Feed each a `start` input to begin.
 */
export function createMachines(tree: JobTree, member: MemberId, now: number): Machine[] {
  return rolesOf(tree, member).map(({ role, job }) => createMachine(tree, role, job, member, now));
}

/** A host machine restored from a checkpoint (see `persist`); feed it `start` to resume. */
export function restoreHostMachine(tree: JobTree, checkpoint: unknown, now: number): Machine {
  const state = restoreHostState(tree, checkpoint, now);
  const base = createMachine(tree, 'host', state.job, state.node.host, now);
  return { ...base, state };
}

/**
 * A client, worker or distributor machine restored from its journal entry (see the `journal`
 * effect, PROTOCOL.md §6.15); feed it `start` to resume. Throws BadInputError for an entry
 * it cannot read (the shell then starts the machine fresh and says so).
 */
export function restoreMemberMachine(tree: JobTree, role: 'client' | 'worker' | 'distributor', job: string, member: MemberId, entry: unknown, now: number): Machine {
  const m = createMachine(tree, role, job, member, now);
  const s = m.state;
  if (s.role === 'client') m.state = restoreClientState(s, decodeJournal('client', entry));
  else if (s.role === 'worker') m.state = restoreWorkerState(s, decodeJournal('worker', entry));
  else if (s.role === 'distributor') m.state = restoreDistributorState(s, decodeJournal('distributor', entry));
  return m;
}

/**
 * The receiver's view of a job for the validator's stale checks (see ValidationContext.view):
 * the least advanced of this member's machines that follow the job, so that the validator
 * never drops a message one of them still needs.
 */
export function viewOf(machines: readonly Machine[], job: string): { round: number; hostSeq: number } | undefined {
  let view: { round: number; hostSeq: number } | undefined;
  const merge = (round: number, hostSeq: number) => {
    view = view ? { round: Math.min(view.round, round), hostSeq: Math.min(view.hostSeq, hostSeq) } : { round, hostSeq };
  };
  for (const m of machines) {
    const s = m.state;
    if (s.role === 'host') {
      if (s.job === job) merge(s.round, -1);
      else if (s.upstream?.job === job) merge(s.upstream.round, s.upstream.lastSeq);
    } else if (s.role === 'client' || s.role === 'worker') {
      if (s.job === job) merge(s.hostRound, s.hostSeq);
    }
  }
  return view;
}

/**
 * Whether a machine acts on a message type for a job at all. Gossip shows every message of a
 * topic to every subscriber, so a client sees every other client's heartbeat. A shell must
 * still validate (and so forward) them, but it need not step machines that would drop them.
 * The simulator can also skip delivering them.
 */
export function wantsMessage(machine: Machine, type: Message['type'], job: string): boolean {
  switch (machine.role) {
    case 'host':
      if (job !== machine.job) return type === 'state';
      return type === 'ack' || type === 'heartbeat' || type === 'init-params' || type === 'submit' || type === 'aggregate' || type === 'dataset-offer';
    case 'client':
      return type === 'state' || type === 'dataset-offer';
    case 'worker':
      return type === 'state';
    case 'distributor':
      return type === 'state' || type === 'dataset-request';
  }
}
