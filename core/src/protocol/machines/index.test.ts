import { describe, expect, it } from 'vitest';
import { createMachines, stepMachine, viewOf, wantsMessage } from './index.js';
import { ctxAt, stateMsg, tree } from '../test/harness.js';

const T = tree([2, 2], { workers: 2, distributor: true });

describe('createMachines', () => {
  const rows: [string, string[]][] = [
    ['host0', ['host:J']],
    ['host1', ['host:J#0']],
    ['wr0-1', ['worker:J#0']],
    ['c3', ['client:J#1']],
    ['dist', ['distributor:J']],
    ['stranger', []],
  ];
  for (const [member, keys] of rows) {
    it(`${member} runs ${keys.join(', ') || 'nothing'}`, () => expect(createMachines(T, member, 0).map((m) => m.key)).toEqual(keys));
  }

  it('gives each machine its topics: a secondary host listens to its own job and its parent, the distributor to the root and the leaves', () => {
    const [host] = createMachines(T, 'host1', 0);
    expect(host!.topics).toEqual([`canopy/1/${T.rootId}/J#0`, `canopy/1/${T.rootId}/J`]);
    const [dist] = createMachines(T, 'dist', 0);
    expect(dist!.topics).toEqual(['J', ...T.leaves].map((j) => `canopy/1/${T.rootId}/${j}`));
  });
});

describe('wantsMessage', () => {
  const [root] = createMachines(T, 'host0', 0);
  const [sub] = createMachines(T, 'host1', 0);
  const [client] = createMachines(T, 'c0', 0);
  const [worker] = createMachines(T, 'wr-0', 0);
  const [dist] = createMachines(T, 'dist', 0);
  const rows: [string, ReturnType<typeof createMachines>[number], Parameters<typeof wantsMessage>[1], string, boolean][] = [
    ['a host takes submissions of its job', root!, 'submit', 'J', true],
    ['a host ignores its own state', root!, 'state', 'J', false],
    ['a secondary host takes its parent state', sub!, 'state', 'J', true],
    ['a secondary host ignores its parent submissions', sub!, 'submit', 'J', false],
    ['a root host hears a failed dataset preparation', root!, 'dataset-offer', 'J', true],
    ['a client takes state and offers', client!, 'dataset-offer', 'J#0', true],
    ['a client ignores other heartbeats', client!, 'heartbeat', 'J#0', false],
    ['a worker takes state only', worker!, 'aggregate', 'J', false],
    ['the distributor takes requests', dist!, 'dataset-request', 'J#0', true],
  ];
  for (const [name, m, type, job, want] of rows) it(name, () => expect(wantsMessage(m, type, job)).toBe(want));
});

describe('viewOf', () => {
  it("is the least advanced view among a member's machines of a job", () => {
    const machines = createMachines(T, 'c0', 0);
    expect(viewOf(machines, 'J#0')).toEqual({ round: 0, hostSeq: -1 });
    stepMachine(machines[0]!.state, { type: 'message', message: stateMsg(T, 'J#0', {}, { seq: 7, round: 0 }) }, ctxAt(10));
    expect(viewOf(machines, 'J#0')).toEqual({ round: 0, hostSeq: 7 });
    expect(viewOf(machines, 'J#1')).toBeUndefined();
  });
});
