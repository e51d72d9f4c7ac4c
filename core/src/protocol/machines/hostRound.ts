import { compareIds } from '../jobTree.js';
import type { Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import { decideConsensus } from '../consensus.js';
import { drawSample, sampleSize, sequentialPick } from '../sampling.js';
import type { AggregateMessage, BlobRef, SubmitMessage } from '../messages/index.js';
import {
  MAX_ATTEMPTS,
  armDeadline,
  clearDeadline,
  eligible,
  jsonBlobRef,
  publishIfChanged,
  publishState,
  publishUp,
  touch,
  weightedEval,
  type HostState,
} from './hostState.js';
import { budgetStop, epsilonAfter } from './hostDp.js';
import { checkpointHost } from './hostCheckpoint.js';
import { MAX_STOP_REASON, clip, withFailures } from './hostFailures.js';

// The round half of a host (steps 5-8): ProcessStage 1 (train) and 2 (aggregate),
// deadlines with a quorum, consensus over the workers' aggregate hashes, then either the
// root's stop check or a secondary job's submission upward.

/** One entry of a round's `inputs` blob, the list workers aggregate. */
export interface InputEntry {
  readonly client: string;
  readonly ref: BlobRef;
  readonly samples: number;
}

/** Persists the host's checkpoint (after every stage change, and on heartbeats). */
export function persist(s: HostState, effects: Effect[]): void {
  effects.push({ type: 'persist', job: s.job, checkpoint: checkpointHost(s) });
}

/** Steps 5-6: starts the next round (or local round) from `s.global`: ProcessStage=1. */
export function startRound(s: HostState, ctx: Ctx, effects: Effect[]): void {
  s.round++;
  s.attempt = 0;
  s.stopReason = null; // a secondary job's reason its last round failed (§6.6) is history now
  if (s.upstream) s.localRound++;
  s.processStage = 1;
  s.submissions = new Map();
  s.missing = new Set();
  s.votes = new Map();
  s.inputs = null;
  s.inputCount = 0;
  s.inputSamples = 0;
  drawRoundSample(s, ctx);
  // §6.14: a DP cluster runs no round that would take its clients past the budget.
  const overBudget = budgetStop(s);
  if (overBudget) {
    s.round--;
    if (s.upstream) {
      s.localRound--;
      failRound(s, overBudget, ctx, effects);
    } else finishJob(s, s.global, overBudget, ctx, effects);
    return;
  }
  armDeadline(s, ctx, effects);
  publishState(s, ctx, effects);
  persist(s, effects);
}

function drawRoundSample(s: HostState, ctx: Ctx): void {
  const pool = eligible(s.clients);
  if (s.node.timing.distribution === 'sequential') {
    // §6.3, sequential: one client per round, its turn by the round's place in the cycle
    // (the root's round, a secondary job's local round); a retry moves the turn on.
    const position = (s.upstream ? s.localRound : s.round) - 1 + s.attempt;
    const pick = sequentialPick(s.node.order, new Set(pool), position);
    if (s.dp) s.dp.rate = 1; // a turn, not a random sample: no amplification by sampling
    s.sample = { seed: 0, threshold: 0, ...(pick === undefined ? {} : { only: pick }) };
    s.sampled = new Set(pick === undefined ? [] : [pick]);
    for (const c of s.submissions.keys()) s.sampled.add(c);
    return;
  }
  const k = sampleSize(pool.length, s.node.timing.sampleFraction);
  const { rule, sampled } = drawSample(pool, k, ctx.rng.int(0x7fffffff));
  if (s.dp) s.dp.rate = pool.length === 0 ? 1 : Math.min(1, k / pool.length);
  s.sample = rule;
  // Submissions already accepted this round stay valid: they trained from the same global.
  for (const c of s.submissions.keys()) sampled.add(c);
  s.sampled = sampled;
}

/** Votes the round needs: the quorum fraction of the sampled clients, at least one. */
export function quorumNeeded(s: HostState): number {
  return Math.max(1, Math.ceil(s.node.timing.quorum * s.sampled.size - 1e-9));
}

/** Step 6: a client's submission. Accepted once, only for the current round's training stage. */
export function onSubmit(s: HostState, msg: SubmitMessage, ctx: Ctx, effects: Effect[]): void {
  const rec = s.clients.records.get(msg.member);
  if (!rec) return;
  touch(s.clients, rec, ctx.now);
  rec.status = 4;
  if (s.processStage !== 1 || msg.round !== s.round) return; // late or early: another round
  if (!s.sampled.has(msg.member) || s.submissions.has(msg.member)) return; // not asked, or a duplicate
  if (msg.payload.base !== s.global?.hash) return; // trained from another model: never mix rounds
  s.submissions.set(msg.member, { client: msg.member, ...msg.payload });
  s.missing.delete(msg.member);
  // O(1) per submission; the "rest are offline" case is checked on the heartbeat, which scans anyway.
  if (s.submissions.size === s.sampled.size) closeTraining(s, ctx, effects);
}

/** Whether every sampled client has submitted or gone offline, with the quorum met. */
export function allSampledIn(s: HostState): boolean {
  if (s.submissions.size === s.sampled.size) return s.submissions.size > 0;
  if (s.submissions.size < quorumNeeded(s)) return false;
  for (const c of s.sampled) if (!s.submissions.has(c) && !s.clients.records.get(c)?.offline) return false;
  return true;
}

/** Step 6 → 7: closes training, lists the inputs in a blob, sets ProcessStage=2. */
export function closeTraining(s: HostState, ctx: Ctx, effects: Effect[]): void {
  const subs = [...s.submissions.values()].sort((a, b) => compareIds(a.client, b.client));
  const entries: InputEntry[] = subs.map((x) => ({ client: x.client, ref: x.ref, samples: x.samples }));
  s.inputs = jsonBlobRef(entries);
  effects.push({ type: 'storeBlob', ref: s.inputs, value: entries });
  s.inputCount = entries.length;
  // §6.14: the round's noisy aggregate will exist from here on, so it is spent now.
  if (s.dp) s.dp.rates.push(s.dp.rate);
  s.inputSamples = subs.reduce((n, x) => n + x.samples, 0);
  s.metrics = weightedEval(subs.map((x) => x.eval));
  if (s.localRound <= 1) s.firstEval = s.metrics;
  const n = s.inputSamples || 1;
  s.trainStats = {
    loss: subs.reduce((a, x) => a + x.train.loss * x.samples, 0) / n,
    accuracy: Math.min(1, subs.reduce((a, x) => a + x.train.accuracy * x.samples, 0) / n),
  };
  s.electorate = eligible(s.workers, s.excluded).sort(compareIds);
  s.processStage = 2;
  s.attempt = 0;
  s.votes = new Map();
  armDeadline(s, ctx, effects);
  publishState(s, ctx, effects);
  persist(s, effects);
  if (s.electorate.length === 0) failRound(s, 'no worker is online to aggregate', ctx, effects);
}

/** Step 7: a worker's aggregate; counted once per attempt, then consensus is re-checked. */
export function onAggregate(s: HostState, msg: AggregateMessage, ctx: Ctx, effects: Effect[]): void {
  const rec = s.workers.records.get(msg.member);
  if (!rec) return;
  touch(s.workers, rec, ctx.now);
  rec.status = 4;
  const d = s.decided;
  if (d && msg.round === d.round && msg.payload.attempt === d.attempt && d.electorate.includes(msg.member) && !d.counted.includes(msg.member)) {
    // A vote that came after the decision still tells us whether this worker agreed.
    d.counted.push(msg.member);
    if (msg.payload.ref.hash !== d.hash) addFault(s, msg.member, effects);
    return;
  }
  // Step 7: a round's consensus is decided once. A secondary job stays in stage 2 after
  // its last local round, so a resent vote for the decided attempt must not reopen it.
  if (d && msg.round === d.round && msg.payload.attempt === d.attempt) return;
  if (s.processStage !== 2 || msg.round !== s.round || msg.payload.attempt !== s.attempt) return;
  if (msg.payload.inputs !== s.inputs?.hash) return;
  if (!s.electorate.includes(msg.member) || s.votes.has(msg.member)) return;
  s.votes.set(msg.member, msg.payload.ref);
  decide(s, false, ctx, effects);
}

/** Applies the consensus rule; `closed` once the deadline passed. */
export function decide(s: HostState, closed: boolean, ctx: Ctx, effects: Effect[]): void {
  const hashes = new Map([...s.votes].map(([w, r]) => [w, r.hash]));
  const outcome = decideConsensus(s.sheet.consensus, s.electorate, hashes, closed);
  if (outcome.kind === 'pending') return;
  if (outcome.kind === 'failed') {
    effects.push({ type: 'emitMetric', name: 'consensusFailed', job: s.job, round: s.round, values: { attempt: s.attempt, reason: outcome.reason } });
    // Retry with the workers that answered: a silent worker would only block the next attempt too.
    const voters = s.electorate.filter((w) => s.votes.has(w));
    if (s.attempt + 1 < MAX_ATTEMPTS && voters.length > 0) {
      s.attempt++;
      s.electorate = voters;
      s.votes = new Map();
      armDeadline(s, ctx, effects);
      publishState(s, ctx, effects);
      persist(s, effects);
    } else {
      failRound(s, `consensus failed in round ${s.round}: ${outcome.reason}`, ctx, effects);
    }
    return;
  }
  const picked = [...s.votes.values()].find((r) => r.hash === outcome.hash)!;
  recordFaults(s, outcome.hash, effects);
  clearDeadline(s, effects);
  effects.push({
    type: 'emitMetric',
    name: 'round',
    job: s.job,
    round: s.round,
    values: {
      clients: s.inputCount,
      samples: s.inputSamples,
      loss: s.metrics?.loss ?? -1,
      accuracy: s.metrics?.accuracy ?? -1,
      evalSamples: s.metrics?.samples ?? 0,
      aggregate: picked.hash,
      votes: outcome.votes,
      ...(s.dp ? { epsilon: epsilonAfter(s, s.dp.rates), delta: s.sheet.privacy!.dp.delta } : {}),
    },
  });
  roundDone(s, picked, ctx, effects);
}

// Step 7: a worker that voted for another hash gets a fault; too many and it is excluded.
function recordFaults(s: HostState, winner: string, effects: Effect[]): void {
  s.decided = { round: s.round, attempt: s.attempt, hash: winner, electorate: [...s.electorate], counted: [...s.votes.keys()] };
  for (const [w, ref] of s.votes) if (ref.hash !== winner) addFault(s, w, effects);
}

function addFault(s: HostState, w: string, effects: Effect[]): void {
  const faults = (s.faults.get(w) ?? 0) + 1;
  s.faults.set(w, faults);
  effects.push({ type: 'emitMetric', name: 'workerFault', job: s.job, round: s.round, values: { worker: w, faults } });
  if (faults >= s.sheet.maxWorkerFaults && !s.excluded.has(w)) {
    s.excluded.add(w);
    effects.push({ type: 'emitMetric', name: 'workerExcluded', job: s.job, round: s.round, values: { worker: w, faults } });
  }
}

/** Step 7's branch: the root checks the stop conditions; a secondary job runs its next local round or submits upward. */
function roundDone(s: HostState, picked: BlobRef, ctx: Ctx, effects: Effect[]): void {
  const up = s.upstream;
  if (!up) {
    // Seed 000 has this test inverted: the job with no upstream starts the next round.
    const reason = stopReason(s);
    if (reason) finishJob(s, picked, reason, ctx, effects);
    else {
      s.global = picked;
      startRound(s, ctx, effects);
    }
    return;
  }
  if (s.localRound < s.node.timing.localRounds) {
    s.global = picked;
    startRound(s, ctx, effects);
    return;
  }
  // Submit the cluster's result as one client of the parent, weighted by the samples underneath.
  const evalMetrics = s.firstEval ?? s.metrics ?? { loss: 0, accuracy: 0, samples: 0 };
  up.pending = {
    round: s.parentRound,
    ref: picked,
    base: s.parentGlobal!.hash,
    samples: Math.max(1, s.inputSamples),
    eval: evalMetrics,
    train: s.trainStats ?? { loss: 0, accuracy: 0 },
  };
  const { round, ...payload } = up.pending;
  publishUp(s, ctx, effects, { type: 'submit', payload }, round);
  // Still stage 2 with the same inputs: members hear only of a new exclusion, if any.
  publishIfChanged(s, ctx, effects);
  persist(s, effects);
}

/** The root's stop conditions, checked after each round; whichever holds first. */
export function stopReason(s: HostState): string | null {
  const stop = s.sheet.stop;
  const m = s.metrics;
  if (m && stop.targetAccuracy !== undefined && m.accuracy >= stop.targetAccuracy) return `targetAccuracy: ${m.accuracy.toFixed(4)} >= ${stop.targetAccuracy}`;
  if (m && stop.targetLoss !== undefined && m.loss <= stop.targetLoss) return `targetLoss: ${m.loss.toFixed(4)} <= ${stop.targetLoss}`;
  if (s.round >= stop.rounds) return `rounds: ${s.round} of ${stop.rounds} done`;
  return null;
}

/** A deadline fired: close training with the quorum, or close the vote. */
export function onDeadline(s: HostState, id: string, ctx: Ctx, effects: Effect[]): void {
  if (id !== s.deadlineTimer) return; // a stale timer of an earlier stage
  s.deadlineTimer = null;
  if (s.processStage === 1) {
    if (s.submissions.size >= quorumNeeded(s) && s.submissions.size > 0) {
      closeTraining(s, ctx, effects);
      return;
    }
    effects.push({ type: 'emitMetric', name: 'quorumMissed', job: s.job, round: s.round, values: { attempt: s.attempt, submitted: s.submissions.size, needed: quorumNeeded(s) } });
    if (s.attempt + 1 < MAX_ATTEMPTS) {
      // Resample among the clients online now; stragglers may still submit.
      s.attempt++;
      drawRoundSample(s, ctx);
      armDeadline(s, ctx, effects);
      publishState(s, ctx, effects);
      persist(s, effects);
    } else {
      failRound(s, `round ${s.round}: quorum not reached (${s.submissions.size} of ${quorumNeeded(s)} needed submissions)`, ctx, effects);
    }
  } else if (s.processStage === 2) {
    decide(s, true, ctx, effects);
  }
}

/** A round that cannot complete: the root stops with the reason; a secondary job idles until its parent's next round. */
export function failRound(s: HostState, failure: string, ctx: Ctx, effects: Effect[]): void {
  // §6.13: the reasons members gave go with the round's own.
  const reason = withFailures(s, failure);
  if (!s.upstream) {
    finishJob(s, s.global, `failed: ${reason}`, ctx, effects);
    return;
  }
  clearDeadline(s, effects);
  s.processStage = 0;
  s.stopReason = reason;
  publishState(s, ctx, effects);
  persist(s, effects);
}

/** Step 8: ProcessStage=3 with the final parameters; the host lingers to republish it. */
export function finishJob(s: HostState, final: BlobRef | null, reason: string, ctx: Ctx, effects: Effect[]): void {
  clearDeadline(s, effects);
  effects.push({ type: 'cancelTimer', id: 'init' });
  s.processStage = 3;
  s.global = final;
  s.stopReason = clip(reason, MAX_STOP_REASON);
  s.finishedBeats = 0;
  publishState(s, ctx, effects);
  persist(s, effects);
}
