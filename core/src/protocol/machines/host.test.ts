import { describe, expect, it } from 'vitest';
import type { Input } from '../inputs.js';
import type { JobTree } from '../jobTree.js';
import { isSampled } from '../sampling.js';
import { ack, ctxAt, fakeRef, msg, ofType, publishedOf, stateMsg, tree } from '../test/harness.js';
import { stepHost } from './host.js';
import { checkpointHost, restoreHostState } from './hostCheckpoint.js';
import { createHostState, MAX_ATTEMPTS, type HostState } from './hostState.js';

// Table-driven tests of every host transition. Each case builds a host at some point of the
// lifecycle, feeds one input, and checks the state and the effects.

const T1 = tree(3, { workers: 3, rounds: 2, timing: { quorum: 0.6 } });
const T2 = tree([2, 2], { workers: 3, rounds: 2, timing: { localRounds: 2 } });
const TD = tree([2, 1], { workers: 1, distributor: true });
const datasetFailure = (t: JobTree, job: string, member = 'dist') => input(msg(t, job, 'distributor', member, 'dataset-offer', { error: 'no such dir' }));

function run(s: HostState, inputs: Input[], now = 1000) {
  const effects = [];
  for (const input of inputs) effects.push(...stepHost(s, input, ctxAt(now)).effects);
  return effects;
}
const input = (message: ReturnType<typeof msg> | ReturnType<typeof ack>): Input => ({ type: 'message', message });

/** A host of `job` after start and, as asked, every ACK of stage 1 and 2. */
function hostAfterSetup(t: JobTree, job: string, upTo: 0 | 1 | 2): HostState {
  const s = createHostState(t, job, 0);
  run(s, [{ type: 'start' }]);
  const node = t.jobs.get(job)!;
  for (const stage of [1, 2] as const) {
    if (stage > upTo) break;
    if (stage === 2 && node.parent !== undefined) run(s, [input(stateMsg(t, node.parent, { datasetFlag: true }, { seq: 5 }))]);
    for (const c of node.clients) run(s, [input(ack(t, job, 'client', c.id, stage))]);
    for (const w of node.workers) run(s, [input(ack(t, job, 'worker', w, stage))]);
  }
  return s;
}

/** A root host in round 1, stage 1. */
function rootTraining(t: JobTree = T1): HostState {
  const s = hostAfterSetup(t, 'J', 2);
  const asked = s.initFrom!;
  run(s, [input(msg(t, 'J', asked.role, asked.member, 'init-params', { ref: fakeRef('init') }))]);
  return s;
}

function submit(t: JobTree, job: string, client: string, base: string, round = 1) {
  return input(
    msg(t, job, 'client', client, 'submit', { ref: fakeRef(`p-${client}`), base, samples: 10, eval: { loss: 0.5, accuracy: 0.5, samples: 5 }, train: { loss: 0.4, accuracy: 0.6 } }, { round }),
  );
}

/** A client's heartbeat with `status`, for `round`. */
function claims(client: string, status: number, round = 1, t: JobTree = T1) {
  return input(msg(t, 'J', 'client', client, 'heartbeat', { status, acked: 2, sheetHash: ack(t, 'J', 'client', client, 2).payload.sheetHash as string, refused: false, samples: 10 }, { round }));
}

function rootAggregating(t: JobTree = T1): HostState {
  const s = rootTraining(t);
  for (const c of t.jobs.get('J')!.clients) run(s, [submit(t, 'J', c.id, s.global!.hash)]);
  return s;
}

function vote(t: JobTree, s: HostState, worker: string, hash: string) {
  return input(msg(t, s.job, 'worker', worker, 'aggregate', { attempt: s.attempt, inputs: s.inputs!.hash, ref: fakeRef(hash) }, { round: s.round }));
}

describe('host: setup (steps 1-5)', () => {
  const cases: { name: string; build: () => HostState; feed: (s: HostState) => Input[]; check: (s: HostState, e: ReturnType<typeof run>) => void }[] = [
    {
      name: 'start sets the job-sheet flag, serves the manifest, arms the heartbeat and publishes',
      build: () => createHostState(T1, 'J', 0),
      feed: () => [{ type: 'start' }],
      check: (s, e) => {
        expect(s.jobsheetFlag).toBe(true);
        expect(ofType(e, 'storeBlob')[0]?.ref).toEqual(s.manifestRef);
        expect(ofType(e, 'setTimer').map((x) => x.id)).toContain('hb');
        expect(publishedOf(e, 'state')[0]?.payload.jobsheetFlag).toBe(true);
      },
    },
    {
      name: 'an ACK with a wrong sheet hash does not count, and the host says so: a sheetRejected metric and the member in wrongSheet',
      build: () => hostAfterSetup(T1, 'J', 0),
      feed: () => [input(msg(T1, 'J', 'client', 'c0', 'ack', { stage: 1, sheetHash: 'f'.repeat(64), refused: false, samples: 0 }))],
      check: (s, e) => {
        expect(s.clients.reached[1]).toBe(0);
        expect(ofType(e, 'emitMetric').find((x) => x.name === 'sheetRejected')?.values).toMatchObject({ member: 'c0', role: 'client', got: 'f'.repeat(64) });
        expect(publishedOf(e, 'state').at(-1)?.payload.wrongSheet).toEqual(['c0']);
      },
    },
    {
      name: 'a member named in wrongSheet is taken off once its ACK carries the right hash',
      build: () => {
        const s = hostAfterSetup(T1, 'J', 0);
        run(s, [input(msg(T1, 'J', 'client', 'c0', 'ack', { stage: 1, sheetHash: 'f'.repeat(64), refused: false, samples: 0 }))]);
        return s;
      },
      feed: () => [input(ack(T1, 'J', 'client', 'c0', 1))],
      check: (s, e) => {
        expect(s.wrongSheet.size).toBe(0);
        expect(publishedOf(e, 'state').at(-1)?.payload.wrongSheet).toEqual([]);
        expect(ofType(e, 'emitMetric').some((x) => x.name === 'sheetRejected')).toBe(false);
      },
    },
    {
      name: 'an ACK from a stranger is dropped',
      build: () => hostAfterSetup(T1, 'J', 0),
      feed: () => [input(msg(T1, 'J', 'client', 'nobody', 'ack', { stage: 1, sheetHash: 'f'.repeat(64), refused: false, samples: 0 }))],
      check: (s) => expect(s.clients.reached[1]).toBe(0),
    },
    {
      name: 'all job-sheet ACKs: (1,1), and the root sets the dataset flag (step 3)',
      build: () => hostAfterSetup(T1, 'J', 1),
      feed: () => [],
      check: (s) => {
        expect([s.clientStage, s.workerStage]).toEqual([1, 1]);
        expect(s.datasetFlag).toBe(true);
      },
    },
    {
      name: 'a heartbeat carrying an ACK level recovers a lost ACK',
      build: () => hostAfterSetup(T1, 'J', 0),
      feed: () => [input(msg(T1, 'J', 'worker', 'wr-0', 'heartbeat', { status: 1, acked: 1, sheetHash: ack(T1, 'J', 'worker', 'wr-0', 1).payload.sheetHash as string, refused: false, samples: 0 }))],
      check: (s) => expect(s.workers.records.get('wr-0')!.acked).toBe(1),
    },
    {
      name: 'a secondary job at (1,1) ACKs its parent as one client, but waits for the parent to set the dataset flag',
      build: () => hostAfterSetup(T2, 'J#0', 0),
      feed: () => [...T2.jobs.get('J#0')!.clients.map((c) => input(ack(T2, 'J#0', 'client', c.id, 1))), ...T2.jobs.get('J#0')!.workers.map((w) => input(ack(T2, 'J#0', 'worker', w, 1)))],
      check: (s, e) => {
        const up = publishedOf(e, 'ack');
        expect(up.map((m) => [m.job, m.member, m.role, m.payload.stage])).toEqual([['J', 'J#0', 'client', 1]]);
        expect(s.datasetFlag).toBe(false);
      },
    },
    {
      name: "a secondary job takes the dataset flag from its parent's state",
      build: () => hostAfterSetup(T2, 'J#0', 1),
      feed: () => [input(stateMsg(T2, 'J', { datasetFlag: true }, { seq: 9 }))],
      check: (s) => expect(s.datasetFlag).toBe(true),
    },
    {
      name: 'a secondary job at (2,2) ACKs its dataset stage upward with the samples underneath',
      build: () => hostAfterSetup(T2, 'J#0', 2),
      feed: () => [],
      check: (s) => {
        expect(s.upstream!.acked).toBe(2);
        expect([s.clientStage, s.workerStage]).toEqual([2, 2]);
      },
    },
    {
      name: 'the root at (2,2) asks the first worker for initial parameters (step 5)',
      build: () => hostAfterSetup(T1, 'J', 2),
      feed: () => [],
      check: (s) => expect(s.initFrom).toEqual({ member: 'wr-0', role: 'worker' }),
    },
    {
      name: 'a silent candidate is replaced by the next one',
      build: () => hostAfterSetup(T1, 'J', 2),
      feed: () => [{ type: 'timer', id: 'init' }],
      check: (s) => expect(s.initFrom).toEqual({ member: 'wr-1', role: 'worker' }),
    },
    {
      name: 'initial parameters from someone not asked are dropped',
      build: () => hostAfterSetup(T1, 'J', 2),
      feed: () => [input(msg(T1, 'J', 'worker', 'wr-2', 'init-params', { ref: fakeRef('x') }))],
      check: (s) => expect(s.processStage).toBe(0),
    },
    {
      name: 'initial parameters from the asked worker start round 1 (ProcessStage=1)',
      build: () => hostAfterSetup(T1, 'J', 2),
      feed: () => [input(msg(T1, 'J', 'worker', 'wr-0', 'init-params', { ref: fakeRef('init') }))],
      check: (s, e) => {
        expect([s.round, s.processStage]).toEqual([1, 1]);
        expect(s.global).toEqual(fakeRef('init'));
        expect(s.sampled.size).toBe(3);
        expect(ofType(e, 'setTimer').some((t) => t.id === 'deadline:1:1:0')).toBe(true);
        expect(ofType(e, 'persist')).toHaveLength(1);
      },
    },
    {
      name: 'clients that all refuse consent end the job with a clear reason',
      build: () => hostAfterSetup(T1, 'J', 1),
      feed: () => [...['c0', 'c1', 'c2'].map((c) => input(ack(T1, 'J', 'client', c, 2, 0, true))), ...['wr-0', 'wr-1', 'wr-2'].map((w) => input(ack(T1, 'J', 'worker', w, 2)))],
      check: (s) => {
        expect(s.processStage).toBe(3);
        expect(s.stopReason).toBe('no client can train: 3 refused consent to use their data, 0 offline');
      },
    },
    {
      name: "the distributor's failed preparation ends the job at the root with its reason (§5.4)",
      build: () => hostAfterSetup(TD, 'J', 1),
      feed: () => [datasetFailure(TD, 'J')],
      check: (s, e) => {
        expect(s.processStage).toBe(3);
        expect(s.stopReason).toBe('dataset unavailable: no such dir');
        expect(publishedOf(e, 'state').map((m) => [m.payload.processStage, m.payload.stopReason])).toEqual([[3, 'dataset unavailable: no such dir']]);
      },
    },
    {
      name: 'a dataset failure from anyone but the distributor is dropped',
      build: () => hostAfterSetup(TD, 'J', 1),
      feed: () => [datasetFailure(TD, 'J', 'c0')],
      check: (s) => expect(s.processStage).toBe(0),
    },
    {
      name: 'a dataset failure is for the root: a secondary host ignores it',
      build: () => hostAfterSetup(TD, 'J#0', 1),
      feed: () => [datasetFailure(TD, 'J#0')],
      check: (s) => expect([s.processStage, s.stopReason]).toEqual([0, null]),
    },
    {
      name: 'a dataset failure after training started is ignored',
      build: () => rootTraining(TD),
      feed: () => [datasetFailure(TD, 'J')],
      check: (s) => expect(s.processStage).toBe(1),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.build();
      const e = run(s, c.feed(s));
      c.check(s, e);
    });
  }
});

describe('host: rounds (steps 6-8)', () => {
  const cases: { name: string; build: () => HostState; feed: (s: HostState) => Input[]; check: (s: HostState, e: ReturnType<typeof run>) => void }[] = [
    {
      name: 'a submission from a sampled client is accepted once',
      build: () => rootTraining(),
      feed: (s) => [submit(T1, 'J', 'c0', s.global!.hash), submit(T1, 'J', 'c0', s.global!.hash)],
      check: (s) => expect(s.submissions.size).toBe(1),
    },
    {
      name: 'a submission trained from another model is dropped (rounds never mix)',
      build: () => rootTraining(),
      feed: () => [submit(T1, 'J', 'c0', 'a'.repeat(64))],
      check: (s) => expect(s.submissions.size).toBe(0),
    },
    {
      name: 'a submission for another round is dropped',
      build: () => rootTraining(),
      feed: (s) => [submit(T1, 'J', 'c0', s.global!.hash, 2)],
      check: (s) => expect(s.submissions.size).toBe(0),
    },
    {
      name: 'a sampled client whose heartbeat says it submitted, with no submission here, is named missing in the next snapshot',
      build: () => rootTraining(),
      feed: () => [claims('c0', 4), claims('c1', 3), claims('c2', 4, 0), { type: 'timer', id: 'hb' }],
      check: (s, e) => expect(publishedOf(e, 'state').at(-1)?.payload.missing).toEqual(['c0']),
    },
    {
      name: 'the submission arriving takes the name off the missing list',
      build: () => rootTraining(),
      feed: (s) => [claims('c0', 4), claims('c1', 4), submit(T1, 'J', 'c0', s.global!.hash), { type: 'timer', id: 'hb' }],
      check: (s, e) => expect([publishedOf(e, 'state').at(-1)?.payload.missing, s.submissions.size]).toEqual([['c1'], 1]),
    },
    {
      name: 'a later heartbeat below "submitted" (the client started over) takes the name off too',
      build: () => rootTraining(),
      feed: () => [claims('c0', 4), claims('c0', 3), { type: 'timer', id: 'hb' }],
      check: (s, e) => expect([s.missing.size, publishedOf(e, 'state')]).toEqual([0, []]),
    },
    {
      name: 'a heartbeat within an interval of the last snapshot, with nothing new to say, republishes nothing',
      build: () => rootTraining(),
      feed: () => [claims('c0', 3), { type: 'timer', id: 'hb' }],
      check: (s, e) => expect([s.processStage, publishedOf(e, 'state')]).toEqual([1, []]),
    },
    {
      name: 'every sampled client in: ProcessStage=2 with the inputs listed in a blob, sorted by client',
      build: () => rootAggregating(),
      feed: () => [],
      check: (s) => {
        expect(s.processStage).toBe(2);
        expect(s.inputCount).toBe(3);
        expect(s.electorate).toEqual(['wr-0', 'wr-1', 'wr-2']);
        expect(s.metrics).toEqual({ loss: 0.5, accuracy: 0.5, samples: 15 });
      },
    },
    {
      name: 'deadline with the quorum met closes training with the submissions so far',
      build: () => rootTraining(),
      feed: (s) => [submit(T1, 'J', 'c0', s.global!.hash), submit(T1, 'J', 'c1', s.global!.hash), { type: 'timer', id: s.deadlineTimer! }],
      check: (s) => expect([s.processStage, s.inputCount]).toEqual([2, 2]),
    },
    {
      name: 'deadline below the quorum resamples and retries the stage',
      build: () => rootTraining(),
      feed: (s) => [submit(T1, 'J', 'c0', s.global!.hash), { type: 'timer', id: s.deadlineTimer! }],
      check: (s, e) => {
        expect([s.processStage, s.attempt]).toEqual([1, 1]);
        expect(ofType(e, 'emitMetric').map((m) => m.name)).toContain('quorumMissed');
      },
    },
    {
      name: `the root stops with a reason after ${MAX_ATTEMPTS} attempts below the quorum`,
      build: () => rootTraining(),
      feed: (s) => {
        const out: Input[] = [];
        for (let i = 0; i < MAX_ATTEMPTS; i++) out.push({ type: 'timer', id: `deadline:1:1:${i}` });
        void s;
        return out;
      },
      check: (s) => {
        expect(s.processStage).toBe(3);
        expect(s.stopReason).toMatch(/^failed: round 1: quorum not reached/);
      },
    },
    {
      name: 'a stale deadline timer is ignored',
      build: () => rootTraining(),
      feed: () => [{ type: 'timer', id: 'deadline:0:1:0' }],
      check: (s) => expect([s.processStage, s.attempt]).toEqual([1, 0]),
    },
    {
      name: 'two of three matching aggregates win under majority_2_3 and start the next round',
      build: () => rootAggregating(),
      feed: (s) => [vote(T1, s, 'wr-0', 'good'), vote(T1, s, 'wr-1', 'good')],
      check: (s) => {
        expect([s.round, s.processStage]).toEqual([2, 1]);
        expect(s.global).toEqual(fakeRef('good'));
      },
    },
    {
      name: 'closing a round persists before it publishes anything (durable before visible)',
      build: () => {
        const s = rootAggregating();
        run(s, [vote(T1, s, 'wr-0', 'good')]);
        return s;
      },
      feed: (s) => [vote(T1, s, 'wr-1', 'good')],
      check: (_s, e) => {
        const firstPublish = e.findIndex((x) => x.type === 'publish');
        const lastPersist = e.map((x) => x.type).lastIndexOf('persist');
        expect(firstPublish).toBeGreaterThan(-1);
        expect(lastPersist).toBeGreaterThan(-1);
        expect(lastPersist, e.map((x) => x.type).join(',')).toBeLessThan(firstPublish);
      },
    },
    {
      name: 'a dissenting worker gets a fault, even when its vote comes late',
      build: () => rootAggregating(),
      feed: (s) => [vote(T1, s, 'wr-0', 'good'), vote(T1, s, 'wr-1', 'good'), input(msg(T1, 'J', 'worker', 'wr-2', 'aggregate', { attempt: 0, inputs: s.inputs!.hash, ref: fakeRef('bad') }, { round: 1 }))],
      check: (s) => expect(s.faults.get('wr-2')).toBe(1),
    },
    {
      name: 'split votes fail consensus; the round is retried with the workers that answered',
      build: () => rootAggregating(),
      feed: (s) => [vote(T1, s, 'wr-0', 'a'), vote(T1, s, 'wr-1', 'b'), vote(T1, s, 'wr-2', 'c')],
      check: (s, e) => {
        expect([s.processStage, s.attempt]).toEqual([2, 1]);
        expect(ofType(e, 'emitMetric').map((m) => m.name)).toContain('consensusFailed');
      },
    },
    {
      name: 'consensus that keeps failing stops the root with the reason',
      build: () => rootAggregating(),
      feed: (s) => {
        const out: Input[] = [];
        for (let a = 0; a < MAX_ATTEMPTS; a++) {
          out.push(input(msg(T1, 'J', 'worker', 'wr-0', 'aggregate', { attempt: a, inputs: s.inputs!.hash, ref: fakeRef('a') }, { round: 1 })));
          out.push(input(msg(T1, 'J', 'worker', 'wr-1', 'aggregate', { attempt: a, inputs: s.inputs!.hash, ref: fakeRef('b') }, { round: 1 })));
          out.push(input(msg(T1, 'J', 'worker', 'wr-2', 'aggregate', { attempt: a, inputs: s.inputs!.hash, ref: fakeRef('c') }, { round: 1 })));
        }
        return out;
      },
      check: (s) => expect(s.stopReason).toMatch(/^failed: consensus failed in round 1/),
    },
    {
      name: 'the last round stops the root: ProcessStage=3 with the final parameters (step 8)',
      build: () => {
        const s = rootAggregating();
        run(s, [vote(T1, s, 'wr-0', 'r1'), vote(T1, s, 'wr-1', 'r1')]);
        for (const c of ['c0', 'c1', 'c2']) run(s, [submit(T1, 'J', c, s.global!.hash, 2)]);
        return s;
      },
      feed: (s) => [vote(T1, s, 'wr-0', 'r2'), vote(T1, s, 'wr-1', 'r2')],
      check: (s, e) => {
        expect(s.processStage).toBe(3);
        expect(s.stopReason).toBe('rounds: 2 of 2 done');
        expect(publishedOf(e, 'state').at(-1)?.payload.global).toEqual(fakeRef('r2'));
      },
    },
    {
      name: 'target accuracy stops the root early',
      build: () => {
        const t = tree(3, { rounds: 10, extra: { stop: { rounds: 10, targetAccuracy: 0.4 } } });
        return rootAggregating(t);
      },
      feed: (s) => [vote(s.tree, s, 'wr-0', 'x'), vote(s.tree, s, 'wr-1', 'x')],
      check: (s) => expect(s.stopReason).toMatch(/^targetAccuracy/),
    },
    {
      name: 'target loss stops the root early',
      build: () => rootAggregating(tree(3, { rounds: 10, extra: { stop: { rounds: 10, targetLoss: 0.6 } } })),
      feed: (s) => [vote(s.tree, s, 'wr-0', 'x'), vote(s.tree, s, 'wr-1', 'x')],
      check: (s) => expect(s.stopReason).toMatch(/^targetLoss/),
    },
    {
      name: 'silent members are marked offline on the heartbeat timer, and a sampled offline client no longer holds the round',
      build: () => {
        const s = rootTraining();
        run(s, [submit(T1, 'J', 'c0', s.global!.hash), submit(T1, 'J', 'c1', s.global!.hash)], 5000);
        return s;
      },
      feed: () => [
        ...['wr-0', 'wr-1', 'wr-2'].map((w) => input(msg(T1, 'J', 'worker', w, 'heartbeat', { status: 2, acked: 2, sheetHash: 'a'.repeat(64), refused: false, samples: 0 }))),
        { type: 'timer', id: 'hb' },
      ],
      check: (s, e) => {
        expect(s.clients.records.get('c2')!.offline).toBe(true);
        expect(s.workers.records.get('wr-0')!.offline).toBe(false);
        expect(ofType(e, 'emitMetric').some((m) => m.name === 'memberOffline')).toBe(true);
        expect(s.processStage).toBe(2);
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = c.build();
      const e = run(s, c.feed(s), s.processStage === 1 && c.name.startsWith('silent') ? 5000 : 1000);
      c.check(s, e);
    });
  }
});

describe('host: snapshots on heartbeats', () => {
  it('republishes once a whole interval passed without a snapshot, whatever changed or not', () => {
    const s = rootTraining();
    const beatMs = s.node.timing.heartbeatSeconds * 1000;
    const seqBefore = s.seq;
    const quiet = run(s, [{ type: 'timer', id: 'hb' }], 1000 + beatMs - 1);
    const due = run(s, [{ type: 'timer', id: 'hb' }], 1000 + beatMs);
    const again = run(s, [{ type: 'timer', id: 'hb' }], 1000 + 2 * beatMs - 1);
    expect([publishedOf(quiet, 'state').length, publishedOf(due, 'state').length, publishedOf(again, 'state').length]).toEqual([0, 1, 0]);
    expect(publishedOf(due, 'state')[0]!.seq).toBeGreaterThan(seqBefore);
  });

  it('every change still goes out at once, however recent the last snapshot', () => {
    const s = rootTraining();
    const e = run(s, T1.jobs.get('J')!.clients.map((c) => submit(T1, 'J', c.id, s.global!.hash)));
    expect(publishedOf(e, 'state').map((m) => m.payload.processStage)).toEqual([2]);
  });
});

describe('host: secondary jobs', () => {
  const parentTraining = (seq: number, round = 1) =>
    stateMsg(T2, 'J', { datasetFlag: true, processStage: 1, global: fakeRef(`g${round}`), sample: { seed: 1, threshold: 0xffffffff } }, { seq, round });

  // A secondary host that ran both its local rounds for parent round 1 and submitted upward.
  const submittedUpward = () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    run(s, [input(parentTraining(10))]);
    const clients = T2.jobs.get('J#0')!.clients.map((c) => c.id);
    for (const local of [1, 2]) {
      for (const c of clients) run(s, [submit(T2, 'J#0', c, s.global!.hash, s.round)]);
      run(s, [vote(T2, s, 'wr0-0', `a${local}`), vote(T2, s, 'wr0-1', `a${local}`)]);
    }
    return s;
  };

  it('starts a local round when the parent trains and samples it', () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    run(s, [input(parentTraining(10))]);
    expect([s.round, s.localRound, s.parentRound, s.processStage]).toEqual([1, 1, 1, 1]);
    expect(s.global).toEqual(fakeRef('g1'));
  });

  it('stays idle when the parent does not sample it', () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    const m = stateMsg(T2, 'J', { datasetFlag: true, processStage: 1, global: fakeRef('g1'), sample: { seed: 3, threshold: 0 } }, { seq: 10, round: 1 });
    expect(isSampled({ seed: 3, threshold: 0 }, 'J#0')).toBe(false);
    run(s, [input(m)]);
    expect(s.round).toBe(0);
  });

  it('a round it failed is tried again at the parent\'s next attempt of that round, once per attempt (§6.6)', () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    const parentAt = (seq: number, attempt: number) => input(stateMsg(T2, 'J', { datasetFlag: true, processStage: 1, attempt, global: fakeRef('g1'), sample: { seed: 1, threshold: 0xffffffff } }, { seq, round: 1 }));
    run(s, [parentAt(10, 0)]);
    // No client submits: every attempt's deadline passes, and the round fails.
    for (let i = 0; i < MAX_ATTEMPTS; i++) run(s, [{ type: 'timer', id: `deadline:1:1:${i}` }]);
    expect([s.processStage, s.parentRound, s.round]).toEqual([0, 1, 1]);
    expect(s.stopReason).toMatch(/quorum not reached/);
    // The parent's snapshots of the same attempt change nothing.
    run(s, [parentAt(11, 0)]);
    expect([s.processStage, s.round]).toEqual([0, 1]);
    // Its next attempt samples this job again: a fresh local round series from the same global.
    const e = run(s, [parentAt(12, 1)]);
    expect([s.processStage, s.parentRound, s.parentAttempt, s.localRound, s.round, s.stopReason]).toEqual([1, 1, 1, 1, 2, null]);
    expect(s.global).toEqual(fakeRef('g1'));
    expect(publishedOf(e, 'state').at(-1)?.payload).toMatchObject({ processStage: 1, stopReason: null });
    // While that series runs, the same attempt's snapshots do not restart it.
    run(s, [parentAt(13, 1)]);
    expect([s.round, s.localRound]).toEqual([2, 1]);
    // The attempt it started from survives a restart from its checkpoint.
    expect(restoreHostState(T2, JSON.parse(JSON.stringify(checkpointHost(s))), 2000).parentAttempt).toBe(1);
  });

  it('ignores a stale parent snapshot', () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    run(s, [input(parentTraining(10))]);
    run(s, [input(parentTraining(9, 2))]);
    expect(s.parentRound).toBe(1);
  });

  it('runs its local rounds, then submits upward as one client weighted by the samples underneath', () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    run(s, [input(parentTraining(10))]);
    const clients = T2.jobs.get('J#0')!.clients.map((c) => c.id);
    for (const local of [1, 2]) {
      for (const c of clients) run(s, [submit(T2, 'J#0', c, s.global!.hash, s.round)]);
      const e = run(s, [vote(T2, s, 'wr0-0', `a${local}`), vote(T2, s, 'wr0-1', `a${local}`)]);
      if (local === 1) expect([s.round, s.localRound, s.processStage], 'second local round').toEqual([2, 2, 1]);
      else {
        const up = publishedOf(e, 'submit');
        expect(up).toHaveLength(1);
        expect(up[0]).toMatchObject({ job: 'J', round: 1, member: 'J#0', role: 'client', payload: { base: fakeRef('g1').hash, ref: fakeRef('a2'), samples: 20 } });
        expect(publishedOf(e, 'state'), 'still stage 2 with the same inputs: no new snapshot').toHaveLength(0);
      }
    }
  });

  it('resends its upward submission only when the parent names it missing', () => {
    const s = submittedUpward();
    const beat = run(s, [{ type: 'timer', id: 'hb' }]);
    const heartbeatUp = publishedOf(beat, 'heartbeat').find((h) => h.job === 'J');
    const named = (seq: number, missing: string[]) =>
      input(stateMsg(T2, 'J', { datasetFlag: true, processStage: 1, global: fakeRef('g1'), sample: { seed: 1, threshold: 0xffffffff }, missing }, { seq, round: 1 }));
    const other = run(s, [named(11, ['J#1'])]);
    const mine = run(s, [named(12, ['J#0'])]);
    expect(heartbeatUp?.payload.status, 'the heartbeat upward says it submitted').toBe(4);
    expect([publishedOf(beat, 'submit').length, publishedOf(other, 'submit').length]).toEqual([0, 0]);
    expect(publishedOf(mine, 'submit')).toMatchObject([{ job: 'J', round: 1, member: 'J#0', payload: { ref: fakeRef('a2') } }]);
  });

  it('decides a round once: a late dissenting vote, resent while waiting for the parent, is not a second decision or a second fault', () => {
    const s = submittedUpward();
    // The third worker's dissenting vote arrives after the decision, then again (a resend).
    const late = input(msg(T2, 'J#0', 'worker', 'wr0-2', 'aggregate', { attempt: s.attempt, inputs: s.inputs!.hash, ref: fakeRef('lie') }, { round: s.round }));
    const first = run(s, [late]);
    const again = run(s, [late, late]);
    expect(s.faults.get('wr0-2')).toBe(1);
    expect(publishedOf([...first, ...again], 'submit')).toHaveLength(0);
    expect(ofType([...first, ...again], 'emitMetric').filter((m) => m.name === 'round')).toHaveLength(0);
  });

  it("finishes when the parent finishes, with the parent's final parameters", () => {
    const s = hostAfterSetup(T2, 'J#0', 2);
    run(s, [input(stateMsg(T2, 'J', { datasetFlag: true, processStage: 3, global: fakeRef('final'), stopReason: 'rounds' }, { seq: 50, round: 2 }))]);
    expect(s.processStage).toBe(3);
    expect(s.global).toEqual(fakeRef('final'));
  });
});

describe('host: checkpoints and finishing', () => {
  it('a checkpoint restores the host mid-round, and the restored host republishes on start', () => {
    const s = rootTraining();
    run(s, [submit(T1, 'J', 'c0', s.global!.hash)]);
    const cp = JSON.parse(JSON.stringify(checkpointHost(s)));
    const r = restoreHostState(T1, cp, 9000);
    expect([r.round, r.processStage, r.submissions.size, r.clients.reached[2]]).toEqual([1, 1, 1, 3]);
    const e = stepHost(r, { type: 'start' }, ctxAt(9000)).effects;
    expect(publishedOf(e, 'state')[0]?.seq).toBeGreaterThan(s.seq);
    expect(ofType(e, 'setTimer').map((t) => t.id)).toContain(s.deadlineTimer);
    run(r, [submit(T1, 'J', 'c1', r.global!.hash), submit(T1, 'J', 'c2', r.global!.hash)], 9000);
    expect(r.processStage).toBe(2);
  });

  it('a root restored behind its members (newer checkpoints lost) ends the job in their round once most workers report it (§6.8)', () => {
    const s = rootTraining();
    expect(s.round).toBe(1);
    const beat = (w: string, round: number) => input(msg(T1, 'J', 'worker', w, 'heartbeat', { status: 2, acked: 2, sheetHash: 'a'.repeat(64), refused: false, samples: 0 }, { round }));
    run(s, [beat('wr-0', 4), beat('wr-1', 1)]);
    expect(s.processStage, 'one worker of three ahead is not a majority').toBe(1);
    run(s, [beat('wr-0', 1)]);
    expect(s.workersAhead.size, 'a worker back in step is no longer counted').toBe(0);
    run(s, [beat('wr-0', 4)]);
    const e = run(s, [beat('wr-2', 3)]);
    const [state] = publishedOf(e, 'state');
    expect(s.processStage).toBe(3);
    expect(state?.round, 'the round the majority saw, so members do not ignore it as stale').toBe(3);
    expect(s.stopReason).toMatch(/^failed: the root host restarted without its state of round 3 \(it could restore only round 1/);
  });

  it('a root that is its own only worker, restored with nothing, ends the job once most clients report a later round (§6.8)', () => {
    const s = rootTraining();
    const beat = (c: string, round: number) => input(msg(T1, 'J', 'client', c, 'heartbeat', { status: 2, acked: 2, sheetHash: 'a'.repeat(64), refused: false, samples: 1 }, { round }));
    run(s, [beat('c0', 5)]);
    expect(s.processStage, 'one client of three ahead is not a majority').toBe(1);
    const e = run(s, [beat('c2', 5)]);
    expect(s.processStage).toBe(3);
    expect(publishedOf(e, 'state')[0]?.round).toBe(5);
  });

  it('a checkpoint of another job is refused', () => {
    const other = tree(3, { name: 'Other' });
    expect(() => restoreHostState(other, checkpointHost(rootTraining()), 0)).toThrow(/belongs to job/);
  });

  it('a finished host republishes until every member reports status 5, then says finished', () => {
    const s = rootTraining();
    run(s, [input(stateMsg(T1, 'J', {}))]); // a state on its own job's topic is not for the host
    s.processStage = 3;
    expect(ofType(run(s, [{ type: 'timer', id: 'hb' }]), 'finished')).toHaveLength(0);
    for (const m of ['c0', 'c1', 'c2']) run(s, [input(msg(T1, 'J', 'client', m, 'heartbeat', { status: 5, acked: 2, sheetHash: 'a'.repeat(64), refused: false, samples: 1 }))]);
    for (const m of ['wr-0', 'wr-1', 'wr-2']) run(s, [input(msg(T1, 'J', 'worker', m, 'heartbeat', { status: 5, acked: 2, sheetHash: 'a'.repeat(64), refused: false, samples: 0 }))]);
    expect(ofType(run(s, [{ type: 'timer', id: 'hb' }]), 'finished')).toHaveLength(1);
    expect(run(s, [{ type: 'timer', id: 'hb' }])).toEqual([]);
  });
});

describe('host: failure reasons (§6.13)', () => {
  const failing = (t: JobTree, job: string, client: string, failure: { kind: 'data' | 'train'; round: number; attempts: number; reason: string }, round = 0) =>
    input(msg(t, job, 'client', client, 'heartbeat', { status: 1, acked: 1, sheetHash: ack(t, job, 'client', client, 1).payload.sheetHash as string, refused: false, samples: 0, failure }, { round }));

  it(`the root in setup ends the job with the members' reasons once a data failure repeats ${3} times`, () => {
    const s = hostAfterSetup(T1, 'J', 1);
    expect(s.datasetFlag).toBe(true);
    run(s, [failing(T1, 'J', 'c1', { kind: 'data', round: 0, attempts: 1, reason: 'ENOENT: /data/c1.csv' })]);
    run(s, [failing(T1, 'J', 'c2', { kind: 'data', round: 0, attempts: 2, reason: 'ENOENT: /data/c2.csv' })]);
    expect(s.processStage, 'two failures in a row may still be transient').toBe(0);
    const e = run(s, [failing(T1, 'J', 'c1', { kind: 'data', round: 0, attempts: 3, reason: 'ENOENT: /data/c1.csv' })]);
    expect(s.processStage).toBe(3);
    expect(s.stopReason).toBe('failed: setup: a member could not load its data; members failed: data x2 (c1: ENOENT: /data/c1.csv; c2: ENOENT: /data/c2.csv)');
    expect(publishedOf(e, 'state').at(-1)?.payload.stopReason).toBe(s.stopReason);
  });

  it('a heartbeat without a failure takes the member off the list', () => {
    const s = hostAfterSetup(T1, 'J', 1);
    run(s, [failing(T1, 'J', 'c1', { kind: 'data', round: 0, attempts: 2, reason: 'slow disk' })]);
    expect([...s.failures.keys()]).toEqual(['c1']);
    run(s, [input(msg(T1, 'J', 'client', 'c1', 'heartbeat', { status: 1, acked: 1, sheetHash: ack(T1, 'J', 'client', 'c1', 1).payload.sheetHash as string, refused: false, samples: 0 }))]);
    expect(s.failures.size).toBe(0);
  });

  it('a round that misses its quorum carries the reasons its clients gave, counted by kind', () => {
    const s = rootTraining();
    run(s, [
      failing(T1, 'J', 'c0', { kind: 'train', round: 1, attempts: 1, reason: 'training diverged: the loss is NaN (try a smaller learning rate)' }, 1),
      failing(T1, 'J', 'c1', { kind: 'train', round: 1, attempts: 1, reason: 'shape mismatch: expected [784], got [10]' }, 1),
      failing(T1, 'J', 'c2', { kind: 'train', round: 1, attempts: 1, reason: 'shape mismatch: expected [784], got [10]' }, 1),
    ]);
    for (let i = 0; i < MAX_ATTEMPTS; i++) run(s, [{ type: 'timer', id: `deadline:1:1:${i}` }]);
    expect(s.processStage).toBe(3);
    expect(s.stopReason).toMatch(/^failed: round 1: quorum not reached \(0 of 2 needed submissions\); members failed: train x3 \(c0: training diverged: the loss is NaN \(try a smaller learning rate\); c1: shape mismatch: expected \[784\], got \[10\]; …\)$/);
  });

  it('a sub-job passes its members\' worst failure up, named, in its heartbeat to the parent', () => {
    const s = hostAfterSetup(T2, 'J#0', 1);
    run(s, [failing(T2, 'J#0', 'c0', { kind: 'data', round: 0, attempts: 2, reason: 'ENOENT: x.csv' })]);
    const e = run(s, [{ type: 'timer', id: 'hb' }]);
    const up = publishedOf(e, 'heartbeat').find((h) => h.job === 'J');
    expect(up?.payload.failure).toEqual({ kind: 'data', round: 0, attempts: 2, reason: 'J#0/c0: ENOENT: x.csv' });
  });
});
