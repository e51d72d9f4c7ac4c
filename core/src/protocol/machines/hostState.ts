import type { MemberFailure } from '../messages/index.js';
import { canonicalJson, sha256Text, utf8Length } from '../../util/hash.js';
import type { Effect } from '../effects.js';
import type { Ctx } from '../ctx.js';
import { sealNoiseKey } from '../dp/noiseKey.js';
import { deriveJobSheet, derivedSheetHash, type JobSheet } from '../jobSheet.js';
import { compareIds, jobOf, type JobNode, type JobTree } from '../jobTree.js';
import { MAX_MISSING, MESSAGE_VERSION, type BlobRef, type EvalMetrics, type Message, type SampleRule, type StatePayload, type SubmitPayload } from '../messages/index.js';

// The host's state (one per job) and the small helpers every host transition shares.
// Steps take ownership of a HostState and mutate it: a host of 10,000 clients must not
// copy its member table per message. Use `checkpointHost` for a snapshot.

/** Attempts per stage of a round (quorum or consensus retries) before giving up. */
export const MAX_ATTEMPTS = 3;
/** Heartbeat intervals of silence after which a member is marked offline. */
export const OFFLINE_AFTER_BEATS = 3;
/** Heartbeat intervals a finished host keeps republishing its final state for laggards. */
export const FINISHED_LINGER_BEATS = 20;

/** What the host knows of one client or worker. */
export interface MemberRecord {
  readonly id: string;
  /** The peer that speaks for it (the sub-job's host for a sub-job client). */
  readonly peer: string;
  /** Highest setup stage ACKed: 0, 1 (job sheet) or 2 (dataset). */
  acked: 0 | 1 | 2;
  refused: boolean;
  samples: number;
  status: number;
  lastSeen: number;
  offline: boolean;
}

/** A member group (clients or workers) with counters kept in step with its records. */
export interface MemberGroup {
  readonly records: Map<string, MemberRecord>;
  /** reached[k]: records with acked >= k (k = 1, 2). */
  readonly reached: [number, number, number];
  /** offlineBelow[k]: offline records with acked < k, which no longer block stage k. */
  readonly offlineBelow: [number, number, number];
}

/** A round's accepted submission. */
export interface Submission extends SubmitPayload {
  readonly client: string;
}

/** A secondary host's view of its parent job, where it acts as one client. */
export interface UpstreamState {
  readonly job: string;
  readonly topic: string;
  readonly host: string;
  readonly asClient: string;
  /** Highest parent `state` seq seen. */
  lastSeq: number;
  /** The parent's last known round, stage and flags. */
  round: number;
  stage: number;
  datasetFlag: boolean;
  global: BlobRef | null;
  /** The setup stage this job has ACKed upward. */
  acked: 0 | 1 | 2;
  /** The submission to the parent for `round`, resent on heartbeats until the parent moves on. */
  pending: (SubmitPayload & { round: number }) | null;
  /** Whether the parent's snapshot names this job in `wrongSheet` (not checkpointed). */
  wrongSheet?: boolean;
}

/** The complete state of one job's host. */
export interface HostState {
  readonly role: 'host';
  readonly tree: JobTree;
  readonly node: JobNode;
  readonly sheet: JobSheet;
  readonly job: string;
  readonly topic: string;
  readonly manifestRef: BlobRef;
  seq: number;
  jobsheetFlag: boolean;
  datasetFlag: boolean;
  processStage: 0 | 1 | 2 | 3;
  clientStage: number;
  workerStage: number;
  round: number;
  attempt: number;
  parentRound: number;
  /** The parent's `attempt` when this job last started a round for it (§6.6: a failed round rejoins a later attempt). */
  parentAttempt: number;
  localRound: number;
  global: BlobRef | null;
  /** The parent's global this local round series trains from (what upward submissions cite as base). */
  parentGlobal: BlobRef | null;
  sample: SampleRule | null;
  sampled: Set<string>;
  submissions: Map<string, Submission>;
  /** Stage 1: sampled clients that report having submitted this round, but whose submission is not here (§6.12). */
  missing: Set<string>;
  /** Members whose last counted-level ACK or heartbeat carried another sheet hash (not checkpointed: their next heartbeat restores it). */
  wrongSheet: Set<string>;
  inputs: BlobRef | null;
  inputCount: number;
  inputSamples: number;
  electorate: string[];
  votes: Map<string, BlobRef>;
  /** The last decided vote, so that late dissenting votes still count as faults. */
  decided: { round: number; attempt: number; hash: string; electorate: string[]; counted: string[] } | null;
  clients: MemberGroup;
  workers: MemberGroup;
  faults: Map<string, number>;
  excluded: Set<string>;
  initFrom: { member: string; role: 'worker' | 'client' } | null;
  initTries: number;
  metrics: EvalMetrics | null;
  /** Evaluation gathered in the first local round of a parent round: the parent's global model. */
  firstEval: EvalMetrics | null;
  trainStats: { loss: number; accuracy: number } | null;
  stopReason: string | null;
  /** What members last reported they could not do (§6.13), by member id. Not checkpointed. */
  failures: Map<string, HeldFailure>;
  /** Workers whose heartbeats report a round of this job later than the host's (§6.8), by id. Not checkpointed. */
  workersAhead: Map<string, number>;
  /** The same for clients. Not checkpointed. */
  clientsAhead: Map<string, number>;
  finishedBeats: number;
  /** The armed deadline timer's id, so stale firings are recognised. */
  deadlineTimer: string | null;
  /** When the last snapshot went out, and its payload's canonical JSON (see republishIfQuiet). Not checkpointed. */
  publishedAt: number;
  publishedPayload: string;
  upstream: UpstreamState | null;
  /** A leaf cluster with `privacy.dp` (§6.14): its keys and its account; null otherwise. */
  dp: HostDp | null;
  done: boolean;
}

/** What a DP cluster's host keeps (§6.14). */
export interface HostDp {
  /** The host's X25519 key pair and the job's noise key, hex; '' until drawn at start. */
  hostSecret: string;
  hostPublic: string;
  noiseKey: string;
  /** Workers' X25519 public keys from their heartbeats, and the noise key sealed to each (not checkpointed). */
  workerKeys: Map<string, { publicKey: string; sealed: string | null }>;
  /** The sampling rate of every round that closed its training stage, in order: what the accountant composes. */
  rates: number[];
  /** The sampling rate of the round in progress (sampled / eligible at the draw). */
  rate: number;
}

// A tree's manifest never changes, and every host of the tree serves it on start: hash the
// (large, for 10,000 clients) canonical JSON once per tree, not once per host and restart.
const manifestRefs = new WeakMap<JobTree, BlobRef>();

/** The manifest as a blob: its canonical JSON, hashed. */
export function manifestBlob(tree: JobTree): { ref: BlobRef; value: unknown } {
  let ref = manifestRefs.get(tree);
  if (!ref) {
    ref = jsonBlobRef(tree.manifest);
    manifestRefs.set(tree, ref);
  }
  return { ref: { ...ref }, value: tree.manifest };
}

/** A JSON value as a blob reference (hash of its canonical JSON). */
export function jsonBlobRef(value: unknown): BlobRef {
  const text = canonicalJson(value);
  return { hash: sha256Text(text), size: utf8Length(text) };
}

function newGroup(ids: readonly { id: string; peer: string }[], now: number): MemberGroup {
  const records = new Map<string, MemberRecord>();
  for (const { id, peer } of ids) records.set(id, { id, peer, acked: 0, refused: false, samples: 0, status: 0, lastSeen: now, offline: false });
  return { records, reached: [ids.length, 0, 0], offlineBelow: [0, 0, 0] };
}

/** A fresh host for `job`, as created at submission (step 1). */
export function createHostState(tree: JobTree, job: string, now: number): HostState {
  const node = jobOf(tree, job);
  const sheet = deriveJobSheet(tree, job, 'host', node.host);
  const up = sheet.upstream;
  return {
    role: 'host',
    tree,
    node,
    sheet,
    job,
    topic: sheet.topic,
    manifestRef: manifestBlob(tree).ref,
    seq: 0,
    jobsheetFlag: false,
    datasetFlag: false,
    processStage: 0,
    clientStage: 0,
    workerStage: 0,
    round: 0,
    attempt: 0,
    parentRound: 0,
    parentAttempt: 0,
    localRound: 0,
    global: null,
    parentGlobal: null,
    sample: null,
    sampled: new Set(),
    submissions: new Map(),
    missing: new Set(),
    wrongSheet: new Set(),
    inputs: null,
    inputCount: 0,
    inputSamples: 0,
    electorate: [],
    votes: new Map(),
    decided: null,
    clients: newGroup(node.clients, now),
    workers: newGroup(node.workers.map((w) => ({ id: w, peer: w })), now),
    faults: new Map(),
    excluded: new Set(),
    initFrom: null,
    initTries: 0,
    metrics: null,
    firstEval: null,
    trainStats: null,
    stopReason: null,
    failures: new Map(),
    workersAhead: new Map(),
    clientsAhead: new Map(),
    finishedBeats: 0,
    deadlineTimer: null,
    publishedAt: Number.NEGATIVE_INFINITY,
    publishedPayload: '',
    upstream: up
      ? { job: up.job, topic: up.topic, host: up.host, asClient: up.asClient, lastSeq: -1, round: 0, stage: 0, datasetFlag: false, global: null, acked: 0, pending: null }
      : null,
    dp: node.leaf && sheet.privacy ? { hostSecret: '', hostPublic: '', noiseKey: '', workerKeys: new Map(), rates: [], rate: 1 } : null,
    done: false,
  };
}

/** The hash a member of this job must ACK with, for the sheet the host derives for it. */
export function expectedSheetHash(s: HostState, role: 'client' | 'worker', rec: MemberRecord): string {
  if (role === 'client' && rec.id !== rec.peer) {
    // A sub-job client ACKs with its host's sheet for the sub-job.
    return derivedSheetHash(s.tree, rec.id, 'host', rec.peer);
  }
  return derivedSheetHash(s.tree, s.job, role, rec.id);
}

/** Marks a record heard from now; a record that was offline rejoins (it may train next round). */
export function touch(g: MemberGroup, rec: MemberRecord, now: number): boolean {
  rec.lastSeen = now;
  if (!rec.offline) return false;
  rec.offline = false;
  for (const k of [1, 2] as const) if (rec.acked < k) g.offlineBelow[k]--;
  return true;
}

/** Marks a record offline: it no longer blocks setup stages, and is not sampled. */
export function markOffline(g: MemberGroup, rec: MemberRecord): void {
  if (rec.offline) return;
  rec.offline = true;
  for (const k of [1, 2] as const) if (rec.acked < k) g.offlineBelow[k]++;
}

/** Raises a record's ACK level, keeping the counters right. */
export function raiseAck(g: MemberGroup, rec: MemberRecord, level: 0 | 1 | 2): void {
  while (rec.acked < level) {
    const k = (rec.acked + 1) as 1 | 2;
    rec.acked = k;
    g.reached[k]++;
    if (rec.offline) g.offlineBelow[k]--;
  }
}

/** Whether a group has reached setup stage k: every record ACKed it or is offline, and one ACKed. */
export function groupReached(g: MemberGroup, k: 1 | 2): boolean {
  return g.reached[k] >= 1 && g.reached[k] + g.offlineBelow[k] >= g.records.size;
}

/** Records that may take part in a round: online, dataset ACKed, consenting. */
export function eligible(g: MemberGroup, excluded?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const r of g.records.values()) if (!r.offline && r.acked === 2 && !r.refused && !excluded?.has(r.id)) out.push(r.id);
  return out;
}

/** The next sequence number: rising, and above the clock so a restored host outruns its old snapshots. */
export function nextSeq(prev: number, now: number): number {
  return Math.max(prev + 1, Math.floor(now));
}

/** The host's snapshot payload (the `state` message body). */
export function statePayload(s: HostState): StatePayload {
  return {
    jobsheetFlag: s.jobsheetFlag,
    datasetFlag: s.datasetFlag,
    processStage: s.processStage,
    clientStage: s.clientStage,
    workerStage: s.workerStage,
    attempt: s.attempt,
    parentRound: s.parentRound,
    localRound: s.localRound,
    manifest: s.manifestRef,
    global: s.global,
    sample: s.processStage === 1 ? s.sample : null,
    inputs: s.processStage === 2 ? s.inputs : null,
    inputCount: s.processStage === 2 ? s.inputCount : 0,
    initFrom: s.initFrom,
    excludedWorkers: [...s.excluded].sort(),
    missing: missingList(s),
    wrongSheet: s.wrongSheet.size > 0 ? [...s.wrongSheet].sort(compareIds).slice(0, MAX_MISSING) : [],
    metrics: s.metrics,
    stopReason: s.stopReason,
    downloadable: s.processStage === 3 && s.sheet.allowModelDownload,
    ...(s.dp?.noiseKey ? { noise: noisePayload(s.dp, s.job) } : {}),
  };
}

// §6.14: the noise key sealed to every worker whose key arrived (sealed once per key).
function noisePayload(dp: HostDp, job: string): NonNullable<StatePayload['noise']> {
  const sealed: Record<string, string> = {};
  for (const [worker, k] of [...dp.workerKeys].sort((a, b) => compareIds(a[0], b[0]))) {
    if (k.sealed === null) {
      try {
        k.sealed = sealNoiseKey(dp.hostSecret, k.publicKey, job, worker, dp.noiseKey);
      } catch {
        continue; // a key of low order: this worker gets no noise key and cannot aggregate
      }
    }
    sealed[worker] = k.sealed;
  }
  return { hostKey: dp.hostPublic, sealed };
}

/** Publishes the host's full snapshot with a fresh sequence number. */
export function publishState(s: HostState, ctx: Ctx, effects: Effect[]): void {
  s.seq = nextSeq(s.seq, ctx.now);
  const payload = statePayload(s);
  const message: Message = {
    v: MESSAGE_VERSION,
    type: 'state',
    root: s.tree.rootId,
    job: s.job,
    round: s.round,
    seq: s.seq,
    sender: s.node.host,
    member: s.node.host,
    role: 'host',
    payload,
  };
  s.publishedAt = ctx.now;
  s.publishedPayload = canonicalJson(payload);
  effects.push({ type: 'publish', topic: s.topic, message });
}

/**
 * The heartbeat's snapshot (§3, "Full snapshots"): republished unless the last one went out
 * less than a heartbeat interval ago and nothing in it changed since. Changes are published
 * when they happen, so members get a snapshot at least every two intervals, and a client
 * named missing hears it on the next heartbeat.
 */
export function republishIfQuiet(s: HostState, ctx: Ctx, effects: Effect[]): void {
  if (ctx.now - s.publishedAt < s.node.timing.heartbeatSeconds * 1000 && !snapshotChanged(s)) return;
  publishState(s, ctx, effects);
}

/** Publishes the snapshot if anything in it changed since the last one. */
export function publishIfChanged(s: HostState, ctx: Ctx, effects: Effect[]): void {
  if (snapshotChanged(s)) publishState(s, ctx, effects);
}

function snapshotChanged(s: HostState): boolean {
  return canonicalJson(statePayload(s)) !== s.publishedPayload;
}

// The `missing` field of a snapshot published now: stage 1 only, sorted, at most MAX_MISSING.
function missingList(s: HostState): string[] {
  return s.processStage === 1 && s.missing.size > 0 ? [...s.missing].sort(compareIds).slice(0, MAX_MISSING) : [];
}

/** Publishes a message upward, to the parent job, as this job's client slot there. */
export function publishUp(s: HostState, ctx: Ctx, effects: Effect[], message: Pick<Message, 'type' | 'payload'>, round: number): void {
  const up = s.upstream!;
  s.seq = nextSeq(s.seq, ctx.now);
  effects.push({
    type: 'publish',
    topic: up.topic,
    message: { v: MESSAGE_VERSION, root: s.tree.rootId, job: up.job, round, seq: s.seq, sender: s.node.host, member: up.asClient, role: 'client', ...message } as Message,
  });
}

/** Sets (or replaces) the deadline of the current stage. */
export function armDeadline(s: HostState, ctx: Ctx, effects: Effect[]): void {
  if (s.deadlineTimer) effects.push({ type: 'cancelTimer', id: s.deadlineTimer });
  s.deadlineTimer = `deadline:${s.round}:${s.processStage}:${s.attempt}`;
  effects.push({ type: 'setTimer', id: s.deadlineTimer, at: ctx.now + s.node.timing.roundDeadlineSeconds * 1000 });
}

/** Clears the deadline of the current stage. */
export function clearDeadline(s: HostState, effects: Effect[]): void {
  if (s.deadlineTimer) effects.push({ type: 'cancelTimer', id: s.deadlineTimer });
  s.deadlineTimer = null;
}

/** Weighted mean of evaluation metrics (by their sample counts). */
export function weightedEval(items: Iterable<EvalMetrics>): EvalMetrics | null {
  let n = 0;
  let loss = 0;
  let acc = 0;
  for (const m of items) {
    n += m.samples;
    loss += m.loss * m.samples;
    acc += m.accuracy * m.samples;
  }
  return n === 0 ? null : { loss: loss / n, accuracy: Math.min(1, acc / n), samples: n };
}

/** A member failure as the host holds it: who, in which role, and the report. */
export interface HeldFailure {
  readonly member: string;
  readonly role: 'client' | 'worker';
  readonly failure: MemberFailure;
}
