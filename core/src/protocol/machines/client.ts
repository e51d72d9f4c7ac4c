import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import type { JobSheet } from '../jobSheet.js';
import { isSampled } from '../sampling.js';
import type { BlobRef, EvalMetrics, Message, SubmitPayload } from '../messages/index.js';
import type { StepResult } from './host.js';
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
import { journalClient } from './memberJournal.js';

// The client machine (a peer in a leaf job): ACK the sheet, get consent and data, then per
// round fetch the global parameters, evaluate them on the test split, train, and submit.

/** A round of work in progress. */
export interface ClientWork {
  readonly round: number;
  readonly global: BlobRef;
  phase: 'fetching' | 'working' | 'submitted';
  trained: { ref: BlobRef; samples: number; loss: number; accuracy: number } | null;
  evaluated: EvalMetrics | null;
  submit: SubmitPayload | null;
  /** When the submission was last resent because the host named it missing (§6.12). */
  resentAt: number | null;
  /** Restored from the journal: resent once while the host still trains its round (§6.15). */
  resendOnRestore?: boolean;
}

/** The state of a client. Owned by `stepClient`, which may mutate it. */
export interface ClientState extends MemberBase {
  readonly role: 'client';
  consent: 'unasked' | 'asked' | 'given' | 'refused';
  /** The distributor's index blob for this job, once offered. */
  datasetIndex: BlobRef | null;
  loading: boolean;
  work: ClientWork | null;
  /** Initial parameters asked for (step 5, when no worker could answer): pending, or made. */
  init: { ref: BlobRef | null } | null;
}

/** A client in its initial state (status 0, assigned). */
export function createClientState(sheet: JobSheet, sheetHash?: string): ClientState {
  if (sheet.role !== 'client') throw new Error(`createClientState needs a client sheet, got ${sheet.role}`);
  return { ...createMemberBase(sheet, sheetHash), role: 'client', consent: 'unasked', datasetIndex: null, loading: false, work: null, init: null };
}

/** Steps a client. Takes ownership of `s`. */
export function stepClient(s: ClientState, input: Input, ctx: Ctx): StepResult<ClientState> {
  const effects: Effect[] = [];
  if (s.done && !(input.type === 'message' && input.message.type === 'state')) return { state: s, effects };
  switch (input.type) {
    case 'start':
      armHeartbeat(s, ctx, effects);
      publishHeartbeat(s, 'client', ctx, effects);
      break;
    case 'timer':
      if (input.id === 'hb') onHeartbeatTimer(s, ctx, effects);
      break;
    case 'message':
      onMessage(s, input.message, ctx, effects);
      break;
    case 'consent':
      if (input.job !== s.job || s.consent !== 'asked') break;
      if (input.given) {
        s.consent = 'given';
        journalClient(s, effects);
        loadIfPossible(s, ctx, effects);
      } else {
        // Step 4: a refusal is final for this job; the host stops counting on this client.
        s.consent = 'refused';
        s.refused = true;
        s.acked = 2;
        setStatus(s, 2);
        journalClient(s, effects);
        publishAck(s, 'client', 2, ctx, effects);
      }
      break;
    case 'datasetLoaded':
      if (input.job !== s.job || s.acked >= 2) break;
      s.loading = false;
      clearFailure(s, 'data');
      s.samples = input.samples;
      s.acked = 2;
      setStatus(s, 2);
      publishAck(s, 'client', 2, ctx, effects);
      maybeStartWork(s, ctx, effects);
      break;
    case 'datasetFailed':
      // Retried on the next heartbeat; the host hears why (§6.13).
      if (input.job !== s.job) break;
      s.loading = false;
      reportFailure(s, 'client', 'data', s.hostRound, input.reason, ctx, effects);
      break;
    case 'blobFetched': {
      const w = s.work;
      if (input.job !== s.job || !w || w.phase !== 'fetching' || input.ref.hash !== w.global.hash) break;
      if (!input.ok) break; // refetched on the next heartbeat
      w.phase = 'working';
      // Evaluate the round's global model on the test split, and train from it (step 6); a
      // restored client that had trained does not train again (§6.15).
      if (!w.evaluated) effects.push({ type: 'evaluate', job: s.job, round: w.round, params: w.global, model: s.sheet.model });
      if (!w.trained) effects.push({ type: 'train', job: s.job, round: w.round, global: w.global, model: s.sheet.model, train: s.sheet.train });
      else maybeSubmit(s, ctx, effects);
      break;
    }
    case 'trained':
      if (input.job === s.job && s.work?.round === input.round && s.work.phase === 'working') {
        clearFailure(s, 'train');
        s.work.trained = { ref: input.ref, samples: input.samples, loss: input.loss, accuracy: input.accuracy };
        if (!maybeSubmit(s, ctx, effects)) journalClient(s, effects);
      }
      break;
    case 'evaluated':
      if (input.job === s.job && s.work?.round === input.round && s.work.phase === 'working') {
        s.work.evaluated = { loss: input.loss, accuracy: input.accuracy, samples: input.samples };
        maybeSubmit(s, ctx, effects);
      }
      break;
    case 'initialized':
      if (input.job !== s.job || !s.init || s.init.ref) break;
      s.init.ref = input.ref;
      publishAsMember(s, 'client', ctx, effects, { type: 'init-params', payload: { ref: input.ref } }, 0);
      break;
    case 'taskFailed':
      if (input.job !== s.job) break;
      if (input.task === 'initParams') s.init = null;
      // The client becomes a straggler for this round; the deadline and quorum cover it, and
      // the host hears why (§6.13).
      if (s.work?.round === input.round && s.work.phase === 'working') s.work = null;
      reportFailure(s, 'client', input.task === 'initParams' ? 'init' : input.task, input.round, input.reason, ctx, effects);
      break;
    default:
      break;
  }
  return { state: s, effects };
}

function onMessage(s: ClientState, msg: Message, ctx: Ctx, effects: Effect[]): void {
  if (msg.type === 'dataset-offer') {
    // A failure report is for the root host, which ends the job (§5.4); the stage-3 state follows.
    if (msg.job !== s.job || msg.member !== s.sheet.dataset.distributor || 'error' in msg.payload) return;
    if (!s.datasetIndex || s.datasetIndex.hash !== msg.payload.index.hash) s.datasetIndex = msg.payload.index;
    loadIfPossible(s, ctx, effects);
    return;
  }
  if (msg.type !== 'state' || !acceptHostState(s, msg)) return;
  const p = msg.payload;
  noteWrongSheet(s, 'client', effects);
  if (p.processStage === 3) {
    finishMember(s, 'client', ctx, effects);
    return;
  }
  ackSheetIfAsked(s, 'client', ctx, effects);
  // Step 4: the dataset flag reached this job; ask the data owner first.
  if (p.datasetFlag && s.acked === 1 && s.consent === 'unasked') {
    s.consent = 'asked';
    effects.push({ type: 'askConsent', job: s.job, dataset: s.sheet.dataset.source });
    requestOfferWhileAsking(s, ctx, effects);
  } else if (p.datasetFlag) {
    // A restored client's owner decided already (§6.15): load at once.
    loadIfPossible(s, ctx, effects);
  }
  // Step 5: the root asks this client for initial parameters (only when no worker answered).
  if (p.processStage === 0 && p.initFrom?.member === s.member && p.initFrom.role === 'client' && !s.init) {
    s.init = { ref: null };
    effects.push({ type: 'initParams', job: s.job, model: s.sheet.model, seed: s.sheet.train.seed });
  }
  maybeStartWork(s, ctx, effects);
  resendRestored(s, ctx, effects);
  idleIfOtherRound(s);
  resendIfMissing(s, ctx, effects);
}

// §6.15: a client restored with a submitted update sends it again, once, if the host still
// trains that round (it drops a duplicate); the update is the same blob, not a new training.
function resendRestored(s: ClientState, ctx: Ctx, effects: Effect[]): void {
  const w = s.work;
  const p = s.host;
  if (!w?.resendOnRestore || !p || s.hostRound < w.round) return;
  w.resendOnRestore = false;
  if (p.processStage !== 1 || s.hostRound !== w.round) return;
  w.resentAt = ctx.now;
  publishAsMember(s, 'client', ctx, effects, { type: 'submit', payload: w.submit! }, w.round);
}

// §5.2: status 3 (busy) and 4 (submitted) speak of the round in the envelope, which is the
// host's newest. A client whose work is for an older round (not sampled this round, or a
// straggler whose round closed) is back at status 2, so its heartbeat never claims a
// submission for a round it did not train in.
function idleIfOtherRound(s: ClientState): void {
  if (s.work && s.work.round < s.hostRound && (s.status === 3 || s.status === 4)) setStatus(s, s.acked);
}

// While the owner is being asked, ask for the distributor's index (its hashes and sizes, no
// data), so the owner is told how much would be downloaded; the chunk itself is fetched only
// after consent. Repeated each heartbeat: the distributor answers at most once per heartbeat.
function requestOfferWhileAsking(s: ClientState, ctx: Ctx, effects: Effect[]): void {
  if (s.consent === 'asked' && s.sheet.dataset.distributor !== undefined && !s.datasetIndex) publishAsMember(s, 'client', ctx, effects, { type: 'dataset-request', payload: {} }, s.hostRound);
}

function loadIfPossible(s: ClientState, ctx: Ctx, effects: Effect[]): void {
  // After the sheet's ACK (a restored client knows its owner's consent before that).
  if (s.consent !== 'given' || s.loading || s.acked !== 1) return;
  const d = s.sheet.dataset;
  if (d.distributor !== undefined) {
    if (!s.datasetIndex) {
      publishAsMember(s, 'client', ctx, effects, { type: 'dataset-request', payload: {} }, s.hostRound);
      return;
    }
    s.loading = true;
    effects.push({ type: 'loadDataset', job: s.job, source: { kind: 'distributor', index: s.datasetIndex, member: s.member, from: d.distributor } });
    return;
  }
  s.loading = true;
  effects.push({ type: 'loadDataset', job: s.job, source: { kind: 'local', dataset: d.source, partition: d.partition, seed: d.seed, shard: d.shard! } });
}

/** Step 6: the host trains this round and sampled us; fetch its global parameters (status 3). */
function maybeStartWork(s: ClientState, _ctx: Ctx, effects: Effect[]): void {
  const p = s.host;
  if (!p || p.processStage !== 1 || !p.global || !p.sample || s.acked < 2 || s.refused) return;
  if (s.work && s.work.round >= s.hostRound) return; // already on it
  if (!isSampled(p.sample, s.member)) return;
  s.work = { round: s.hostRound, global: p.global, phase: 'fetching', trained: null, evaluated: null, submit: null, resentAt: null };
  setStatus(s, 3);
  effects.push({ type: 'fetchBlob', job: s.job, ref: p.global, from: s.sheet.host, purpose: 'global' });
}

/** Submits once trained and evaluated; returns whether it did. */
function maybeSubmit(s: ClientState, ctx: Ctx, effects: Effect[]): boolean {
  const w = s.work!;
  if (!w.trained || !w.evaluated) return false;
  w.phase = 'submitted';
  w.submit = {
    ref: w.trained.ref,
    base: w.global.hash,
    samples: Math.max(1, w.trained.samples),
    eval: w.evaluated,
    train: { loss: w.trained.loss, accuracy: Math.min(1, w.trained.accuracy) },
  };
  // Status 4 speaks of the host's current round (§5.2); a straggler's late submission does not claim it.
  setStatus(s, w.round === s.hostRound ? 4 : s.acked);
  // Durable before it is announced (§6.15): a restarted client resends this very update.
  journalClient(s, effects);
  publishAsMember(s, 'client', ctx, effects, { type: 'submit', payload: w.submit }, w.round);
  return true;
}

/** Every heartbeat: say we are alive, and retry whatever may have been lost. */
function onHeartbeatTimer(s: ClientState, ctx: Ctx, effects: Effect[]): void {
  armHeartbeat(s, ctx, effects);
  publishHeartbeat(s, 'client', ctx, effects);
  requestOfferWhileAsking(s, ctx, effects);
  loadIfPossible(s, ctx, effects);
  const w = s.work;
  const p = s.host;
  if (p?.processStage === 0 && p.initFrom?.member === s.member && s.init?.ref) {
    publishAsMember(s, 'client', ctx, effects, { type: 'init-params', payload: { ref: s.init.ref } }, 0);
  }
  if (!w || !p || p.processStage !== 1 || s.hostRound !== w.round) return;
  // The host is still collecting this round: our fetch may have failed. A lost submission is
  // resent only when the host names us as missing (resendIfMissing).
  if (w.phase === 'fetching' && s.acked >= 2) effects.push({ type: 'fetchBlob', job: s.job, ref: w.global, from: s.sheet.host, purpose: 'global' });
}

/**
 * §6.12: the host's snapshot names this client as missing: our heartbeat said we submitted,
 * but the submission never arrived. Resend it, at most once per heartbeat interval (snapshots
 * can follow each other quickly, and the next one may still predate the resend's arrival).
 */
function resendIfMissing(s: ClientState, ctx: Ctx, effects: Effect[]): void {
  const w = s.work;
  const p = s.host;
  if (!w || !p || w.phase !== 'submitted' || p.processStage !== 1 || s.hostRound !== w.round || !p.missing.includes(s.member)) return;
  if (w.resentAt !== null && ctx.now - w.resentAt < s.sheet.timing.heartbeatSeconds * 1000) return;
  w.resentAt = ctx.now;
  publishAsMember(s, 'client', ctx, effects, { type: 'submit', payload: w.submit! }, w.round);
}
