import { describe, expect, it } from 'vitest';
import { AggregatorSpec } from '../../spec/ml.js';
import type { AggregationInput } from '../types.js';
import { aggregate } from './createAggregator.js';
import type { ServerState } from './serverState.js';

const fr = Math.fround;
const input = (memberId: string, params: number[], weight = 1): AggregationInput => ({ memberId, params: new Float32Array(params), weight });
const state = (kind: ServerState['kind'], step: number, ...vectors: number[][]): ServerState => ({ kind, step, vectors: vectors.map((v) => new Float32Array(v)) });

interface Case {
  name: string;
  spec: unknown;
  global: number[];
  inputs: AggregationInput[];
  serverState?: ServerState;
  params: number[];
  next?: ServerState;
}

// Expected values are worked out by hand from the formulas in serverOptimizers.ts, with
// constants chosen so that the float32 results are exact or a single named rounding.
const cases: Case[] = [
  { name: 'fedavg, one input', spec: { kind: 'fedavg' }, global: [0, 0], inputs: [input('a', [1.5, -2], 7)], params: [1.5, -2] },
  {
    name: 'fedavg weights by sample count: (1·[1,2] + 3·[5,6]) / 4',
    spec: { kind: 'fedavg' },
    global: [0, 0],
    inputs: [input('a', [1, 2], 1), input('b', [5, 6], 3)],
    params: [4, 5],
  },
  {
    name: 'fedavg of three equal weights rounds once at the end: (1 + 2 + 4) / 3',
    spec: { kind: 'fedavg' },
    global: [0],
    inputs: [input('a', [1], 2), input('b', [2], 2), input('c', [4], 2)],
    params: [fr(14 / 6)],
  },
  {
    name: 'fedavgm from zero velocity: g = 1 − 0.5, u = g, x′ = 1 − 0.25·0.5',
    spec: { kind: 'fedavgm', serverLr: 0.25, momentum: 0.5 },
    global: [1],
    inputs: [input('a', [0.5])],
    params: [0.875],
    next: state('fedavgm', 1, [0.5]),
  },
  {
    name: 'fedavgm with velocity: u = 0.5·1 + 0.5 = 1, x′ = 1 − 0.25',
    spec: { kind: 'fedavgm', serverLr: 0.25, momentum: 0.5 },
    global: [1],
    inputs: [input('a', [0.5])],
    serverState: state('fedavgm', 4, [1]),
    params: [0.75],
    next: state('fedavgm', 5, [1]),
  },
  {
    name: 'fedadam first step: Δ = 2, m = 0.5·2, v = 0·1 + 1·4, x′ = 0 + 1·1/(2 + 1)',
    spec: { kind: 'fedadam', serverLr: 1, beta1: 0.5, beta2: 0, tau: 1 },
    global: [0],
    inputs: [input('a', [2])],
    params: [fr(1 / 3)],
    next: state('fedadam', 1, [1], [4]),
  },
  {
    name: 'fedadam with state: Δ = −2, m = 0.5·3 − 1, v = 0.5·8 + 0.5·4 = 6 … uses √6',
    spec: { kind: 'fedadam', serverLr: 2, beta1: 0.5, beta2: 0.5, tau: 0.5 },
    global: [1],
    inputs: [input('a', [-1])],
    serverState: state('fedadam', 2, [3], [8]),
    params: [fr(1 + fr(fr(2 * 0.5) / fr(fr(Math.sqrt(6)) + 0.5)))],
    next: state('fedadam', 3, [0.5], [6]),
  },
  {
    name: 'fedyogi grows v when Δ² > v: v = 1 + 0.75·4 = 4, x′ = 1/(2 + 1)',
    spec: { kind: 'fedyogi', serverLr: 1, beta1: 0.5, beta2: 0.25, tau: 1 },
    global: [0],
    inputs: [input('a', [2])],
    params: [fr(1 / 3)],
    next: state('fedyogi', 1, [1], [4]),
  },
  {
    name: 'fedyogi shrinks v when Δ² < v: v = 10 − 0.5·4 = 8',
    spec: { kind: 'fedyogi', serverLr: 1, beta1: 0, beta2: 0.5, tau: 1 },
    global: [0],
    inputs: [input('a', [2])],
    serverState: state('fedyogi', 0, [5], [10]),
    params: [fr(2 / fr(fr(Math.sqrt(8)) + 1))],
    next: state('fedyogi', 1, [2], [8]),
  },
  {
    name: 'fedadagrad: v = 3² + 4² = 25, x′ = 0 + 1·4/(5 + 3)',
    spec: { kind: 'fedadagrad', serverLr: 1, tau: 3 },
    global: [0],
    inputs: [input('a', [4])],
    params: [0.5],
    next: state('fedadagrad', 1, [25]),
  },
  {
    name: 'fedadagrad accumulates: v = 25 + 1, two members average to Δ = 1',
    spec: { kind: 'fedadagrad', serverLr: 2, tau: 3 },
    global: [10],
    inputs: [input('a', [10], 1), input('b', [12], 1)],
    serverState: state('fedadagrad', 1, [25]),
    params: [fr(10 + fr(2 / fr(fr(Math.sqrt(26)) + 3)))],
    next: state('fedadagrad', 2, [26]),
  },
];

describe.each(['wasm', 'js'] as const)('streaming aggregators (%s)', (backend) => {
  it.each(cases)('$name', (c) => {
    const out = aggregate(AggregatorSpec.parse(c.spec), c.inputs, { global: new Float32Array(c.global), serverState: c.serverState, backend });
    expect(Array.from(out.params)).toEqual(c.params.map(fr));
    if (c.next === undefined) expect(out.serverState).toBeUndefined();
    else {
      expect(out.serverState?.kind).toBe(c.next.kind);
      expect(out.serverState?.step).toBe(c.next.step);
      expect(out.serverState?.vectors.map((v) => Array.from(v))).toEqual(c.next.vectors.map((v) => Array.from(v)));
    }
    expect(out.inputs).toBe(c.inputs.length);
  });

  it('does not modify the server state it was given', () => {
    const before = state('fedadam', 2, [3], [8]);
    aggregate(AggregatorSpec.parse({ kind: 'fedadam' }), [input('a', [-1])], { global: new Float32Array([1]), serverState: before, backend });
    expect(before.vectors.map((v) => Array.from(v))).toEqual([[3], [8]]);
  });

  it('rejects a server state of another kind or size', () => {
    const spec = AggregatorSpec.parse({ kind: 'fedadam' });
    expect(() => aggregate(spec, [input('a', [1])], { global: new Float32Array([1]), serverState: state('fedyogi', 0, [0], [1]), backend })).toThrow(/fedyogi/);
    expect(() => aggregate(spec, [input('a', [1])], { global: new Float32Array([1]), serverState: state('fedadam', 0, [0, 0], [1, 1]), backend })).toThrow(/1 values/);
  });
});
