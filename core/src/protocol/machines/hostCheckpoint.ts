import { z } from 'zod';
import { BadInputError } from '../../util/errors.js';
import type { JobTree } from '../jobTree.js';
import { BlobRef, EvalMetrics, SampleRule, SubmitPayload } from '../messages/index.js';
import { createHostState, type HostState, type MemberGroup } from './hostState.js';

// Host checkpoints (DESIGN.md, "checkpoints, so a restarted host resumes its round"). A
// checkpoint is plain JSON: everything a host knows except what the manifest re-derives.
// It is decoded with a schema on restore, because it comes back from disk.

const MemberRow = z.tuple([z.string(), z.number().int().min(0).max(2), z.boolean(), z.number(), z.number(), z.number(), z.boolean()]);

/** The schema of a host checkpoint. */
export const HostCheckpoint = z.strictObject({
  v: z.literal(1),
  rootId: z.string(),
  job: z.string(),
  seq: z.number(),
  jobsheetFlag: z.boolean(),
  datasetFlag: z.boolean(),
  processStage: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  clientStage: z.number(),
  workerStage: z.number(),
  round: z.number(),
  attempt: z.number(),
  parentRound: z.number(),
  /** Absent in checkpoints written before it existed: 0. */
  parentAttempt: z.number().optional(),
  localRound: z.number(),
  global: BlobRef.nullable(),
  parentGlobal: BlobRef.nullable(),
  sample: SampleRule.nullable(),
  sampled: z.array(z.string()),
  submissions: z.array(z.object({ client: z.string() }).and(SubmitPayload)),
  inputs: BlobRef.nullable(),
  inputCount: z.number(),
  inputSamples: z.number(),
  electorate: z.array(z.string()),
  votes: z.array(z.tuple([z.string(), BlobRef])),
  decided: z.object({ round: z.number(), attempt: z.number(), hash: z.string(), electorate: z.array(z.string()), counted: z.array(z.string()) }).nullable(),
  /** [id, acked, refused, samples, status, lastSeen, offline] */
  clients: z.array(MemberRow),
  workers: z.array(MemberRow),
  faults: z.array(z.tuple([z.string(), z.number()])),
  excluded: z.array(z.string()),
  initFrom: z.object({ member: z.string(), role: z.enum(['worker', 'client']) }).nullable(),
  initTries: z.number(),
  metrics: EvalMetrics.nullable(),
  firstEval: EvalMetrics.nullable(),
  trainStats: z.object({ loss: z.number(), accuracy: z.number() }).nullable(),
  stopReason: z.string().nullable(),
  finishedBeats: z.number(),
  deadlineTimer: z.string().nullable(),
  upstream: z
    .object({
      lastSeq: z.number(),
      round: z.number(),
      stage: z.number(),
      datasetFlag: z.boolean(),
      global: BlobRef.nullable(),
      acked: z.union([z.literal(0), z.literal(1), z.literal(2)]),
      pending: z.object({ round: z.number() }).and(SubmitPayload).nullable(),
    })
    .nullable(),
  /** A DP cluster's keys and account (§6.14); absent for other clusters. */
  dp: z
    .strictObject({
      hostSecret: z.string().regex(/^[0-9a-f]{64}$/),
      hostPublic: z.string().regex(/^[0-9a-f]{64}$/),
      noiseKey: z.string().regex(/^[0-9a-f]{64}$/),
      rates: z.array(z.number().gt(0).max(1)).max(1_000_000),
      rate: z.number().gt(0).max(1),
    })
    .optional(),
  done: z.boolean(),
});
export type HostCheckpoint = z.infer<typeof HostCheckpoint>;

function groupRows(g: MemberGroup): z.infer<typeof MemberRow>[] {
  return [...g.records.values()].map((r) => [r.id, r.acked, r.refused, r.samples, r.status, r.lastSeen, r.offline]);
}

/** A JSON snapshot of a host, for the `persist` effect. O(members): taken on stage changes and heartbeats only. */
export function checkpointHost(s: HostState): HostCheckpoint {
  const up = s.upstream;
  return {
    v: 1,
    rootId: s.tree.rootId,
    job: s.job,
    seq: s.seq,
    jobsheetFlag: s.jobsheetFlag,
    datasetFlag: s.datasetFlag,
    processStage: s.processStage,
    clientStage: s.clientStage,
    workerStage: s.workerStage,
    round: s.round,
    attempt: s.attempt,
    parentRound: s.parentRound,
    parentAttempt: s.parentAttempt,
    localRound: s.localRound,
    global: s.global,
    parentGlobal: s.parentGlobal,
    sample: s.sample,
    sampled: [...s.sampled],
    submissions: [...s.submissions.values()],
    inputs: s.inputs,
    inputCount: s.inputCount,
    inputSamples: s.inputSamples,
    electorate: [...s.electorate],
    votes: [...s.votes],
    decided: s.decided,
    clients: groupRows(s.clients),
    workers: groupRows(s.workers),
    faults: [...s.faults],
    excluded: [...s.excluded],
    initFrom: s.initFrom,
    initTries: s.initTries,
    metrics: s.metrics,
    firstEval: s.firstEval,
    trainStats: s.trainStats,
    stopReason: s.stopReason,
    finishedBeats: s.finishedBeats,
    deadlineTimer: s.deadlineTimer,
    upstream: up ? { lastSeq: up.lastSeq, round: up.round, stage: up.stage, datasetFlag: up.datasetFlag, global: up.global, acked: up.acked, pending: up.pending } : null,
    ...(s.dp?.noiseKey ? { dp: { hostSecret: s.dp.hostSecret, hostPublic: s.dp.hostPublic, noiseKey: s.dp.noiseKey, rates: [...s.dp.rates], rate: s.dp.rate } } : {}),
    done: s.done,
  };
}

function restoreGroup(g: MemberGroup, rows: readonly z.infer<typeof MemberRow>[], job: string): void {
  g.reached[1] = 0;
  g.reached[2] = 0;
  g.offlineBelow[1] = 0;
  g.offlineBelow[2] = 0;
  for (const [id, acked, refused, samples, status, lastSeen, offline] of rows) {
    const rec = g.records.get(id);
    if (!rec) throw new BadInputError(`checkpoint of ${job} names ${id}, who is not a member of it in this manifest`);
    Object.assign(rec, { acked, refused, samples, status, lastSeen, offline });
    for (const k of [1, 2] as const) {
      if (acked >= k) g.reached[k]++;
      else if (offline) g.offlineBelow[k]++;
    }
  }
}

/**
 * Rebuilds a host from a checkpoint of the same manifest. Feed it a `start` input next: the
 * host re-arms its timers and republishes its state, so members resume the round.
 */
export function restoreHostState(tree: JobTree, raw: unknown, now: number): HostState {
  const parsed = HostCheckpoint.safeParse(raw);
  if (!parsed.success) throw new BadInputError(`host checkpoint is malformed: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const c = parsed.data;
  if (c.rootId !== tree.rootId) throw new BadInputError(`checkpoint belongs to job ${c.rootId}, not ${tree.rootId}`);
  const s = createHostState(tree, c.job, now);
  Object.assign(s, {
    seq: c.seq,
    jobsheetFlag: c.jobsheetFlag,
    datasetFlag: c.datasetFlag,
    processStage: c.processStage,
    clientStage: c.clientStage,
    workerStage: c.workerStage,
    round: c.round,
    attempt: c.attempt,
    parentRound: c.parentRound,
    parentAttempt: c.parentAttempt ?? 0,
    localRound: c.localRound,
    global: c.global,
    parentGlobal: c.parentGlobal,
    sample: c.sample,
    sampled: new Set(c.sampled),
    submissions: new Map(c.submissions.map((x) => [x.client, x])),
    inputs: c.inputs,
    inputCount: c.inputCount,
    inputSamples: c.inputSamples,
    electorate: c.electorate,
    votes: new Map(c.votes),
    decided: c.decided,
    faults: new Map(c.faults),
    excluded: new Set(c.excluded),
    initFrom: c.initFrom,
    initTries: c.initTries,
    metrics: c.metrics,
    firstEval: c.firstEval,
    trainStats: c.trainStats,
    stopReason: c.stopReason,
    finishedBeats: c.finishedBeats,
    deadlineTimer: c.deadlineTimer,
    done: c.done,
  });
  restoreGroup(s.clients, c.clients, c.job);
  restoreGroup(s.workers, c.workers, c.job);
  // A restarted host gives everyone a fresh grace period before marking them offline.
  for (const g of [s.clients, s.workers]) for (const r of g.records.values()) r.lastSeen = now;
  if (s.upstream && c.upstream) Object.assign(s.upstream, c.upstream);
  if (s.dp && c.dp) Object.assign(s.dp, c.dp);
  return s;
}
