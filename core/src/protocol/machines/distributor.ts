import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import type { JobSheet } from '../jobSheet.js';
import { jobOf, jobTopic, type JobTree } from '../jobTree.js';
import { MESSAGE_VERSION, type BlobRef, type Message } from '../messages/index.js';
import type { StepResult } from './host.js';
import { nextSeq } from './hostState.js';

// The distributor machine (step 4): partitions the dataset once, stores every client's
// shard and one index blob per leaf job, and offers each leaf job its index. A client that
// missed the offer asks again; repeats are rate-limited to one per heartbeat per job.

/** The state of a distributor. Owned by `stepDistributor`, which may mutate it. */
export interface DistributorState {
  readonly role: 'distributor';
  readonly tree: JobTree;
  readonly sheet: JobSheet;
  readonly member: string;
  seq: number;
  indexes: Record<string, BlobRef> | null;
  lastOffer: Map<string, number>;
  /** Highest state seq seen per leaf job, and the leaf jobs that finished. */
  hostSeq: Map<string, number>;
  finished: Set<string>;
  done: boolean;
}

/** A distributor in its initial state. */
export function createDistributorState(tree: JobTree, sheet: JobSheet): DistributorState {
  if (sheet.role !== 'distributor') throw new Error(`createDistributorState needs a distributor sheet, got ${sheet.role}`);
  return { role: 'distributor', tree, sheet, member: sheet.member, seq: 0, indexes: null, lastOffer: new Map(), hostSeq: new Map(), finished: new Set(), done: false };
}

/** The topics a distributor listens on: every leaf job's. */
export function distributorTopics(tree: JobTree): string[] {
  return tree.leaves.map((j) => jobTopic(tree.rootId, j));
}

/** Steps a distributor. Takes ownership of `s`. */
export function stepDistributor(s: DistributorState, input: Input, ctx: Ctx): StepResult<DistributorState> {
  const effects: Effect[] = [];
  if (s.done) return { state: s, effects };
  switch (input.type) {
    case 'start': {
      if (s.indexes) {
        for (const job of s.tree.leaves) offer(s, job, ctx, effects);
        break;
      }
      const d = s.sheet.dataset;
      const jobs = s.tree.leaves.map((job) => {
        const clients = jobOf(s.tree, job).clients.map((c) => c.id).sort((a, b) => s.tree.shardIndex.get(a)! - s.tree.shardIndex.get(b)!);
        return { job, clients, firstShard: s.tree.shardIndex.get(clients[0]!) ?? 0 };
      });
      effects.push({ type: 'prepareDataset', dataset: d.source, partition: d.partition, seed: d.seed, jobs, shards: s.tree.shardIndex.size });
      break;
    }
    case 'datasetPrepared':
      s.indexes = { ...input.indexes };
      for (const job of s.tree.leaves) offer(s, job, ctx, effects);
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
