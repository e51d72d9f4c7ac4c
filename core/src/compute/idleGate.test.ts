import { describe, expect, it } from 'vitest';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';
import { sha256Hex } from '../util/hash.js';
import { IdleGate, IdleGateStoppedError, type IdleGateState } from './idleGate.js';
import { syntheticCompute } from './syntheticCompute.js';

const model: ModelSpec = { kind: 'logreg', inputShape: [784], numClasses: 10 };
const train: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 2, batchSize: 32, mu: 0, seed: 5 };
const source = { kind: 'chunk' as const, bytes: new Uint8Array() };
const members = ['c-0', 'c-1', 'c-2'];

// A gate over a real synthetic backend, with every member's data loaded, and what it reports.
async function gated(ownerActive: boolean) {
  const states: IdleGateState[] = [];
  const gate = new IdleGate(syntheticCompute({ params: 64 }), { ownerActive, onChange: (s) => states.push(s) });
  for (const m of members) await gate.loadData({ key: `job/${m}`, source, owner: { member: m, trainSeed: train.seed } });
  const global = await gate.initParams({ model, seed: train.seed });
  return { gate, global, states };
}

// The same work on an ungated backend: what the gate must give back, once per task.
async function expectedTrain(global: Uint8Array) {
  const c = syntheticCompute({ params: 64 });
  const out: string[] = [];
  for (const m of members) {
    await c.loadData({ key: `job/${m}`, source, owner: { member: m, trainSeed: train.seed } });
    out.push(sha256Hex((await c.train({ key: `job/${m}`, model, train, global, seed: 0 })).params));
  }
  return out;
}

// A promise's state, seen after every pending timer and microtask has had its turn.
function track<T>(p: Promise<T>) {
  const t = { settled: false, error: undefined as unknown, p };
  p.then(
    () => (t.settled = true),
    (err: unknown) => ((t.settled = true), (t.error = err)),
  );
  return t;
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('IdleGate', () => {
  it('an aborted task stops waiting for the gate and never runs', async () => {
    const { gate, global, states } = await gated(true);
    const ac = new AbortController();
    const task = track(gate.train({ key: 'job/c-0', model, train, global, seed: 0 }, { signal: ac.signal }));
    await settle();
    expect(states.at(-1)).toEqual({ ownerActive: true, held: 1 });
    ac.abort();
    await settle();
    expect(task.error).toMatchObject({ code: 'ABORTED' });
    expect(states.at(-1)).toEqual({ ownerActive: true, held: 0 });
  });

  it('holds training while the owner is active and runs it, unchanged, once the owner is idle', async () => {
    const { gate, global, states } = await gated(true);
    const task = track(gate.train({ key: 'job/c-0', model, train, global, seed: 0 }));
    await settle();
    expect(task.settled).toBe(false);
    expect(states.at(-1)).toEqual({ ownerActive: true, held: 1 });
    gate.setOwnerActive(false);
    const outcome = await task.p;
    expect(sha256Hex(outcome.params)).toBe((await expectedTrain(global))[0]);
    expect(states.at(-1)).toEqual({ ownerActive: false, held: 0 });
  });

  it('holds evaluation too', async () => {
    const { gate, global } = await gated(true);
    const task = track(gate.evaluate({ key: 'job/c-1', model, params: global }));
    await settle();
    expect(task.settled).toBe(false);
    gate.setOwnerActive(false);
    const ungated = syntheticCompute({ params: 64 });
    await ungated.loadData({ key: 'job/c-1', source, owner: { member: 'c-1', trainSeed: train.seed } });
    expect(await task.p).toEqual(await ungated.evaluate({ key: 'job/c-1', model, params: global }));
  });

  it('lets aggregation, data loading and initParams through while the owner is active', async () => {
    const { gate, global } = await gated(true);
    const inputs = members.map((m) => ({ memberId: m, params: global, weight: 1 }));
    const agg = await gate.aggregate({ stateKey: 'job', model, aggregator: { kind: 'fedavg' }, base: global, inputs });
    expect(sha256Hex(agg)).toBe(sha256Hex(await syntheticCompute({ params: 64 }).aggregate({ stateKey: 'job', model, aggregator: { kind: 'fedavg' }, base: global, inputs })));
    expect(await gate.loadData({ key: 'job/late', source, owner: { member: 'late', trainSeed: 1 } })).toMatchObject({ train: expect.any(Number) });
    expect(gate.ownerActive).toBe(true);
  });

  it('runs tasks straight through while the owner is idle', async () => {
    const { gate, global, states } = await gated(false);
    const outcome = await gate.train({ key: 'job/c-2', model, train, global, seed: 0 });
    expect(sha256Hex(outcome.params)).toBe((await expectedTrain(global))[2]);
    expect(states).toEqual([]);
  });

  it('on stop, rejects every held task with a clear error, and refuses new ones while the owner is active', async () => {
    const { gate, global } = await gated(true);
    const held = [track(gate.train({ key: 'job/c-0', model, train, global, seed: 0 })), track(gate.evaluate({ key: 'job/c-1', model, params: global }))];
    await settle();
    await gate.stop();
    await settle();
    for (const [i, t] of held.entries()) {
      expect(t.error, `held task ${i}`).toBeInstanceOf(IdleGateStoppedError);
      expect((t.error as IdleGateStoppedError).code, `held task ${i}`).toBe('ABORTED');
    }
    expect((held[0]!.error as Error).message).toMatch(/node stopped while a train task was waiting for the owner to leave this computer idle/);
    await expect(gate.train({ key: 'job/c-0', model, train, global, seed: 0 })).rejects.toThrow(IdleGateStoppedError);
  });

  it('neither loses nor repeats held work when the owner comes and goes quickly', async () => {
    const { gate, global, states } = await gated(true);
    const tasks = members.map((m) => track(gate.train({ key: `job/${m}`, model, train, global, seed: 0 })));
    // Back before the held tasks resume: they keep waiting.
    gate.setOwnerActive(false);
    gate.setOwnerActive(true);
    await settle();
    expect(tasks.map((t) => t.settled)).toEqual([false, false, false]);
    expect(states.at(-1)).toEqual({ ownerActive: true, held: 3 });
    // Repeated reports of the same state change nothing.
    gate.setOwnerActive(true);
    gate.setOwnerActive(false);
    gate.setOwnerActive(false);
    const outcomes = await Promise.all(tasks.map((t) => t.p));
    expect(outcomes.map((o) => sha256Hex(o.params))).toEqual(await expectedTrain(global));
    expect(states.at(-1)).toEqual({ ownerActive: false, held: 0 });
  });
});
