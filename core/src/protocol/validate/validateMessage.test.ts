import { describe, expect, it } from 'vitest';
import { encodeMessage, type Message } from '../messages/index.js';
import { fakeRef, jobTopic, msg, stateMsg, tree } from '../test/harness.js';
import { validateMessage, type ValidationContext } from './index.js';

// One row per validation rule: the message, the context, and the verdict it must get.

const T = tree([2, 1], { workers: 3, distributor: true });
const CLIENT0 = T.jobs.get('J#0')!.clients[0]!.id;
const trees = new Map([[T.rootId, T]]);
const topic = (job: string) => jobTopic(T.rootId, job);
const ctx = (m: Message, over: Partial<ValidationContext> = {}): ValidationContext => ({ from: m.sender, topic: topic(m.job), trees, ...over });
const hb = (job: string, role: 'client' | 'worker', member: string) => msg(T, job, role, member, 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0 });
const sub = (round: number) => msg(T, 'J#0', 'client', 'c0', 'submit', { ref: fakeRef('p'), base: 'b'.repeat(64), samples: 3, eval: { loss: 1, accuracy: 0.5, samples: 2 }, train: { loss: 1, accuracy: 0.5 } }, { round });
const agg = (round: number) => msg(T, 'J#0', 'worker', 'wr0-0', 'aggregate', { attempt: 0, inputs: 'c'.repeat(64), ref: fakeRef('a') }, { round });
const failure = (job: string) => msg(T, job, 'distributor', 'dist', 'dataset-offer', { error: 'no such dir' });
const view = (round: number, hostSeq: number) => () => ({ round, hostSeq });

const rows: { name: string; raw: () => Uint8Array | object; ctx: () => ValidationContext; result: 'accept' | 'ignore' | 'reject'; reason?: RegExp }[] = [
  { name: 'a valid heartbeat', raw: () => hb('J#0', 'client', 'c0'), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'accept' },
  { name: 'bytes that are not JSON', raw: () => new TextEncoder().encode('{nope'), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /malformed/ },
  { name: 'an unknown message type', raw: () => ({ ...hb('J#0', 'client', 'c0'), type: 'gossip' }), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /malformed/ },
  { name: 'another protocol version', raw: () => ({ ...hb('J#0', 'client', 'c0'), v: 2 }), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /malformed/ },
  { name: 'an unknown payload field', raw: () => ({ ...hb('J#0', 'client', 'c0'), payload: { ...hb('J#0', 'client', 'c0').payload, extra: 1 } }), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /malformed/ },
  { name: 'a message on another job’s topic', raw: () => hb('J#0', 'client', 'c0'), ctx: () => ctx(hb('J#0', 'client', 'c0'), { topic: topic('J#1') }), result: 'reject', reason: /topic/ },
  { name: 'a root job we are not part of', raw: () => ({ ...hb('J#0', 'client', 'c0'), root: 'Other-1' }), ctx: () => ctx(hb('J#0', 'client', 'c0'), { topic: 'canopy/1/Other-1/J#0' }), result: 'ignore', reason: /unknown root/ },
  { name: 'a job the manifest does not have', raw: () => ({ ...hb('J#0', 'client', 'c0'), job: 'J#9' }), ctx: () => ctx(hb('J#0', 'client', 'c0'), { topic: topic('J#9') }), result: 'reject', reason: /not in the manifest/ },
  { name: 'a sender that is not the signer', raw: () => hb('J#0', 'client', 'c0'), ctx: () => ctx(hb('J#0', 'client', 'c0'), { from: 'c1' }), result: 'reject', reason: /signer/ },
  { name: 'a non-member', raw: () => ({ ...hb('J#0', 'client', 'c0'), sender: 'mallory', member: 'mallory' }), ctx: () => ctx(hb('J#0', 'client', 'c0'), { from: 'mallory' }), result: 'reject', reason: /not a client/ },
  { name: 'a client of another job', raw: () => hb('J#0', 'client', 'c2'), ctx: () => ctx(hb('J#0', 'client', 'c2')), result: 'reject', reason: /not a client/ },
  { name: 'a sub-job speaking through its host', raw: () => msg(T, 'J', 'client', 'J#0', 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0 }), ctx: () => ctx(msg(T, 'J', 'client', 'J#0', 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0 })), result: 'accept' },
  { name: 'a heartbeat from a host', raw: () => msg(T, 'J#0', 'host', 'host1', 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0 }), ctx: () => ctx(msg(T, 'J#0', 'host', 'host1', 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0 })), result: 'reject' },
  { name: 'a heartbeat with status below its ACK level', raw: () => ({ ...hb('J#0', 'client', 'c0'), payload: { ...hb('J#0', 'client', 'c0').payload, status: 0 } }), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /status below/ },
  { name: 'a refusal on a job-sheet ACK', raw: () => msg(T, 'J#0', 'client', 'c0', 'ack', { stage: 1, sheetHash: 'a'.repeat(64), refused: true, samples: 0 }), ctx: () => ctx(hb('J#0', 'client', 'c0')), result: 'reject', reason: /refusal/ },
  { name: 'a valid state', raw: () => stateMsg(T, 'J#0', {}, { seq: 5 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'accept' },
  { name: 'a state from a worker', raw: () => ({ ...stateMsg(T, 'J#0', {}), sender: 'wr0-0', member: 'wr0-0' }), ctx: () => ctx(stateMsg(T, 'J#0', {}), { from: 'wr0-0' }), result: 'reject' },
  { name: 'a state of another manifest', raw: () => stateMsg(T, 'J#0', { manifest: fakeRef('other') }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /another manifest/ },
  { name: 'a training state without a global model', raw: () => stateMsg(T, 'J#0', { datasetFlag: true, processStage: 1 }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /training state/ },
  { name: 'an aggregation state without inputs', raw: () => stateMsg(T, 'J#0', { datasetFlag: true, processStage: 2, global: fakeRef('g') }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /aggregation state/ },
  { name: 'a process stage before the dataset flag', raw: () => stateMsg(T, 'J#0', { processStage: 1, global: fakeRef('g'), sample: { seed: 1, threshold: 1 } }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /dataset flag/ },
  { name: 'a training state naming its own clients missing', raw: () => stateMsg(T, 'J#0', { datasetFlag: true, processStage: 1, global: fakeRef('g'), sample: { seed: 1, threshold: 1 }, missing: [CLIENT0] }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'accept' },
  { name: 'a training state naming a non-client missing', raw: () => stateMsg(T, 'J#0', { datasetFlag: true, processStage: 1, global: fakeRef('g'), sample: { seed: 1, threshold: 1 }, missing: ['wr0-0'] }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /non-client/ },
  { name: 'an idle state naming clients missing', raw: () => stateMsg(T, 'J#0', { missing: [CLIENT0] }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /outside training/ },
  { name: 'a state naming more than 64 missing', raw: () => stateMsg(T, 'J#0', { datasetFlag: true, processStage: 1, global: fakeRef('g'), sample: { seed: 1, threshold: 1 }, missing: Array.from({ length: 65 }, () => CLIENT0) }, { round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /missing/ },
  { name: 'a duplicate state seq', raw: () => stateMsg(T, 'J#0', {}, { seq: 5 }), ctx: () => ctx(stateMsg(T, 'J#0', {}), { view: view(0, 5) }), result: 'ignore', reason: /stale or duplicate/ },
  { name: 'a state of an earlier round', raw: () => stateMsg(T, 'J#0', {}, { seq: 9, round: 1 }), ctx: () => ctx(stateMsg(T, 'J#0', {}), { view: view(2, 5) }), result: 'ignore', reason: /earlier round/ },
  { name: 'a submission of the current round', raw: () => sub(2), ctx: () => ctx(sub(2), { view: view(2, 5) }), result: 'accept' },
  { name: 'a submission of an earlier round', raw: () => sub(1), ctx: () => ctx(sub(1), { view: view(2, 5) }), result: 'ignore', reason: /earlier round/ },
  { name: 'a submission without a round', raw: () => sub(0), ctx: () => ctx(sub(0)), result: 'reject' },
  { name: 'a submission from a worker', raw: () => ({ ...sub(1), role: 'worker', sender: 'wr0-0', member: 'wr0-0' }), ctx: () => ctx(sub(1), { from: 'wr0-0' }), result: 'reject', reason: /non-client/ },
  { name: 'an aggregate of the previous round (kept to count late dissent)', raw: () => agg(1), ctx: () => ctx(agg(1), { view: view(2, 5) }), result: 'accept' },
  { name: 'an aggregate two rounds late', raw: () => agg(1), ctx: () => ctx(agg(1), { view: view(3, 5) }), result: 'ignore', reason: /earlier round/ },
  { name: 'an aggregate from a client', raw: () => ({ ...agg(1), role: 'client', sender: 'c0', member: 'c0' }), ctx: () => ctx(agg(1), { from: 'c0' }), result: 'reject' },
  { name: 'initial parameters at the root', raw: () => msg(T, 'J', 'worker', 'wr-0', 'init-params', { ref: fakeRef('i') }), ctx: () => ctx(msg(T, 'J', 'worker', 'wr-0', 'init-params', { ref: fakeRef('i') })), result: 'accept' },
  { name: 'initial parameters in a secondary job', raw: () => msg(T, 'J#0', 'worker', 'wr0-0', 'init-params', { ref: fakeRef('i') }), ctx: () => ctx(msg(T, 'J#0', 'worker', 'wr0-0', 'init-params', { ref: fakeRef('i') })), result: 'reject', reason: /outside the root/ },
  { name: 'a dataset offer from the distributor', raw: () => msg(T, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 2 }), ctx: () => ctx(msg(T, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 2 })), result: 'accept' },
  { name: 'a dataset offer for the wrong client count', raw: () => msg(T, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 5 }), ctx: () => ctx(msg(T, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 5 })), result: 'reject', reason: /client count/ },
  { name: 'a dataset offer from someone else', raw: () => msg(T, 'J#0', 'distributor', 'c0', 'dataset-offer', { index: fakeRef('x'), clients: 2 }), ctx: () => ctx(msg(T, 'J#0', 'distributor', 'c0', 'dataset-offer', { index: fakeRef('x'), clients: 2 })), result: 'reject' },
  { name: 'a dataset offer to an inner job', raw: () => msg(T, 'J', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 2 }), ctx: () => ctx(msg(T, 'J', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('x'), clients: 2 })), result: 'reject' },
  { name: 'a dataset failure to the root job', raw: () => failure('J'), ctx: () => ctx(failure('J')), result: 'accept' },
  { name: 'a dataset failure to a leaf job', raw: () => failure('J#0'), ctx: () => ctx(failure('J#0')), result: 'reject', reason: /other than the root/ },
  { name: 'a dataset failure from someone else', raw: () => ({ ...failure('J'), sender: 'c0', member: 'c0' }), ctx: () => ctx(failure('J'), { from: 'c0' }), result: 'reject', reason: /not a distributor/ },
  { name: 'a dataset failure without a reason', raw: () => ({ ...failure('J'), payload: { error: '' } }), ctx: () => ctx(failure('J')), result: 'reject', reason: /malformed/ },
  { name: 'a dataset offer with both an index and an error', raw: () => ({ ...failure('J#0'), payload: { index: fakeRef('x'), clients: 2, error: 'x' } }), ctx: () => ctx(failure('J#0')), result: 'reject', reason: /malformed/ },
  { name: 'a dataset request from a leaf client', raw: () => msg(T, 'J#0', 'client', 'c0', 'dataset-request', {}), ctx: () => ctx(msg(T, 'J#0', 'client', 'c0', 'dataset-request', {})), result: 'accept' },
];

// §6.14: a tree whose leaf jobs have privacy.dp.
const D = tree([2, 1], { workers: 2, extra: { privacy: { dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } } });
const dTrees = new Map([[D.rootId, D]]);
const dCtx = (m: Message): ValidationContext => ({ from: m.sender, topic: jobTopic(D.rootId, m.job), trees: dTrees });
const KEY = 'ab'.repeat(32);
const SEALED = 'cd'.repeat(48);
const dHb = (role: 'client' | 'worker', member: string, noiseKey: string) => msg(D, 'J#0', role, member, 'heartbeat', { status: 1, acked: 1, sheetHash: 'a'.repeat(64), refused: false, samples: 0, noiseKey });
const dState = (job: string, sealed: Record<string, string>) => stateMsg(D, job, { noise: { hostKey: KEY, sealed } }, { seq: 5 });
const dpRows: typeof rows = [
  { name: 'a DP worker’s heartbeat with its noise key', raw: () => dHb('worker', 'wr0-0', KEY), ctx: () => dCtx(dHb('worker', 'wr0-0', KEY)), result: 'accept' },
  { name: 'a client’s heartbeat with a noise key', raw: () => dHb('client', 'c0', KEY), ctx: () => dCtx(dHb('client', 'c0', KEY)), result: 'reject', reason: /not a worker/ },
  { name: 'a noise key that is not 32 bytes of hex', raw: () => dHb('worker', 'wr0-0', 'xy'.repeat(32)), ctx: () => dCtx(dHb('worker', 'wr0-0', KEY)), result: 'reject', reason: /malformed/ },
  { name: 'a DP leaf state sealing the noise key to its workers', raw: () => dState('J#0', { 'wr0-0': SEALED, 'wr0-1': SEALED }), ctx: () => dCtx(dState('J#0', {})), result: 'accept' },
  { name: 'a state sealing the noise key to a non-worker', raw: () => dState('J#0', { c0: SEALED }), ctx: () => dCtx(dState('J#0', {})), result: 'reject', reason: /non-worker/ },
  { name: 'a sealed noise key of the wrong length', raw: () => dState('J#0', { 'wr0-0': SEALED.slice(2) }), ctx: () => dCtx(dState('J#0', {})), result: 'reject', reason: /malformed/ },
  { name: 'a noise key in the state of an inner job', raw: () => dState('J', {}), ctx: () => dCtx(dState('J', {})), result: 'reject', reason: /without privacy/ },
  { name: 'a noise key in a job without privacy', raw: () => ({ ...stateMsg(T, 'J#0', {}, { seq: 5 }), payload: { ...stateMsg(T, 'J#0', {}).payload, noise: { hostKey: KEY, sealed: {} } } }), ctx: () => ctx(stateMsg(T, 'J#0', {})), result: 'reject', reason: /without privacy/ },
];
rows.push(...dpRows);

describe('validateMessage', () => {
  for (const row of rows) {
    it(`${row.result}: ${row.name}`, () => {
      const raw = row.raw();
      const verdict = validateMessage(raw instanceof Uint8Array ? raw : encodeMessage(raw as Message), row.ctx());
      expect(verdict.result, `${row.name}: ${verdict.reason}`).toBe(row.result);
      if (row.reason) expect(verdict.reason).toMatch(row.reason);
      if (row.result === 'accept') expect(verdict.message).toBeDefined();
    });
  }
});
