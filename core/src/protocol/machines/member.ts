import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import { jobSheetHash, type JobSheet } from '../jobSheet.js';
import { MAX_FAILURE_REASON, MESSAGE_VERSION, type BlobRef, type FailureKind, type MemberFailure, type Message, type StateMessage, type StatePayload } from '../messages/index.js';
import { nextSeq } from './hostState.js';

// What clients and workers share: their sheet, their own sequence numbers, the last host
// snapshot they accepted, their status and ACK level, and the heartbeat that carries it.

/** The part of a client's or worker's state common to both roles. */
export interface MemberBase {
  readonly sheet: JobSheet;
  readonly sheetHash: string;
  readonly job: string;
  readonly topic: string;
  readonly member: string;
  seq: number;
  /** Highest host `state` seq accepted, and that snapshot's round and payload. */
  hostSeq: number;
  hostRound: number;
  host: StatePayload | null;
  status: number;
  acked: 0 | 1 | 2;
  refused: boolean;
  samples: number;
  final: BlobRef | null;
  stopReason: string | null;
  /** Whether the host's snapshot has named this member in `wrongSheet` (said once, then again only after it cleared). */
  wrongSheet: boolean;
  /** The work this member last failed to do, sent with every heartbeat until it succeeds (§6.13). */
  failure: MemberFailure | null;
  /** Every status this member went through, in order (for tests and run exports; bounded). */
  trace: number[];
  done: boolean;
}

/** Creates the shared part of a member's state from its job sheet (and the sheet's hash, when known: {@link jobSheetHash}'s). */
export function createMemberBase(sheet: JobSheet, sheetHash = jobSheetHash(sheet)): MemberBase {
  return {
    sheet,
    sheetHash,
    job: sheet.job,
    topic: sheet.topic,
    member: sheet.member,
    seq: 0,
    hostSeq: -1,
    hostRound: 0,
    host: null,
    status: 0,
    acked: 0,
    refused: false,
    samples: 0,
    final: null,
    stopReason: null,
    wrongSheet: false,
    failure: null,
    trace: [0],
    done: false,
  };
}

const TRACE_LIMIT = 4096;

/** Moves to a status, recording it. */
export function setStatus(m: MemberBase, status: number): void {
  if (m.status === status) return;
  m.status = status;
  if (m.trace.length < TRACE_LIMIT) m.trace.push(status);
}

/**
 * Accepts a host snapshot if it is newer: a higher seq and not an older round. Returns false
 * for duplicates and stale snapshots, which the member ignores (the next one supersedes them).
 */
export function acceptHostState(m: MemberBase, msg: StateMessage): boolean {
  if (msg.job !== m.job || msg.member !== m.sheet.host) return false;
  if (msg.seq <= m.hostSeq || msg.round < m.hostRound) return false;
  m.hostSeq = msg.seq;
  m.hostRound = msg.round;
  m.host = msg.payload;
  return true;
}

/**
 * The host did not count this member's ACK because its sheet hash differs from the host's
 * derivation (the snapshot names it in `wrongSheet`). Say so once, with both sides' facts a
 * user needs: the member's sheet hash and the manifest blob the host derives from.
 */
export function noteWrongSheet(m: MemberBase, role: 'client' | 'worker', effects: Effect[]): void {
  const named = m.host?.wrongSheet.includes(m.member) ?? false;
  if (named && !m.wrongSheet) {
    effects.push({ type: 'emitMetric', name: 'sheetMismatch', job: m.job, round: m.hostRound, values: { member: m.member, role, sheetHash: m.sheetHash, hostManifest: m.host!.manifest.hash } });
  }
  m.wrongSheet = named;
}

/** Publishes a message from this member on its job's topic. */
export function publishAsMember(m: MemberBase, role: 'client' | 'worker', ctx: Ctx, effects: Effect[], body: Pick<Message, 'type' | 'payload'>, round: number): void {
  m.seq = nextSeq(m.seq, ctx.now);
  effects.push({
    type: 'publish',
    topic: m.topic,
    message: { v: MESSAGE_VERSION, root: m.sheet.rootId, job: m.job, round, seq: m.seq, sender: m.member, member: m.member, role, ...body } as Message,
  });
}

/** Steps 2/4: ACK a setup stage. */
export function publishAck(m: MemberBase, role: 'client' | 'worker', stage: 1 | 2, ctx: Ctx, effects: Effect[]): void {
  publishAsMember(m, role, ctx, effects, { type: 'ack', payload: { stage, sheetHash: m.sheetHash, refused: stage === 2 && m.refused, samples: m.samples } }, m.hostRound);
}

/** A heartbeat: alive, with status and ACK level (which recovers a lost ACK). */
export function publishHeartbeat(m: MemberBase, role: 'client' | 'worker', ctx: Ctx, effects: Effect[], noiseKey?: string): void {
  publishAsMember(
    m,
    role,
    ctx,
    effects,
    {
      type: 'heartbeat',
      payload: { status: m.status, acked: m.acked, sheetHash: m.sheetHash, refused: m.refused, samples: m.samples, ...(m.failure ? { failure: m.failure } : {}), ...(noiseKey ? { noiseKey } : {}) },
    },
    m.hostRound,
  );
}

/**
 * §6.13: the member could not do some work. It tells its host at once, in a heartbeat that
 * carries the failure (and every heartbeat after, until the work succeeds), so the host can
 * say why a round or the job failed. `attempts` counts failures of the same kind in a row.
 */
export function reportFailure(m: MemberBase, role: 'client' | 'worker', kind: FailureKind, round: number, reason: string, ctx: Ctx, effects: Effect[]): void {
  const attempts = m.failure?.kind === kind ? Math.min(m.failure.attempts + 1, 1_000_000) : 1;
  const text = reason.trim() === '' ? 'unknown error' : reason.trim();
  m.failure = { kind, round, attempts, reason: text.length > MAX_FAILURE_REASON ? `${text.slice(0, MAX_FAILURE_REASON - 1)}…` : text };
  publishHeartbeat(m, role, ctx, effects);
}

/** The work of `kind` succeeded: heartbeats stop carrying its failure. */
export function clearFailure(m: MemberBase, kind: FailureKind): void {
  if (m.failure?.kind === kind) m.failure = null;
}

/** Arms the member's next heartbeat. */
export function armHeartbeat(m: MemberBase, ctx: Ctx, effects: Effect[]): void {
  effects.push({ type: 'setTimer', id: 'hb', at: ctx.now + m.sheet.timing.heartbeatSeconds * 1000 });
}

/** Step 2: the host set the job-sheet flag; ACK the sheet (status 1). */
export function ackSheetIfAsked(m: MemberBase, role: 'client' | 'worker', ctx: Ctx, effects: Effect[]): void {
  if (!m.host?.jobsheetFlag || m.acked >= 1) return;
  m.acked = 1;
  setStatus(m, 1);
  publishAck(m, role, 1, ctx, effects);
}

/**
 * Step 8: the host says the job finished. Record the final parameters, go to status 5, say
 * so once (the host stops republishing when everyone has), and stop.
 */
export function finishMember(m: MemberBase, role: 'client' | 'worker', ctx: Ctx, effects: Effect[]): void {
  const p = m.host!;
  m.final = p.global;
  m.stopReason = p.stopReason;
  setStatus(m, 5);
  publishHeartbeat(m, role, ctx, effects);
  if (!m.done) {
    m.done = true;
    effects.push({ type: 'cancelTimer', id: 'hb' });
    effects.push({ type: 'finished', job: m.job, role, final: p.global, reason: p.stopReason ?? 'finished' });
  }
}
