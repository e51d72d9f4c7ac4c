import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Effect } from '../effects.js';
import type { Input } from '../inputs.js';
import { deriveJobSheet } from '../jobSheet.js';
import { ctxAt, fakeRef, msg, ofType, publishedOf, stateMsg, tree } from '../test/harness.js';
import { BadInputError } from '../../util/errors.js';
import { createClientState, stepClient, type ClientState } from './client.js';
import { createDistributorState, stepDistributor } from './distributor.js';
import { createWorkerState, stepWorker, type WorkerState } from './worker.js';
import { decodeJournal } from './memberJournal.js';
import { restoreMemberMachine, stepMachine, type Machine } from './index.js';

// §6.15: every member journals what it must not lose before it announces it, and a member
// restored from that journal (through JSON, as from disk) resumes its part of the round: the
// same update, the same aggregate, the same dataset offer, without redoing the work.

const T = tree(3, { workers: 3 });
const TD = tree([2, 1], { workers: 1, distributor: true });
const ALL = { seed: 1, threshold: 0xffffffff };
const G = fakeRef('global');
const INPUTS = fakeRef('inputs');
const m = (message: ReturnType<typeof stateMsg>): Input => ({ type: 'message', message });

function run<S>(step: (s: S, i: Input, c: ReturnType<typeof ctxAt>) => { state: S; effects: Effect[] }, s: S, inputs: Input[], now = 1000): Effect[] {
  const out: Effect[] = [];
  for (const i of inputs) out.push(...step(s, i, ctxAt(now)).effects);
  return out;
}
const stepM = (machine: Machine, inputs: Input[], now = 50_000): Effect[] => {
  const out: Effect[] = [];
  for (const i of inputs) {
    const r = stepMachine(machine.state, i, ctxAt(now));
    machine.state = r.state;
    out.push(...r.effects);
  }
  return out;
};
// The newest journal entry among effects, through JSON as a disk would give it back.
const lastJournal = (effects: Effect[]): unknown => JSON.parse(JSON.stringify(ofType(effects, 'journal').at(-1)!.entry));
const training = (seq: number, round = 1) => m(stateMsg(T, 'J', { datasetFlag: true, processStage: 1, global: G, sample: ALL }, { seq, round }));

function readyClient(): { s: ClientState; effects: Effect[] } {
  const s = createClientState(deriveJobSheet(T, 'J', 'client', 'c0'));
  const effects = run(stepClient, s, [{ type: 'start' }, m(stateMsg(T, 'J', {}, { seq: 1 })), m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 })), { type: 'consent', job: 'J', given: true }, { type: 'datasetLoaded', job: 'J', samples: 40 }]);
  return { s, effects };
}

describe('member journals (§6.15)', () => {
  it('a client journals its submitted update before publishing it, and once restored resends that very update, without training again', () => {
    const { s } = readyClient();
    const e = run(stepClient, s, [training(3), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'trained', job: 'J', round: 1, ref: fakeRef('mine'), samples: 40, loss: 0.3, accuracy: 0.7 }, { type: 'evaluated', job: 'J', round: 1, loss: 0.6, accuracy: 0.4, samples: 10 }]);
    const submit = publishedOf(e, 'submit')[0]!;
    const order = e.map((x) => (x.type === 'publish' ? `pub:${x.message.type}` : x.type));
    expect(order.lastIndexOf('journal'), order.join(',')).toBeLessThan(order.indexOf('pub:submit'));

    const restored = restoreMemberMachine(T, 'client', 'J', 'c0', lastJournal(e), 2000);
    // The host's snapshots as a restarted client sees them: the sheet and dataset flags, the round still training.
    const after = stepM(restored, [{ type: 'start' }, training(10)]);
    expect(publishedOf(after, 'submit').map((x) => [x.round, x.payload])).toEqual([[1, submit.payload]]);
    expect(ofType(after, 'train')).toHaveLength(0);
    expect(ofType(after, 'askConsent'), 'consent is not asked again').toHaveLength(0);
    expect(ofType(after, 'loadDataset'), 'its data is loaded again for later rounds').toHaveLength(1);
    // Resent once: a later snapshot of the same round does not repeat it (§6.12 covers a loss).
    expect(publishedOf(stepM(restored, [training(11)]), 'submit')).toHaveLength(0);
  });

  it('a restored client whose round has closed does not resend, and trains in the next round as usual', () => {
    const { s } = readyClient();
    const e = run(stepClient, s, [training(3), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'trained', job: 'J', round: 1, ref: fakeRef('mine'), samples: 40, loss: 0.3, accuracy: 0.7 }, { type: 'evaluated', job: 'J', round: 1, loss: 0.6, accuracy: 0.4, samples: 10 }]);
    const restored = restoreMemberMachine(T, 'client', 'J', 'c0', lastJournal(e), 2000);
    const after = stepM(restored, [{ type: 'start' }, training(10, 2), { type: 'datasetLoaded', job: 'J', samples: 40 }, training(11, 2)]);
    expect(publishedOf(after, 'submit')).toHaveLength(0);
    expect(ofType(after, 'fetchBlob').map((x) => x.ref)).toEqual([G]);
  });

  it('a client restored after training but before evaluating evaluates only, then submits its journaled update', () => {
    const { s } = readyClient();
    const e = run(stepClient, s, [training(3), { type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'trained', job: 'J', round: 1, ref: fakeRef('mine'), samples: 40, loss: 0.3, accuracy: 0.7 }]);
    expect(publishedOf(e, 'submit')).toHaveLength(0);
    const restored = restoreMemberMachine(T, 'client', 'J', 'c0', lastJournal(e), 2000);
    const after = stepM(restored, [{ type: 'start' }, training(10), { type: 'datasetLoaded', job: 'J', samples: 40 }, { type: 'timer', id: 'hb' }]);
    expect(ofType(after, 'fetchBlob').map((x) => x.ref)).toEqual([G]);
    const worked = stepM(restored, [{ type: 'blobFetched', job: 'J', ref: G, ok: true }, { type: 'evaluated', job: 'J', round: 1, loss: 0.6, accuracy: 0.4, samples: 10 }]);
    expect([ofType(worked, 'train').length, ofType(worked, 'evaluate').length]).toEqual([0, 1]);
    expect(publishedOf(worked, 'submit').map((x) => x.payload.ref)).toEqual([fakeRef('mine')]);
  });

  it('a refusal stands after a restart: no consent asked, no data loaded, never sampled work', () => {
    const s = createClientState(deriveJobSheet(T, 'J', 'client', 'c0'));
    const e = run(stepClient, s, [{ type: 'start' }, m(stateMsg(T, 'J', {}, { seq: 1 })), m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 })), { type: 'consent', job: 'J', given: false }]);
    const restored = restoreMemberMachine(T, 'client', 'J', 'c0', lastJournal(e), 2000);
    const after = stepM(restored, [{ type: 'start' }, training(10), { type: 'timer', id: 'hb' }]);
    expect([ofType(after, 'askConsent').length, ofType(after, 'loadDataset').length, ofType(after, 'fetchBlob').length]).toEqual([0, 0, 0]);
    expect(publishedOf(after, 'heartbeat').every((h) => h.payload.refused && h.payload.acked === 2)).toBe(true);
  });

  it('a worker journals its aggregate before voting it, and once restored votes that very aggregate again without aggregating', () => {
    const s: WorkerState = createWorkerState(deriveJobSheet(T, 'J', 'worker', 'wr-0'));
    const agg = (seq: number, attempt = 0) => m(stateMsg(T, 'J', { datasetFlag: true, processStage: 2, global: G, inputs: INPUTS, inputCount: 3, attempt }, { seq, round: 1 }));
    const e = run(stepWorker, s, [{ type: 'start' }, m(stateMsg(T, 'J', {}, { seq: 1 })), m(stateMsg(T, 'J', { datasetFlag: true }, { seq: 2 })), agg(3), { type: 'aggregated', job: 'J', round: 1, attempt: 0, ref: fakeRef('agg') }]);
    const order = e.map((x) => (x.type === 'publish' ? `pub:${x.message.type}` : x.type));
    expect(order.lastIndexOf('journal')).toBeLessThan(order.indexOf('pub:aggregate'));
    const restored = restoreMemberMachine(T, 'worker', 'J', 'wr-0', lastJournal(e), 2000);
    const after = stepM(restored, [{ type: 'start' }, agg(10), { type: 'timer', id: 'hb' }]);
    expect(ofType(after, 'aggregate')).toHaveLength(0);
    expect(publishedOf(after, 'aggregate').map((x) => [x.round, x.payload])).toEqual([[1, { attempt: 0, inputs: INPUTS.hash, ref: fakeRef('agg') }]]);
    // A retry with the same inputs is answered at once with the same bytes.
    expect(publishedOf(stepM(restored, [agg(11, 1)]), 'aggregate').map((x) => x.payload.ref)).toEqual([fakeRef('agg')]);
  });

  it('a distributor journals its indexes before offering them, and once restored offers them at start without preparing again', () => {
    const s = createDistributorState(TD, deriveJobSheet(TD, TD.root, 'distributor', 'dist'));
    const indexes = { 'J#0': fakeRef('i0'), 'J#1': fakeRef('i1') };
    const e = run(stepDistributor, s, [{ type: 'start' }, { type: 'datasetPrepared', indexes }]);
    const order = e.map((x) => (x.type === 'publish' ? `pub:${x.message.type}` : x.type));
    expect(order.indexOf('journal')).toBeLessThan(order.indexOf('pub:dataset-offer'));
    const restored = restoreMemberMachine(TD, 'distributor', TD.root, 'dist', lastJournal(e), 2000);
    const after = stepM(restored, [{ type: 'start' }, { type: 'message', message: msg(TD, 'J#1', 'client', 'c2', 'dataset-request', {}) }]);
    expect(ofType(after, 'prepareDataset')).toHaveLength(0);
    expect(publishedOf(after, 'dataset-offer').map((x) => [x.job, x.payload])).toEqual([
      ['J#0', { index: indexes['J#0'], clients: 2 }],
      ['J#1', { index: indexes['J#1'], clients: 1 }],
    ]);
  });

  it('decoding a stored journal never throws anything but BadInputError, whatever the bytes held (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('client', 'worker', 'distributor') as fc.Arbitrary<'client' | 'worker' | 'distributor'>, fc.jsonValue(), (role, raw) => {
        try {
          decodeJournal(role, raw);
        } catch (err) {
          expect(err).toBeInstanceOf(BadInputError);
        }
      }),
      { numRuns: 2000 },
    );
    expect(() => decodeJournal('worker', { v: 1, role: 'worker', work: { round: 0 }, init: null })).toThrow(/worker journal .*work/);
  });
});
