import { describe, expect, it } from 'vitest';
import type { Input } from '../inputs.js';
import type { JobTree } from '../jobTree.js';
import { isSampled, sequentialPick } from '../sampling.js';
import { ack, ctxAt, fakeRef, msg, stateMsg, tree } from '../test/harness.js';
import { stepHost } from './host.js';
import { createHostState, type HostState } from './hostState.js';

// Sequential clusters (PROTOCOL.md §6.3): one client per round, in the listed order; the
// turn passes over clients that are not eligible; a retry moves the turn on.

function run(s: HostState, inputs: Input[], now = 1000) {
  const effects = [];
  for (const i of inputs) effects.push(...stepHost(s, i, ctxAt(now)).effects);
  return effects;
}
const input = (message: ReturnType<typeof msg>): Input => ({ type: 'message', message });

function setUp(t: JobTree, job: string, refuse: string[] = []): HostState {
  const s = createHostState(t, job, 0);
  run(s, [{ type: 'start' }]);
  const node = t.jobs.get(job)!;
  for (const stage of [1, 2] as const) {
    if (stage === 2 && node.parent !== undefined) run(s, [input(stateMsg(t, node.parent, { datasetFlag: true }, { seq: 5 }))]);
    for (const c of node.clients) run(s, [input(ack(t, job, 'client', c.id, stage, 10, stage === 2 && refuse.includes(c.id)))]);
    for (const w of node.workers) run(s, [input(ack(t, job, 'worker', w, stage))]);
  }
  return s;
}

// Plays rounds at a root host: the picked client submits, every worker votes the same hash.
function playRoot(t: JobTree, s: HostState, rounds: number): string[] {
  const picked: string[] = [];
  const asked = s.initFrom!;
  run(s, [input(msg(t, 'J', asked.role, asked.member, 'init-params', { ref: fakeRef('init') }))]);
  for (let r = 1; r <= rounds; r++) {
    expect(s.processStage, `round ${r}`).toBe(1);
    const only = s.sample!.only!;
    picked.push(only);
    expect([...s.sampled], `round ${r}: exactly one client`).toEqual([only]);
    run(s, [input(msg(t, 'J', 'client', only, 'submit', { ref: fakeRef(`p${r}`), base: s.global!.hash, samples: 1, eval: { loss: 0, accuracy: 0, samples: 0 }, train: { loss: 0, accuracy: 0 } }, { round: r }))]);
    expect(s.processStage, `round ${r} closes on one submission`).toBe(2);
    const inputs = s.inputs!.hash;
    for (const w of t.jobs.get('J')!.workers) run(s, [input(msg(t, 'J', 'worker', w, 'aggregate', { attempt: 0, inputs, ref: fakeRef(`a${r}`) }, { round: r }))]);
  }
  return picked;
}

describe('sequentialPick', () => {
  const order = ['c2', 'c0', 'c1'];
  const cases: { name: string; eligible: string[]; position: number; pick: string | undefined }[] = [
    { name: 'first turn', eligible: order, position: 0, pick: 'c2' },
    { name: 'listed order, not sorted order', eligible: order, position: 1, pick: 'c0' },
    { name: 'wraps around', eligible: order, position: 4, pick: 'c0' },
    { name: 'skips an ineligible client', eligible: ['c2', 'c1'], position: 1, pick: 'c1' },
    { name: 'skips past the end', eligible: ['c0'], position: 2, pick: 'c0' },
    { name: 'nobody eligible', eligible: [], position: 0, pick: undefined },
  ];
  for (const c of cases) it(c.name, () => expect(sequentialPick(order, new Set(c.eligible), c.position)).toBe(c.pick));

  it('a rule with `only` samples that client alone', () => {
    expect(isSampled({ seed: 0, threshold: 0xffffffff, only: 'c1' }, 'c1')).toBe(true);
    expect(isSampled({ seed: 0, threshold: 0xffffffff, only: 'c1' }, 'c0')).toBe(false);
  });
});

describe('a sequential root', () => {
  const T = tree(3, { workers: 3, rounds: 7, timing: { distribution: 'sequential' } });

  it('visits one client per round, in the listed order, cycling', () => {
    const s = setUp(T, 'J');
    expect(playRoot(T, s, 7)).toEqual(['c0', 'c1', 'c2', 'c0', 'c1', 'c2', 'c0']);
    expect(s.processStage).toBe(3);
  });

  it('passes the turn over a client that refused its data', () => {
    const s = setUp(T, 'J', ['c1']);
    expect(playRoot(T, s, 4)).toEqual(['c0', 'c2', 'c2', 'c0']);
  });

  it('moves the turn on when the picked client misses the deadline', () => {
    const s = setUp(T, 'J');
    const asked = s.initFrom!;
    run(s, [input(msg(T, 'J', asked.role, asked.member, 'init-params', { ref: fakeRef('init') }))]);
    expect(s.sample!.only).toBe('c0');
    const deadline = s.deadlineTimer!;
    run(s, [{ type: 'timer', id: deadline }], 20_000);
    expect(s.attempt).toBe(1);
    expect(s.sample!.only).toBe('c1');
    expect(s.processStage).toBe(1);
  });
});

describe('a sequential secondary job', () => {
  const T = tree([3, 2], { workers: 3, rounds: 2, timing: { distribution: 'sequential', localRounds: 3 } });

  it('runs one local round per child, each sampling the next child', () => {
    const s = setUp(T, 'J#0');
    run(s, [input(stateMsg(T, 'J', { processStage: 1, global: fakeRef('g1'), sample: { seed: 0, threshold: 0, only: 'J#0' } }, { round: 1, seq: 9 }))]);
    const picked: string[] = [];
    for (let r = 1; r <= 3; r++) {
      const only = s.sample!.only!;
      picked.push(only);
      run(s, [input(msg(T, 'J#0', 'client', only, 'submit', { ref: fakeRef(`p${r}`), base: s.global!.hash, samples: 1, eval: { loss: 0, accuracy: 0, samples: 0 }, train: { loss: 0, accuracy: 0 } }, { round: s.round }))]);
      const inputs = s.inputs!.hash;
      const round = s.round;
      for (const w of T.jobs.get('J#0')!.workers) run(s, [input(msg(T, 'J#0', 'worker', w, 'aggregate', { attempt: 0, inputs, ref: fakeRef(`a${r}`) }, { round }))]);
    }
    expect(picked).toEqual(['c0', 'c1', 'c2']);
    // After its last local round it submitted upward, with the last aggregate.
    expect(s.upstream!.pending?.ref).toEqual(fakeRef('a3'));
  });
});
