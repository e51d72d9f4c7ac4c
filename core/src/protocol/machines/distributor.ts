import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import type { JobSheet } from '../jobSheet.js';
import { jobOf, jobTopic, type JobTree } from '../jobTree.js';
import { MAX_DATASET_ERROR_CHARS, MESSAGE_VERSION, type BlobRef, type Message } from '../messages/index.js';
import type { StepResult } from './host.js';
import { nextSeq } from './hostState.js';
import { journalDistributor } from './memberJournal.js';

// The distributor machine (step 4): partitions the dataset once, stores every client's
// shard and one index blob per leaf job, and offers each leaf job its index. A client that
// missed the offer asks again; repeats are rate-limited to one per heartbeat per job.
// A preparation that fails is retried once per heartbeat; after the last attempt the
// distributor tells the root job why (§5.4), and the root ends the job.

/** How many times the distributor tries to prepare the dataset before giving up (§5.4). */
export const PREPARE_ATTEMPTS = 3;

/** The state of a distributor. Owned by `stepDistributor`, which may mutate it. */
export interface DistributorState {
  readonly role: 'distributor';
  readonly tree: JobTree;
  readonly sheet: JobSheet;
  readonly member: string;
  seq: number;
  indexes: Record<string, BlobRef> | null;
  /** Preparations asked for so far, and why the last one failed once no attempt is left. */
  prepareTries: number;
  failure: string | null;
  lastOffer: Map<string, number>;
  /** Highest state seq seen per leaf job, and the leaf jobs that finished. */
  hostSeq: Map<string, number>;
  finished: Set<string>;
  done: boolean;
}

/** A distributor in its initial state. */
export function createDistributorState(tree: JobTree, sheet: JobSheet): DistributorState {
  if (sheet.role !== 'distributor') throw new Error(`createDistributorState needs a distributor sheet, got ${sheet.role}`);
  return { role: 'distributor', tree, sheet, member: sheet.member, seq: 0, indexes: null, prepareTries: 0, failure: null, lastOffer: new Map(), hostSeq: new Map(), finished: new Set(), done: false };
}

/** The topics a distributor listens on: every leaf job's, and the root job's, where it reports a failure. */
export function distributorTopics(tree: JobTree): string[] {
  return [...new Set([tree.root, ...tree.leaves])].map((j) => jobTopic(tree.rootId, j));
}

/** Steps a distributor. Takes ownership of `s`. */
export function stepDistributor(s: DistributorState, input: Input, ctx: Ctx): StepResult<DistributorState> {
  const effects: Effect[] = [];
  if (s.done) return { state: s, effects };
  switch (input.type) {
    case 'start':
      if (s.indexes) for (const job of s.tree.leaves) offer(s, job, ctx, effects);
      else if (s.failure) reportFailure(s, ctx, effects);
      else prepare(s, effects);
      break;
    case 'datasetPrepared':
      if (s.failure) break; // too late: the root is already ending the job
      s.indexes = { ...input.indexes };
      // Durable before it is offered (§6.15): a restarted distributor offers the same indexes.
      journalDistributor(s, effects);
      for (const job of s.tree.leaves) offer(s, job, ctx, effects);
      break;
    case 'datasetFailed':
      if (s.indexes || s.failure) break;
      if (s.prepareTries >= PREPARE_ATTEMPTS) {
        s.failure = input.reason.slice(0, MAX_DATASET_ERROR_CHARS) || 'unknown error';
        journalDistributor(s, effects);
        reportFailure(s, ctx, effects);
      } else {
        armRetry(s, ctx, effects);
      }
      break;
    case 'timer':
      if (input.id !== 'prepare' || s.indexes) break;
      // Repeated each heartbeat until the job ends, in case gossip lost the report.
      if (s.failure) reportFailure(s, ctx, effects);
      else prepare(s, effects);
      break;
    case 'message': {
      const msg = input.message;
      if (msg.type === 'dataset-request') {
        const last = s.lastOffer.get(msg.job);
        const beatMs = jobOf(s.tree, msg.job).timing.heartbeatSeconds * 1000;
        if (last === undefined || ctx.now - last >= beatMs) offer(s, msg.job, ctx, effects);
      } else if (msg.type === 'state' && msg.role === 'host' && msg.payload.processStage === 3) {
        if ((s.hostSeq.get(msg.job) ?? -1) >= msg.seq) break;
        s.hostSeq.set(msg.job, msg.seq);
        s.finished.add(msg.job);
        if (s.tree.leaves.every((j) => s.finished.has(j))) {
          s.done = true;
          effects.push({ type: 'finished', job: s.tree.root, role: 'distributor', final: msg.payload.global, reason: msg.payload.stopReason ?? 'finished' });
        }
      }
      break;
    }
    default:
      break;
  }
  return { state: s, effects };
}

function prepare(s: DistributorState, effects: Effect[]): void {
  s.prepareTries++;
  const d = s.sheet.dataset;
  const jobs = s.tree.leaves.map((job) => {
    const clients = jobOf(s.tree, job).clients.map((c) => c.id).sort((a, b) => s.tree.shardIndex.get(a)! - s.tree.shardIndex.get(b)!);
    return { job, clients, firstShard: s.tree.shardIndex.get(clients[0]!) ?? 0 };
  });
  effects.push({ type: 'prepareDataset', dataset: d.source, partition: d.partition, seed: d.seed, jobs, shards: s.tree.shardIndex.size });
}

function armRetry(s: DistributorState, ctx: Ctx, effects: Effect[]): void {
  effects.push({ type: 'setTimer', id: 'prepare', at: ctx.now + jobOf(s.tree, s.tree.root).timing.heartbeatSeconds * 1000 });
}

// §5.4: no attempt left; the root job hears why and ends the job with that reason.
function reportFailure(s: DistributorState, ctx: Ctx, effects: Effect[]): void {
  s.seq = nextSeq(s.seq, ctx.now);
  const message: Message = {
    v: MESSAGE_VERSION,
    type: 'dataset-offer',
    root: s.tree.rootId,
    job: s.tree.root,
    round: 0,
    seq: s.seq,
    sender: s.member,
    member: s.member,
    role: 'distributor',
    payload: { error: s.failure! },
  };
  effects.push({ type: 'publish', topic: jobTopic(s.tree.rootId, s.tree.root), message });
  armRetry(s, ctx, effects);
}

function offer(s: DistributorState, job: string, ctx: Ctx, effects: Effect[]): void {
  const index = s.indexes?.[job];
  const node = s.tree.jobs.get(job);
  if (!index || !node?.leaf) return;
  s.lastOffer.set(job, ctx.now);
  s.seq = nextSeq(s.seq, ctx.now);
  const message: Message = {
    v: MESSAGE_VERSION,
    type: 'dataset-offer',
    root: s.tree.rootId,
    job,
    round: 0,
    seq: s.seq,
    sender: s.member,
    member: s.member,
    role: 'distributor',
    payload: { index, clients: node.clients.length },
  };
  effects.push({ type: 'publish', topic: jobTopic(s.tree.rootId, job), message });
}
