import { describe, expect, it } from 'vitest';
import type { Input } from '../inputs.js';
import { deriveJobSheet } from '../jobSheet.js';
import { ctxAt, fakeRef, msg, ofType, publishedOf, stateMsg, tree } from '../test/harness.js';
import { createClientState, stepClient, type ClientState } from './client.js';
import { MAX_DATASET_ERROR_CHARS } from '../messages/index.js';
import { createDistributorState, PREPARE_ATTEMPTS, stepDistributor, type DistributorState } from './distributor.js';
import { createWorkerState, stepWorker, type WorkerState } from './worker.js';
import type { Effect } from '../effects.js';

// Table-driven tests of every client, worker and distributor transition.

const T = tree(3, { workers: 3 });
const TD = tree([2, 1], { workers: 1, distributor: true });
const ALL = { seed: 1, threshold: 0xffffffff };
const NONE = { seed: 1, threshold: 0 };
const G = fakeRef('global');
const INPUTS = fakeRef('inputs');

interface Case<S> {
  name: string;
  build: () => S;
  feed: Input[];
  check: (s: S, e: Effect[]) => void;
}

function runAll<S>(step: (s: S, i: Input, c: ReturnType<typeof ctxAt>) => { state: S; effects: Effect[] }, s: S, inputs: Input[]) {
  const effects: Effect[] = [];
  for (const i of inputs) effects.push(...step(s, i, ctxAt(1000)).effects);
  return effects;
}
const m = (message: ReturnType<typeof stateMsg>): Input => ({ type: 'message', message });

const newClient = (t = T, job = 'J', member = 'c0') => createClientState(deriveJobSheet(t, job, 'client', member));
const clientAt = (stage: 'sheet' | 'asked' | 'ready', t = T, job = 'J', member = 'c0'): ClientState => {
  const s = newClient(t, job, member);
  const inputs: Input[] = [{ type: 'start' }, m(stateMsg(t, job, {}, { seq: 1 }))];
  if (stage !== 'sheet') inputs.push(m(stateMsg(t, job, { datasetFlag: true }, { seq: 2 })));
  if (stage === 'ready') inputs.push({ type: 'consent', job, given: true }, { type: 'datasetLoaded', job, samples: 40 });
  runAll(stepClient, s, inputs);
  return s;
};
const training = (seq = 3, round = 1, sample = ALL) => m(stateMsg(T, 'J', { datasetFlag: true, processStage: 1, global: G, sample }, { seq, round }));

// A ready client that trained round 1 and submitted.
function submittedClient(): ClientState {
  const s = clientAt('ready');
  runAll(stepClient, s, [training(), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'trained', job: 'J', round: 1, ref: fakeRef('mine'), samples: 40, loss: 0.3, accuracy: 0.7 }, { type: 'evaluated', job: 'J', round: 1, loss: 0.6, accuracy: 0.4, samples: 10 }]);
  return s;
}

describe('client', () => {
  const cases: Case<ClientState>[] = [
    { name: 'start: heartbeat armed and sent', build: () => newClient(), feed: [{ type: 'start' }], check: (_s, e) => expect(publishedOf(e, 'heartbeat')).toHaveLength(1) },
    {
      name: 'job-sheet flag: ACK the sheet (status 1)',
      build: () => newClient(),
      feed: [m(stateMsg(T, 'J', {}, { seq: 1 }))],
      check: (s, e) => {
        expect(s.status).toBe(1);
        expect(publishedOf(e, 'ack')[0]?.payload).toMatchObject({ stage: 1, sheetHash: s.sheetHash });
      },
    },
    { name: 'a duplicate state is ignored', build: () => clientAt('sheet'), feed: [m(stateMsg(T, 'J', {}, { seq: 1 }))], check: (_s, e) => expect(e).toEqual([]) },
    { name: 'a state from an older round is ignored', build: () => clientAt('ready'), feed: [training(3, 2), training(9, 1)], check: (s) => expect(s.hostRound).toBe(2) },
    { name: 'dataset flag: ask the owner for consent first', build: () => clientAt('sheet'), feed: [m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 }))], check: (_s, e) => expect(ofType(e, 'askConsent')).toHaveLength(1) },
    {
      name: 'consent given, no distributor: load the local shard',
      build: () => clientAt('asked'),
      feed: [{ type: 'consent', job: 'J', given: true }],
      check: (_s, e) => expect(ofType(e, 'loadDataset')[0]?.source).toMatchObject({ kind: 'local', shard: { index: 0, of: 3 } }),
    },
    {
      name: 'consent refused: ACK the dataset stage as refused, and never train',
      build: () => clientAt('asked'),
      feed: [{ type: 'consent', job: 'J', given: false }, training()],
      check: (s, e) => {
        expect(publishedOf(e, 'ack')[0]?.payload).toMatchObject({ stage: 2, refused: true });
        expect(ofType(e, 'fetchBlob')).toHaveLength(0);
        expect(s.status).toBe(2);
      },
    },
    {
      name: 'data loaded: ACK the dataset stage with the sample count (status 2)',
      build: () => clientAt('asked'),
      feed: [{ type: 'consent', job: 'J', given: true }, { type: 'datasetLoaded', job: 'J', samples: 40 }],
      check: (s, e) => {
        expect(s.status).toBe(2);
        expect(publishedOf(e, 'ack')[0]?.payload).toMatchObject({ stage: 2, samples: 40, refused: false });
      },
    },
    { name: 'training and sampled: fetch the global parameters (status 3)', build: () => clientAt('ready'), feed: [training()], check: (s, e) => expect([s.status, ofType(e, 'fetchBlob')[0]?.ref]).toEqual([3, G]) },
    { name: 'training but not sampled: nothing to do', build: () => clientAt('ready'), feed: [training(3, 1, NONE)], check: (s, e) => expect([s.status, e.length]).toEqual([2, 0]) },
    {
      name: 'global fetched: evaluate it and train from it',
      build: () => clientAt('ready'),
      feed: [training(), { type: 'blobFetched', job: 'J', ref: G, ok: true }],
      check: (_s, e) => expect(e.map((x) => x.type).slice(-2)).toEqual(['evaluate', 'train']),
    },
    {
      name: 'trained and evaluated: submit with weight and metrics (status 4)',
      build: () => clientAt('ready'),
      feed: [
        training(),
        { type: 'blobFetched', job: 'J', ref: G, ok: true },
        { type: 'trained', job: 'J', round: 1, ref: fakeRef('mine'), samples: 40, loss: 0.3, accuracy: 0.7 },
        { type: 'evaluated', job: 'J', round: 1, loss: 0.6, accuracy: 0.4, samples: 10 },
      ],
      check: (s, e) => {
        expect(s.status).toBe(4);
        expect(publishedOf(e, 'submit')[0]).toMatchObject({ round: 1, payload: { ref: fakeRef('mine'), base: G.hash, samples: 40, eval: { loss: 0.6, accuracy: 0.4, samples: 10 } } });
      },
    },
    {
      name: 'heartbeat while the host still collects: say "submitted", do not resend unasked',
      build: submittedClient,
      feed: [{ type: 'timer', id: 'hb' }],
      check: (_s, e) => expect([publishedOf(e, 'heartbeat')[0]?.payload.status, publishedOf(e, 'submit')]).toEqual([4, []]),
    },
    {
      name: 'the host names us missing: resend the submission',
      build: submittedClient,
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, processStage: 1, global: G, sample: ALL, missing: ['c0'] }, { seq: 4, round: 1 }))],
      check: (_s, e) => expect(publishedOf(e, 'submit')).toMatchObject([{ round: 1, payload: { ref: fakeRef('mine'), base: G.hash } }]),
    },
    {
      name: 'a new round that does not sample the client: back to status 2, so its heartbeat for that round claims no submission',
      build: submittedClient,
      feed: [training(5, 2, NONE), { type: 'timer', id: 'hb' }],
      check: (s, e) => {
        expect(s.status).toBe(2);
        expect(publishedOf(e, 'heartbeat').at(-1)).toMatchObject({ round: 2, payload: { status: 2 } });
      },
    },
    {
      name: 'the host names the client in wrongSheet: one sheetMismatch metric with its sheet hash, however many snapshots say so',
      build: () => clientAt('sheet'),
      feed: [m(stateMsg(T, 'J', { wrongSheet: ['c0'] }, { seq: 2 })), m(stateMsg(T, 'J', { wrongSheet: ['c0'] }, { seq: 3 }))],
      check: (s, e) => expect(ofType(e, 'emitMetric').filter((x) => x.name === 'sheetMismatch').map((x) => x.values)).toEqual([{ member: 'c0', role: 'client', sheetHash: s.sheetHash, hostManifest: T.manifestHash }]),
    },
    {
      name: 'the host names someone else missing: no resend',
      build: submittedClient,
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, processStage: 1, global: G, sample: ALL, missing: ['c1'] }, { seq: 4, round: 1 }))],
      check: (_s, e) => expect(publishedOf(e, 'submit')).toEqual([]),
    },
    { name: 'a failed fetch is retried on the heartbeat', build: () => clientAt('ready'), feed: [training(), { type: 'blobFetched', job: 'J', ref: G, ok: false }, { type: 'timer', id: 'hb' }], check: (_s, e) => expect(ofType(e, 'fetchBlob')).toHaveLength(2) },
    { name: 'a failed training makes the client a straggler', build: () => clientAt('ready'), feed: [training(), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'taskFailed', job: 'J', task: 'train', round: 1, reason: 'oom' }], check: (s) => expect(s.work).toBeNull() },
    {
      name: 'a failed training is told to the host at once, and in every heartbeat until a training succeeds (§6.13)',
      build: () => clientAt('ready'),
      feed: [training(), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'taskFailed', job: 'J', task: 'train', round: 1, reason: 'training diverged: the loss is NaN' }, { type: 'timer', id: 'hb' }],
      check: (s, e) => {
        const beats = publishedOf(e, 'heartbeat');
        expect(beats.map((h) => h.payload.failure)).toEqual([
          { kind: 'train', round: 1, attempts: 1, reason: 'training diverged: the loss is NaN' },
          { kind: 'train', round: 1, attempts: 1, reason: 'training diverged: the loss is NaN' },
        ]);
        expect(s.failure?.kind).toBe('train');
      },
    },
    {
      name: 'data that cannot be loaded is told to the host, attempts counted, and cleared once it loads',
      build: () => newClient(),
      feed: [
        { type: 'start' },
        m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 })),
        { type: 'consent', job: 'J', given: true },
        { type: 'datasetFailed', job: 'J', reason: 'ENOENT: /data/c0.csv' },
        { type: 'datasetFailed', job: 'J', reason: 'ENOENT: /data/c0.csv' },
        { type: 'datasetLoaded', job: 'J', samples: 40 },
        { type: 'timer', id: 'hb' },
      ],
      check: (s, e) => {
        const failures = publishedOf(e, 'heartbeat').map((h) => h.payload.failure);
        expect(failures.filter((f) => f !== undefined).map((f) => [f.kind, f.attempts, f.reason])).toEqual([
          ['data', 1, 'ENOENT: /data/c0.csv'],
          ['data', 2, 'ENOENT: /data/c0.csv'],
        ]);
        expect(failures.at(-1), 'the heartbeat after loading carries none').toBeUndefined();
        expect(s.failure).toBeNull();
      },
    },
    {
      name: 'asked for initial parameters: make them and send them',
      build: () => clientAt('ready'),
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, initFrom: { member: 'c0', role: 'client' } }, { seq: 5 })), { type: 'initialized', job: 'J', ref: fakeRef('i') }],
      check: (_s, e) => expect([ofType(e, 'initParams').length, publishedOf(e, 'init-params')[0]?.payload.ref]).toEqual([1, fakeRef('i')]),
    },
    {
      name: 'finished: record the final parameters, status 5, say so, stop',
      build: () => clientAt('ready'),
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, processStage: 3, global: fakeRef('final'), stopReason: 'rounds' }, { seq: 9, round: 3 }))],
      check: (s, e) => {
        expect([s.status, s.final, s.done]).toEqual([5, fakeRef('final'), true]);
        expect(publishedOf(e, 'heartbeat')[0]?.payload.status).toBe(5);
        expect(ofType(e, 'finished')).toHaveLength(1);
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.build();
      c.check(s, runAll(stepClient, s, c.feed));
    });
  }

  it('named missing in snapshot after snapshot: resends at most once per heartbeat interval', () => {
    const s = submittedClient();
    const beatMs = s.sheet.timing.heartbeatSeconds * 1000;
    const named = (seq: number) => m(stateMsg(T, 'J', { datasetFlag: true, processStage: 1, global: G, sample: ALL, missing: ['c0'] }, { seq, round: 1 }));
    const resends = [10, 11, 12].map((seq) => publishedOf(stepClient(s, named(seq), ctxAt(2000)).effects, 'submit').length);
    const later = publishedOf(stepClient(s, named(13), ctxAt(2000 + beatMs)).effects, 'submit').length;
    expect([...resends, later]).toEqual([1, 0, 0, 1]);
  });

  it('with a distributor: ask for the offer along with consent, so the owner can be told the size', () => {
    const s = clientAt('sheet', TD, 'J#0', 'c0');
    const e = runAll(stepClient, s, [m(stateMsg(TD, 'J#0', { datasetFlag: true }, { seq: 2 }))]);
    expect(ofType(e, 'askConsent')).toHaveLength(1);
    expect(publishedOf(e, 'dataset-request')).toHaveLength(1);
    expect(ofType(e, 'loadDataset')).toHaveLength(0);
    // Until the offer comes, again on each heartbeat (the distributor rate-limits its answers).
    expect(publishedOf(runAll(stepClient, s, [{ type: 'timer', id: 'hb' }]), 'dataset-request')).toHaveLength(1);
    const offer = msg(TD, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('idx'), clients: 2 });
    expect(publishedOf(runAll(stepClient, s, [{ type: 'message', message: offer }, { type: 'timer', id: 'hb' }]), 'dataset-request')).toHaveLength(0);
  });

  it('with a distributor: ask for the offer, then load the shards from the index', () => {
    const s = clientAt('asked', TD, 'J#0', 'c0');
    const e1 = runAll(stepClient, s, [{ type: 'consent', job: 'J#0', given: true }]);
    expect(publishedOf(e1, 'dataset-request')).toHaveLength(1);
    const offer = msg(TD, 'J#0', 'distributor', 'dist', 'dataset-offer', { index: fakeRef('idx'), clients: 2 });
    const e2 = runAll(stepClient, s, [{ type: 'message', message: offer }]);
    expect(ofType(e2, 'loadDataset')[0]?.source).toMatchObject({ kind: 'distributor', index: fakeRef('idx'), member: 'c0', from: 'dist' });
  });

  it("with a distributor: a failure report is the root host's to act on; the client finishes on its stage 3", () => {
    const t = tree(2, { workers: 1, distributor: true });
    const s = clientAt('asked', t, 'J', 'c0');
    runAll(stepClient, s, [{ type: 'consent', job: 'J', given: true }]);
    const failure = msg(t, 'J', 'distributor', 'dist', 'dataset-offer', { error: 'no such dir' });
    expect(ofType(runAll(stepClient, s, [{ type: 'message', message: failure }]), 'loadDataset')).toHaveLength(0);
    const e = runAll(stepClient, s, [m(stateMsg(t, 'J', { processStage: 3, datasetFlag: true, stopReason: 'dataset unavailable: no such dir' }, { seq: 9 }))]);
    expect(ofType(e, 'finished').map((f) => f.reason)).toEqual(['dataset unavailable: no such dir']);
  });
});

const newWorker = (member = 'wr-0') => createWorkerState(deriveJobSheet(T, 'J', 'worker', member));
const workerReady = (member = 'wr-0'): WorkerState => {
  const s = newWorker(member);
  runAll(stepWorker, s, [{ type: 'start' }, m(stateMsg(T, 'J', {}, { seq: 1 })), m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 }))]);
  return s;
};
const aggregating = (seq = 3, attempt = 0, inputs = INPUTS, excludedWorkers: string[] = []) =>
  m(stateMsg(T, 'J', { datasetFlag: true, processStage: 2, global: G, inputs, inputCount: 3, attempt, excludedWorkers }, { seq, round: 1 }));

describe('worker', () => {
  const cases: Case<WorkerState>[] = [
    { name: 'job-sheet flag: ACK the sheet', build: () => newWorker(), feed: [m(stateMsg(T, 'J', {}, { seq: 1 }))], check: (s, e) => expect([s.status, publishedOf(e, 'ack')[0]?.payload.stage]).toEqual([1, 1]) },
    { name: 'dataset flag: ACK at once (workers hold no data)', build: () => newWorker(), feed: [m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 1 }))], check: (s) => expect([s.status, s.acked]).toEqual([2, 2]) },
    {
      name: 'asked for initial parameters: make them, then send them',
      build: () => workerReady(),
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, initFrom: { member: 'wr-0', role: 'worker' } }, { seq: 5 })), { type: 'initialized', job: 'J', ref: fakeRef('i') }],
      check: (_s, e) => expect([ofType(e, 'initParams').length, publishedOf(e, 'init-params')[0]?.payload.ref]).toEqual([1, fakeRef('i')]),
    },
    { name: 'another worker asked: nothing', build: () => workerReady(), feed: [m(stateMsg(T, 'J', { datasetFlag: true, initFrom: { member: 'wr-1', role: 'worker' } }, { seq: 5 }))], check: (_s, e) => expect(e).toEqual([]) },
    {
      name: 'aggregation stage: aggregate the inputs onto the global (status 3)',
      build: () => workerReady(),
      feed: [aggregating()],
      check: (s, e) => {
        expect(s.status).toBe(3);
        expect(ofType(e, 'aggregate')[0]).toMatchObject({ round: 1, attempt: 0, inputs: INPUTS, base: G });
      },
    },
    {
      name: 'aggregated: vote with the hash (status 4)',
      build: () => workerReady(),
      feed: [aggregating(), { type: 'aggregated', job: 'J', round: 1, attempt: 0, ref: fakeRef('agg') }],
      check: (s, e) => {
        expect(s.status).toBe(4);
        expect(publishedOf(e, 'aggregate')[0]?.payload).toEqual({ attempt: 0, inputs: INPUTS.hash, ref: fakeRef('agg') });
      },
    },
    { name: 'a repeated snapshot does not aggregate twice', build: () => workerReady(), feed: [aggregating(3), aggregating(4)], check: (_s, e) => expect(ofType(e, 'aggregate')).toHaveLength(1) },
    {
      name: 'a consensus retry on the same inputs: vote again at once',
      build: () => workerReady(),
      feed: [aggregating(3), { type: 'aggregated', job: 'J', round: 1, attempt: 0, ref: fakeRef('agg') }, aggregating(4, 1)],
      check: (_s, e) => expect(publishedOf(e, 'aggregate').map((x) => x.payload.attempt)).toEqual([0, 1]),
    },
    { name: 'an excluded worker no longer aggregates', build: () => workerReady(), feed: [aggregating(3, 0, INPUTS, ['wr-0'])], check: (_s, e) => expect(ofType(e, 'aggregate')).toHaveLength(0) },
    {
      name: 'heartbeat while the vote is open: resend the aggregate',
      build: () => workerReady(),
      feed: [aggregating(), { type: 'aggregated', job: 'J', round: 1, attempt: 0, ref: fakeRef('agg') }, { type: 'timer', id: 'hb' }],
      check: (_s, e) => expect(publishedOf(e, 'aggregate')).toHaveLength(2),
    },
    {
      name: 'a failed aggregation is told to the host (§6.13)',
      build: () => workerReady(),
      feed: [aggregating(3), { type: 'taskFailed', job: 'J', task: 'aggregate', round: 1, reason: '2 of 4 parameter blobs could not be fetched' }],
      check: (_s, e) => expect(publishedOf(e, 'heartbeat').at(-1)?.payload.failure).toEqual({ kind: 'aggregate', round: 1, attempts: 1, reason: '2 of 4 parameter blobs could not be fetched' }),
    },
    { name: 'a failed aggregation can be redone on the next snapshot', build: () => workerReady(), feed: [aggregating(3), { type: 'taskFailed', job: 'J', task: 'aggregate', round: 1, reason: 'x' }, aggregating(4, 1)], check: (_s, e) => expect(ofType(e, 'aggregate')).toHaveLength(2) },
    {
      name: 'finished: final parameters, status 5',
      build: () => workerReady(),
      feed: [m(stateMsg(T, 'J', { datasetFlag: true, processStage: 3, global: fakeRef('final') }, { seq: 9, round: 2 }))],
      check: (s) => expect([s.status, s.final]).toEqual([5, fakeRef('final')]),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.build();
      c.check(s, runAll(stepWorker, s, c.feed));
    });
  }
});

describe('distributor', () => {
  const newDist = () => createDistributorState(TD, deriveJobSheet(TD, 'J', 'distributor', 'dist'));
  const prepared = (): DistributorState => {
    const s = newDist();
    runAll(stepDistributor, s, [{ type: 'start' }, { type: 'datasetPrepared', indexes: { 'J#0': fakeRef('i0'), 'J#1': fakeRef('i1') } }]);
    return s;
  };
  const failedRetries = (n: number): Input[] => Array.from({ length: n }, () => [{ type: 'datasetFailed', job: 'J', reason: 'no such dir' }, { type: 'timer', id: 'prepare' }] as Input[]).flat();
  const request = (job: string, member: string) => ({ type: 'message', message: msg(TD, job, 'client', member, 'dataset-request', {}) }) as Input;
  const cases: Case<DistributorState>[] = [
    {
      name: 'start: partition the dataset over every leaf client in shard order',
      build: newDist,
      feed: [{ type: 'start' }],
      check: (_s, e) => expect(ofType(e, 'prepareDataset')[0]?.jobs).toEqual([
        { job: 'J#0', clients: ['c0', 'c1'], firstShard: 0 },
        { job: 'J#1', clients: ['c2'], firstShard: 2 },
      ]),
    },
    { name: 'prepared: offer each leaf job its index', build: newDist, feed: [{ type: 'datasetPrepared', indexes: { 'J#0': fakeRef('i0'), 'J#1': fakeRef('i1') } }], check: (_s, e) => expect(publishedOf(e, 'dataset-offer').map((x) => [x.job, x.payload.clients])).toEqual([['J#0', 2], ['J#1', 1]]) },
    { name: 'a request right after an offer is rate-limited', build: prepared, feed: [request('J#0', 'c0')], check: (_s, e) => expect(e).toEqual([]) },
    {
      name: 'a request a heartbeat later repeats the offer',
      build: () => {
        const s = prepared();
        s.lastOffer.set('J#0', -5000);
        return s;
      },
      feed: [request('J#0', 'c0')],
      check: (_s, e) => expect(publishedOf(e, 'dataset-offer')).toHaveLength(1),
    },
    {
      name: 'a failed preparation is retried on the next heartbeat',
      build: newDist,
      feed: [{ type: 'start' }, { type: 'datasetFailed', job: 'J', reason: 'no such dir' }],
      check: (s, e) => {
        expect(ofType(e, 'setTimer').map((t) => t.id)).toEqual(['prepare']);
        expect([ofType(e, 'prepareDataset').length, publishedOf(e, 'dataset-offer').length, s.failure]).toEqual([1, 0, null]);
      },
    },
    {
      name: 'the retry timer prepares again',
      build: newDist,
      feed: [{ type: 'start' }, { type: 'datasetFailed', job: 'J', reason: 'no such dir' }, { type: 'timer', id: 'prepare' }],
      check: (s, e) => expect([ofType(e, 'prepareDataset').length, s.prepareTries]).toEqual([2, 2]),
    },
    {
      name: `after ${PREPARE_ATTEMPTS} failed attempts the root job is told why, and only the root`,
      build: newDist,
      feed: [{ type: 'start' }, ...failedRetries(PREPARE_ATTEMPTS - 1), { type: 'datasetFailed', job: 'J', reason: 'no such dir' }],
      check: (s, e) => {
        expect(ofType(e, 'prepareDataset')).toHaveLength(PREPARE_ATTEMPTS);
        expect(publishedOf(e, 'dataset-offer').map((x) => [x.job, x.payload])).toEqual([['J', { error: 'no such dir' }]]);
        expect(s.failure).toBe('no such dir');
      },
    },
    {
      name: 'the failure report is repeated each heartbeat, and never prepared again',
      build: newDist,
      feed: [{ type: 'start' }, ...failedRetries(PREPARE_ATTEMPTS - 1), { type: 'datasetFailed', job: 'J', reason: 'x' }, { type: 'timer', id: 'prepare' }],
      check: (_s, e) => expect([ofType(e, 'prepareDataset').length, publishedOf(e, 'dataset-offer').length]).toEqual([PREPARE_ATTEMPTS, 2]),
    },
    {
      name: 'a long failure reason is cut to what the message allows',
      build: newDist,
      feed: [{ type: 'start' }, ...failedRetries(PREPARE_ATTEMPTS - 1), { type: 'datasetFailed', job: 'J', reason: 'x'.repeat(1000) }],
      check: (s) => expect(s.failure?.length).toBe(MAX_DATASET_ERROR_CHARS),
    },
    {
      name: 'a failure after the dataset was prepared changes nothing',
      build: prepared,
      feed: [{ type: 'datasetFailed', job: 'J', reason: 'late' }],
      check: (s, e) => expect([e, s.failure]).toEqual([[], null]),
    },
    {
      name: 'every leaf job finished: the distributor is done',
      build: prepared,
      feed: [m(stateMsg(TD, 'J#0', { processStage: 3, datasetFlag: true }, { seq: 5 })), m(stateMsg(TD, 'J#1', { processStage: 3, datasetFlag: true }, { seq: 5 }))],
      check: (s, e) => expect([s.done, ofType(e, 'finished').length]).toEqual([true, 1]),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.build();
      c.check(s, runAll(stepDistributor, s, c.feed));
    });
  }
});
