import { noteWorkerNoiseKey } from './hostDp.js';
import type { Ctx } from '../ctx.js';
import { derivedSheetHash } from '../jobSheet.js';
import type { Effect } from '../effects.js';
import type { AckMessage, HeartbeatMessage, InitParamsMessage } from '../messages/index.js';
import {
  eligible,
  expectedSheetHash,
  groupReached,
  publishIfChanged,
  publishState,
  publishUp,
  raiseAck,
  touch,
  type HostState,
  type MemberGroup,
  type MemberRecord,
} from './hostState.js';
import { finishJob, startRound } from './hostRound.js';
import { DATA_FAILURES_TO_END, noteFailure, upwardFailure, withFailures } from './hostFailures.js';

// The setup half of a host (steps 1-5): job-sheet and dataset ACKs bubbling up from the
// grass level, the dataset flag pushed down from the root, and the root's request for
// initial parameters.

/** The group and record a message's `(role, member)` names, if it is one of this job's. */
export function recordOf(s: HostState, role: string, member: string): { group: MemberGroup; rec: MemberRecord; role: 'client' | 'worker' } | undefined {
  if (role === 'client') {
    const rec = s.clients.records.get(member);
    return rec ? { group: s.clients, rec, role } : undefined;
  }
  if (role === 'worker') {
    const rec = s.workers.records.get(member);
    return rec ? { group: s.workers, rec, role } : undefined;
  }
  return undefined;
}

/** Steps 2 and 4: an ACK, or a heartbeat that carries one (which recovers a lost ACK). */
export function onAckOrHeartbeat(s: HostState, msg: AckMessage | HeartbeatMessage, ctx: Ctx, effects: Effect[]): void {
  const found = recordOf(s, msg.role, msg.member);
  if (!found) return;
  const { group, rec, role } = found;
  if (touch(group, rec, ctx.now)) {
    effects.push({ type: 'emitMetric', name: 'memberOnline', job: s.job, round: s.round, values: { member: rec.id, role } });
  }
  const level = msg.type === 'ack' ? msg.payload.stage : (msg.payload.acked as 0 | 1 | 2);
  if (msg.type === 'heartbeat') {
    rec.status = msg.payload.status;
    if (role === 'client') noteClaimedSubmission(s, msg);
    else noteWorkerNoiseKey(s, rec.id, msg.payload.noiseKey);
    noteFailure(s, msg, rec.id, role);
    if (endsBehind(s, msg, rec.id, role)) {
      // §6.8: this root host restored an older state than it had published (its newer
      // checkpoints were lost): members ignore its snapshots of an earlier round, so the job
      // would stall. It ends the job, in the round its workers saw, with the reason.
      const lost = s.round;
      s.round = aheadRound(s);
      finishJob(s, s.global, `failed: the root host restarted without its state of round ${s.round} (it could restore only ${lost === 0 ? 'nothing' : `round ${lost}`}, its newer checkpoints were lost or corrupt); the job cannot resume`, ctx, effects);
      return;
    }
    if (endsSetup(s, msg)) {
      // §6.13: a member that cannot load its data will not ACK stage 2, and setup has no
      // deadline: rather than wait forever, the root ends the job with the members' reasons.
      finishJob(s, s.global, withFailures(s, 'failed: setup: a member could not load its data'), ctx, effects);
      return;
    }
  } else rec.status = Math.max(rec.status, level);
  if (level <= rec.acked) return;
  // A member working from another manifest (or another sheet) must not count toward a stage.
  // It is told so in the snapshot's `wrongSheet`, and the host says why it did not count it.
  const expected = expectedSheetHash(s, role, rec);
  if (msg.payload.sheetHash !== expected) {
    if (!s.wrongSheet.has(rec.id)) {
      s.wrongSheet.add(rec.id);
      effects.push({ type: 'emitMetric', name: 'sheetRejected', job: s.job, round: s.round, values: { member: rec.id, role, got: msg.payload.sheetHash, expected } });
      publishState(s, ctx, effects);
    }
    return;
  }
  const cleared = s.wrongSheet.delete(rec.id);
  if (level === 2) {
    rec.refused = msg.payload.refused;
    rec.samples = msg.payload.samples;
  }
  raiseAck(group, rec, level);
  advanceSetup(s, ctx, effects);
  if (cleared) publishIfChanged(s, ctx, effects);
}

// The root hears more than half of its workers, or of its clients, report in their
// heartbeats' envelope round a round of this job later than its own: they have seen
// snapshots it no longer has. (Either group: a host may be its job's only worker, and then
// its worker restarted with it.)
function endsBehind(s: HostState, msg: HeartbeatMessage, member: string, role: 'client' | 'worker'): boolean {
  if (s.upstream !== null || s.processStage === 3 || s.done) return false;
  const ahead = role === 'worker' ? s.workersAhead : s.clientsAhead;
  if (msg.round > s.round) ahead.set(member, msg.round);
  else ahead.delete(member);
  return ahead.size > (role === 'worker' ? s.node.workers.length : s.node.clients.length) / 2;
}

// The latest round a majority of the group that tipped it reports having seen.
function aheadRound(s: HostState): number {
  const workers = s.workersAhead.size > s.node.workers.length / 2;
  const group = workers ? s.workersAhead : s.clientsAhead;
  const n = workers ? s.node.workers.length : s.node.clients.length;
  const rounds = [...group.values()].sort((a, b) => b - a);
  return rounds[Math.floor(n / 2)] ?? rounds.at(-1) ?? s.round;
}

// The root, still in setup, hears a data failure repeated DATA_FAILURES_TO_END times in a row
// (from a client, or from a sub-job reporting one of its members').
function endsSetup(s: HostState, msg: HeartbeatMessage): boolean {
  const f = msg.payload.failure;
  return s.upstream === null && s.processStage === 0 && !s.done && f?.kind === 'data' && f.attempts >= DATA_FAILURES_TO_END;
}

/**
 * §6.12: a sampled client whose heartbeat for this training round says it submitted (status
 * 4), but whose submission is not here, lost it on the way; the next snapshot names it in
 * `missing` and it resends. Any other heartbeat for the round takes the name off again.
 */
function noteClaimedSubmission(s: HostState, msg: HeartbeatMessage): void {
  if (s.processStage !== 1 || msg.round !== s.round) return;
  if (msg.payload.status === 4 && s.sampled.has(msg.member) && !s.submissions.has(msg.member)) s.missing.add(msg.member);
  else s.missing.delete(msg.member);
}

/**
 * Re-evaluates the setup stages after any change: (1,1) → ACK upward or, at the root, set
 * the dataset flag (step 3); (2,2) → ACK upward or, at the root, ask for initial parameters (step 5).
 */
export function advanceSetup(s: HostState, ctx: Ctx, effects: Effect[]): void {
  if (s.processStage === 3 || s.done) return;
  let changed = false;
  const raise = (group: 'clientStage' | 'workerStage', k: 1 | 2, reached: boolean) => {
    if (s[group] < k && reached) {
      s[group] = k;
      changed = true;
    }
  };
  raise('clientStage', 1, groupReached(s.clients, 1));
  raise('workerStage', 1, groupReached(s.workers, 1));
  // Step 3: the root sets the dataset flag at (1,1); a secondary job takes it from its parent.
  if (s.clientStage >= 1 && s.workerStage >= 1 && !s.datasetFlag && (!s.upstream || s.upstream.datasetFlag)) {
    s.datasetFlag = true;
    changed = true;
  }
  if (s.datasetFlag) {
    raise('clientStage', 2, groupReached(s.clients, 2));
    raise('workerStage', 2, groupReached(s.workers, 2));
  }
  if (s.upstream) ackUpward(s, ctx, effects);
  else if (s.clientStage >= 2 && s.workerStage >= 2 && s.round === 0 && s.processStage === 0 && !s.initFrom) {
    if (eligible(s.clients).length === 0) {
      finishForNoClients(s, ctx, effects);
      return;
    }
    askInitialParameters(s, ctx, effects);
    // With no candidate online yet, the next ACK or heartbeat tick asks again.
    if (s.initFrom) changed = true;
  }
  if (changed) publishState(s, ctx, effects);
}

/** Step 2/4 for a secondary job: once (1,1) or (2,2) holds, ACK the parent as one client. */
export function ackUpward(s: HostState, ctx: Ctx, effects: Effect[]): void {
  const up = s.upstream!;
  const level: 0 | 1 | 2 = s.clientStage >= 2 && s.workerStage >= 2 ? 2 : s.clientStage >= 1 && s.workerStage >= 1 ? 1 : 0;
  if (level <= up.acked) return;
  up.acked = level;
  const samples = sumSamples(s);
  publishUp(s, ctx, effects, { type: 'ack', payload: { stage: level as 1 | 2, sheetHash: sheetHashOf(s), refused: level === 2 && samples === 0, samples } }, up.round);
}

/** The upward heartbeat of a secondary job: its status as a client, carrying its ACK level. */
export function heartbeatUpward(s: HostState, ctx: Ctx, effects: Effect[]): void {
  const up = s.upstream!;
  const status = s.processStage === 3 ? 5 : up.pending && up.pending.round === up.round ? 4 : s.processStage === 1 || s.processStage === 2 ? 3 : up.acked;
  const samples = sumSamples(s);
  // §6.13: a sub-job passes its members' worst failure up, so the root can name it.
  const failure = upwardFailure(s, up.round);
  publishUp(s, ctx, effects, { type: 'heartbeat', payload: { status, acked: up.acked, sheetHash: sheetHashOf(s), refused: up.acked === 2 && samples === 0, samples, ...(failure ? { failure } : {}) } }, up.round);
}

export function sheetHashOf(s: HostState): string {
  // The parent derives this same sheet for its sub-job client, so the hashes agree.
  return derivedSheetHash(s.tree, s.job, 'host', s.node.host);
}

/** Training samples of the consenting clients underneath (a sub-job's weight in its parent). */
export function sumSamples(s: HostState): number {
  let n = 0;
  for (const r of s.clients.records.values()) if (r.acked === 2 && !r.refused) n += r.samples;
  return n;
}

/** Step 5 (root): ask one member for initial parameters, workers first, in id order. */
export function askInitialParameters(s: HostState, ctx: Ctx, effects: Effect[]): void {
  const candidates: { member: string; role: 'worker' | 'client' }[] = [
    ...eligible(s.workers, s.excluded).map((member) => ({ member, role: 'worker' as const })),
    ...(s.node.leaf ? eligible(s.clients).map((member) => ({ member, role: 'client' as const })) : []),
  ];
  if (candidates.length === 0) {
    s.initFrom = null;
    return;
  }
  s.initFrom = candidates[s.initTries % candidates.length]!;
  s.initTries++;
  // A silent candidate is replaced by the next one after a few heartbeats.
  effects.push({ type: 'setTimer', id: 'init', at: ctx.now + 3 * s.node.timing.heartbeatSeconds * 1000 });
}

/** Step 5 (root): the asked member's parameters become the global ones; round 1 starts. */
export function onInitParams(s: HostState, msg: InitParamsMessage, ctx: Ctx, effects: Effect[]): void {
  if (s.upstream || s.processStage !== 0 || s.round !== 0 || !s.initFrom) return;
  if (msg.member !== s.initFrom.member || msg.role !== s.initFrom.role) return;
  effects.push({ type: 'cancelTimer', id: 'init' });
  s.initFrom = null;
  s.global = msg.payload.ref;
  startRound(s, ctx, effects);
}

function finishForNoClients(s: HostState, ctx: Ctx, effects: Effect[]): void {
  let refused = 0;
  let offline = 0;
  for (const r of s.clients.records.values()) {
    if (r.refused) refused++;
    else if (r.offline) offline++;
  }
  finishJob(s, null, `no client can train: ${refused} refused consent to use their data, ${offline} offline`, ctx, effects);
}
