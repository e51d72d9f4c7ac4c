import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import { isSampled } from '../sampling.js';
import type { DatasetOfferMessage, StateMessage } from '../messages/index.js';
import { FINISHED_LINGER_BEATS, OFFLINE_AFTER_BEATS, manifestBlob, markOffline, publishState, publishUp, republishIfQuiet, type HostState } from './hostState.js';
import { advanceSetup, askInitialParameters, heartbeatUpward, onAckOrHeartbeat, onInitParams, sheetHashOf } from './hostSetup.js';
import { drawDpKeys } from './hostDp.js';
import { allSampledIn, closeTraining, finishJob, onAggregate, onDeadline, onSubmit, persist, startRound } from './hostRound.js';

// The host machine: one per job, primary (the root) or secondary. It keeps the job's state,
// drives its stages and, for a secondary job, acts as one client of the parent job.

/** What one step returns: the state to use next and the effects to carry out, in order. */
export interface StepResult<S> {
  readonly state: S;
  readonly effects: Effect[];
}

/** Steps a host. Takes ownership of `s` (it is mutated and returned); see hostState.ts. */
export function stepHost(s: HostState, input: Input, ctx: Ctx): StepResult<HostState> {
  const effects: Effect[] = [];
  if (s.done) return { state: s, effects };
  switch (input.type) {
    case 'start':
      onStart(s, ctx, effects);
      break;
    case 'timer':
      if (input.id === 'hb') onHeartbeatTimer(s, ctx, effects);
      else if (input.id === 'init') onInitTimer(s, ctx, effects);
      else onDeadline(s, input.id, ctx, effects);
      break;
    case 'message': {
      const msg = input.message;
      if (msg.type === 'state') {
        if (s.upstream && msg.job === s.upstream.job) onParentState(s, msg, ctx, effects);
        break;
      }
      if (msg.job !== s.job || (s.processStage === 3 && (msg.type === 'submit' || msg.type === 'init-params'))) break;
      if (msg.type === 'ack' || msg.type === 'heartbeat') onAckOrHeartbeat(s, msg, ctx, effects);
      else if (msg.type === 'init-params') onInitParams(s, msg, ctx, effects);
      else if (msg.type === 'submit') onSubmit(s, msg, ctx, effects);
      else if (msg.type === 'aggregate') onAggregate(s, msg, ctx, effects);
      else if (msg.type === 'dataset-offer') onDatasetOffer(s, msg, ctx, effects);
      // dataset-request is between clients and the distributor.
      break;
    }
    default:
      // Hosts ask for no local work: every other input is for another role.
      break;
  }
  return { state: s, effects: durableFirst(effects) };
}

// Durable before visible (§6.8): the checkpoint of the new state comes before anything the
// step publishes, so a shell that carries out effects in order and dies between two of
// them never restores a host that re-announces a round it already closed.
function durableFirst(effects: Effect[]): Effect[] {
  const i = effects.findIndex((e) => e.type === 'persist');
  if (i <= 0) return effects;
  return [...effects.filter((e) => e.type === 'persist'), ...effects.filter((e) => e.type !== 'persist')];
}

/** Step 1 (or a restore): set the job-sheet flag, serve the manifest, arm timers, publish. */
function onStart(s: HostState, ctx: Ctx, effects: Effect[]): void {
  drawDpKeys(s, ctx);
  const blob = manifestBlob(s.tree);
  effects.push({ type: 'storeBlob', ref: blob.ref, value: blob.value });
  s.jobsheetFlag = true;
  effects.push({ type: 'setTimer', id: 'hb', at: ctx.now + s.node.timing.heartbeatSeconds * 1000 });
  if (s.deadlineTimer) {
    // Restored mid-stage: the deadline restarts in full, since we cannot know how long we were down.
    effects.push({ type: 'setTimer', id: s.deadlineTimer, at: ctx.now + s.node.timing.roundDeadlineSeconds * 1000 });
  }
  if (s.initFrom) effects.push({ type: 'setTimer', id: 'init', at: ctx.now + 3 * s.node.timing.heartbeatSeconds * 1000 });
  publishState(s, ctx, effects);
  if (s.upstream) heartbeatUpward(s, ctx, effects);
  advanceSetup(s, ctx, effects);
  persist(s, effects);
}

/**
 * Every heartbeat interval: republish the full snapshot unless one just went out (so a lost one is recovered), mark
 * silent members offline, heartbeat upward, and checkpoint.
 */
function onHeartbeatTimer(s: HostState, ctx: Ctx, effects: Effect[]): void {
  const beatMs = s.node.timing.heartbeatSeconds * 1000;
  if (s.processStage === 3) {
    s.finishedBeats++;
    publishState(s, ctx, effects);
    if (s.upstream) heartbeatUpward(s, ctx, effects);
    if (everyoneFinished(s) || s.finishedBeats >= FINISHED_LINGER_BEATS) {
      s.done = true;
      effects.push({ type: 'finished', job: s.job, role: 'host', final: s.global, reason: s.stopReason ?? 'finished' });
      persist(s, effects);
      return;
    }
    effects.push({ type: 'setTimer', id: 'hb', at: ctx.now + beatMs });
    return;
  }
  effects.push({ type: 'setTimer', id: 'hb', at: ctx.now + beatMs });
  const silentSince = ctx.now - OFFLINE_AFTER_BEATS * beatMs;
  for (const [group, role] of [[s.clients, 'client'], [s.workers, 'worker']] as const) {
    for (const rec of group.records.values()) {
      if (rec.offline || rec.lastSeen >= silentSince) continue;
      markOffline(group, rec);
      effects.push({ type: 'emitMetric', name: 'memberOffline', job: s.job, round: s.round, values: { member: rec.id, role } });
    }
  }
  republishIfQuiet(s, ctx, effects);
  advanceSetup(s, ctx, effects);
  if (s.processStage === 1 && allSampledIn(s)) closeTraining(s, ctx, effects);
  const up = s.upstream;
  if (up) {
    heartbeatUpward(s, ctx, effects);
  }
  persist(s, effects);
}

function everyoneFinished(s: HostState): boolean {
  for (const g of [s.clients, s.workers]) for (const r of g.records.values()) if (!r.offline && r.status < 5) return false;
  return true;
}

/**
 * §5.4: the distributor could not prepare the dataset, so no client can get data. The root
 * ends the job during setup with the distributor's reason; stage 3 then reaches everyone.
 */
function onDatasetOffer(s: HostState, msg: DatasetOfferMessage, ctx: Ctx, effects: Effect[]): void {
  if (s.upstream || !('error' in msg.payload) || s.round !== 0 || s.processStage !== 0) return;
  if (msg.member !== s.tree.distributor) return;
  finishJob(s, null, `dataset unavailable: ${msg.payload.error}`, ctx, effects);
}

/** Step 5: the asked member stayed silent; ask the next candidate. */
function onInitTimer(s: HostState, ctx: Ctx, effects: Effect[]): void {
  if (!s.initFrom || s.processStage !== 0) return;
  askInitialParameters(s, ctx, effects);
  publishState(s, ctx, effects);
}

/**
 * A secondary host hears its parent's snapshot: take the dataset flag (step 3), start local
 * rounds when the parent trains and samples this job (step 6), or finish (step 8).
 */
function onParentState(s: HostState, msg: StateMessage, ctx: Ctx, effects: Effect[]): void {
  const up = s.upstream!;
  if (msg.seq <= up.lastSeq || msg.round < up.round) return; // stale or duplicate snapshot
  up.lastSeq = msg.seq;
  up.round = msg.round;
  up.stage = msg.payload.processStage;
  up.datasetFlag = msg.payload.datasetFlag;
  up.global = msg.payload.global;
  const p = msg.payload;
  const wrongSheet = p.wrongSheet.includes(up.asClient);
  if (wrongSheet && !up.wrongSheet) {
    effects.push({ type: 'emitMetric', name: 'sheetMismatch', job: up.job, round: msg.round, values: { member: up.asClient, role: 'client', sheetHash: sheetHashOf(s), hostManifest: p.manifest.hash } });
  }
  up.wrongSheet = wrongSheet;
  if (p.processStage === 3) {
    if (s.processStage !== 3) finishJob(s, p.global, `parent ${up.job}: ${p.stopReason ?? 'finished'}`, ctx, effects);
    return;
  }
  if (p.datasetFlag && !s.datasetFlag) advanceSetup(s, ctx, effects);
  if (p.processStage === 1 && up.pending?.round === msg.round && p.missing.includes(up.asClient)) {
    // §6.12: our heartbeat said we submitted, but the parent does not hold the submission.
    const { round, ...payload } = up.pending;
    publishUp(s, ctx, effects, { type: 'submit', payload }, round);
  }
  // §6.6: a round this job failed (stage 0 again, for the parent's current round) is tried
  // anew when the parent retries that round and samples this job again; otherwise the
  // parent's retries would wait for a job that waits for the parent's next round.
  const retry = msg.round === s.parentRound && s.processStage === 0 && p.attempt > s.parentAttempt;
  if (
    p.processStage === 1 &&
    (msg.round > s.parentRound || retry) &&
    p.global &&
    p.sample &&
    up.acked === 2 &&
    isSampled(p.sample, up.asClient)
  ) {
    // A new parent round preempts whatever this job was still doing for an older one.
    s.parentRound = msg.round;
    s.parentAttempt = p.attempt;
    s.parentGlobal = p.global;
    s.global = p.global;
    s.localRound = 0;
    s.firstEval = null;
    up.pending = null;
    startRound(s, ctx, effects);
  }
}
