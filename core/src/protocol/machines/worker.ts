import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import type { JobSheet } from '../jobSheet.js';
import type { AggregatePayload, BlobRef, Message } from '../messages/index.js';
import type { StepResult } from './host.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import { noiseKeyPair, openNoiseKey, roundNoiseSeed } from '../dp/noiseKey.js';
import {
  acceptHostState,
  noteWrongSheet,
  ackSheetIfAsked,
  armHeartbeat,
  createMemberBase,
  finishMember,
  publishAck,
  publishAsMember,
  publishHeartbeat,
  clearFailure,
  reportFailure,
  setStatus,
  type MemberBase,
} from './member.js';
import { journalWorker } from './memberJournal.js';

// The worker machine: ACK the sheet and the (empty) dataset stage, answer the root's request
// for initial parameters, and aggregate each round's inputs when ProcessStage=2 (step 7).

/** The state of a worker. Owned by `stepWorker`, which may mutate it. */
export interface WorkerState extends MemberBase {
  readonly role: 'worker';
  /** The (round, attempt) being aggregated or done, and the result once known. */
  work: { round: number; attempt: number; inputs: string; result: BlobRef | null } | null;
  /** Initial parameters asked for (step 5): pending, or made. */
  init: { ref: BlobRef | null } | null;
  /**
   * A worker of a DP cluster (§6.14): its X25519 key pair (drawn at start, hex) and the job's
   * noise key once opened from the host's snapshot; null in other clusters.
   */
  dp: { secretKey: string; publicKey: string; noiseKey: string | null; openedFrom: string } | null;
}

/** A worker in its initial state. */
export function createWorkerState(sheet: JobSheet, sheetHash?: string): WorkerState {
  if (sheet.role !== 'worker') throw new Error(`createWorkerState needs a worker sheet, got ${sheet.role}`);
  return { ...createMemberBase(sheet, sheetHash), role: 'worker', work: null, init: null, dp: null };
}

/** Steps a worker. Takes ownership of `s`. */
export function stepWorker(s: WorkerState, input: Input, ctx: Ctx): StepResult<WorkerState> {
  const effects: Effect[] = [];
  if (s.done && !(input.type === 'message' && input.message.type === 'state')) return { state: s, effects };
  switch (input.type) {
    case 'start':
      if (s.sheet.privacy && !s.dp) s.dp = { ...noiseKeyPair(ctx.secretBytes(32)), noiseKey: null, openedFrom: '' };
      armHeartbeat(s, ctx, effects);
      publishHeartbeat(s, 'worker', ctx, effects, s.dp?.publicKey);
      break;
    case 'timer':
      if (input.id === 'hb') onHeartbeatTimer(s, ctx, effects);
      break;
    case 'message':
      onMessage(s, input.message, ctx, effects);
      break;
    case 'initialized':
      if (input.job !== s.job || !s.init || s.init.ref) break;
      s.init.ref = input.ref;
      journalWorker(s, effects);
      publishInit(s, ctx, effects);
      break;
    case 'aggregated': {
      const w = s.work;
      if (input.job !== s.job || !w || w.round !== input.round || w.attempt !== input.attempt || w.result) break;
      w.result = input.ref;
      clearFailure(s, 'aggregate');
      setStatus(s, 4);
      // Durable before it is voted (§6.15): a restarted worker votes this very aggregate again.
      journalWorker(s, effects);
      publishAggregate(s, ctx, effects);
      break;
    }
    case 'taskFailed':
      if (input.job !== s.job) break;
      if (input.task === 'initParams') s.init = null; // asked again if still wanted
      if (input.task === 'aggregate' && s.work?.round === input.round && !s.work.result) s.work = null;
      reportFailure(s, 'worker', input.task === 'initParams' ? 'init' : input.task, input.round, input.reason, ctx, effects);
      break;
    default:
      break;
  }
  return { state: s, effects };
}

function onMessage(s: WorkerState, msg: Message, ctx: Ctx, effects: Effect[]): void {
  if (msg.type !== 'state' || !acceptHostState(s, msg)) return;
  const p = msg.payload;
  noteWrongSheet(s, 'worker', effects);
  if (p.processStage === 3) {
    finishMember(s, 'worker', ctx, effects);
    return;
  }
  ackSheetIfAsked(s, 'worker', ctx, effects);
  // Step 4: workers hold no training data, so their dataset stage is an immediate ACK.
  if (p.datasetFlag && s.acked === 1) {
    s.acked = 2;
    setStatus(s, 2);
    publishAck(s, 'worker', 2, ctx, effects);
  }
  // Step 5: the root asks this worker for initial parameters.
  if (p.processStage === 0 && p.initFrom?.member === s.member && p.initFrom.role === 'worker' && !s.init) {
    s.init = { ref: null };
    effects.push({ type: 'initParams', job: s.job, model: s.sheet.model, seed: s.sheet.train.seed });
  }
  openNoise(s);
  maybeAggregate(s, ctx, effects);
}

// §6.14: open the noise key the host sealed to this worker (again only if it changed).
function openNoise(s: WorkerState): void {
  const dp = s.dp;
  const noise = s.host?.noise;
  const sealed = noise?.sealed[s.member];
  if (!dp || !noise || sealed === undefined || dp.openedFrom === `${noise.hostKey}:${sealed}`) return;
  dp.openedFrom = `${noise.hostKey}:${sealed}`;
  dp.noiseKey = openNoiseKey(dp.secretKey, noise.hostKey, s.job, s.member, sealed);
}

/** The aggregator of this round: the manifest's, or, in a DP cluster, DP-FedAvg with the round's noise seed (null until the noise key is here). */
function roundAggregator(s: WorkerState, inputsHash: string): AggregatorSpec | null {
  const dp = s.sheet.privacy?.dp;
  if (!dp) return s.sheet.aggregator;
  if (!s.dp?.noiseKey) return null;
  return { kind: 'dp-fedavg', clip: dp.clip, noiseMultiplier: dp.noiseMultiplier, noiseSeed: roundNoiseSeed(s.dp.noiseKey, s.job, s.hostRound, inputsHash) };
}

/** Step 7: aggregate the round's inputs onto its global parameters (status 3). */
function maybeAggregate(s: WorkerState, ctx: Ctx, effects: Effect[]): void {
  const p = s.host!;
  if (p.processStage !== 2 || !p.inputs || !p.global || s.acked < 2) return;
  if (p.excludedWorkers.includes(s.member)) return;
  const w = s.work;
  if (w && (w.round > s.hostRound || (w.round === s.hostRound && w.attempt >= p.attempt))) return;
  if (w && w.round === s.hostRound && w.inputs === p.inputs.hash && w.result) {
    // A retry of the same inputs: our bytes would not change, so vote again at once.
    s.work = { round: s.hostRound, attempt: p.attempt, inputs: p.inputs.hash, result: w.result };
    publishAggregate(s, ctx, effects);
    return;
  }
  // §6.14: without the noise key a DP worker cannot add the cluster's noise; it waits for
  // the snapshot that seals the key to it (its heartbeat carries its public key).
  const aggregator = roundAggregator(s, p.inputs.hash);
  if (!aggregator) return;
  s.work = { round: s.hostRound, attempt: p.attempt, inputs: p.inputs.hash, result: null };
  setStatus(s, 3);
  effects.push({
    type: 'aggregate',
    job: s.job,
    round: s.hostRound,
    attempt: p.attempt,
    inputs: p.inputs,
    base: p.global,
    aggregator,
    model: s.sheet.model,
  });
}

function publishAggregate(s: WorkerState, ctx: Ctx, effects: Effect[]): void {
  const w = s.work!;
  const payload: AggregatePayload = { attempt: w.attempt, inputs: w.inputs, ref: w.result! };
  publishAsMember(s, 'worker', ctx, effects, { type: 'aggregate', payload }, w.round);
}

function publishInit(s: WorkerState, ctx: Ctx, effects: Effect[]): void {
  publishAsMember(s, 'worker', ctx, effects, { type: 'init-params', payload: { ref: s.init!.ref! } }, 0);
}

/** Every heartbeat: alive, plus resend what the host may have lost. */
function onHeartbeatTimer(s: WorkerState, ctx: Ctx, effects: Effect[]): void {
  armHeartbeat(s, ctx, effects);
  publishHeartbeat(s, 'worker', ctx, effects, s.dp?.publicKey);
  const p = s.host;
  if (!p) return;
  if (p.processStage === 0 && p.initFrom?.member === s.member && s.init?.ref) publishInit(s, ctx, effects);
  const w = s.work;
  if (w?.result && p.processStage === 2 && s.hostRound === w.round && p.attempt === w.attempt) publishAggregate(s, ctx, effects);
}
