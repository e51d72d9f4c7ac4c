import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { wasmBackendAvailable, type AggregatorSpec } from '@canopy/core/ml';
import { decodeSyntheticParams, encodeSyntheticParams, syntheticInit, syntheticTrain, syntheticTrainInto, type SyntheticSpec } from '@canopy/core/ml';
import { AGGREGATE_THREAD_MIN_PARAMS, AggregatePool, aggregateThreadCount, type AggregateRequest } from './aggregatePool.js';
import type { ThreadInput } from './aggregateTasks.js';
import { streamAggregate } from './streamAggregate.js';

// Real threads running the compiled thread script (simulator/dist: `npx tsc -b` first),
// checked against the same arithmetic run in this thread.

const spec: SyntheticSpec = { params: 300, learnRate: 0.3, epochs: 2, heterogeneity: 0.5, seed: 9 };
const globals = new Map([
  ['g1', syntheticInit(spec.params, 1)],
  ['g2', syntheticInit(spec.params, 2)],
]);
// A sub-cluster's aggregate, as an upper level receives it.
const subAggregate = encodeSyntheticParams(syntheticTrain(globals.get('g2')!, 'elsewhere', spec));

/** Five clients from two globals and one encoded input, in client order. */
function inputs(): ThreadInput[] {
  return [
    { kind: 'update', client: 'a', samples: 100, member: 'a', global: 'g1' },
    { kind: 'update', client: 'b', samples: 250, member: 'b', global: 'g1' },
    { kind: 'bytes', client: 'c', samples: 400, bytes: subAggregate },
    { kind: 'update', client: 'd', samples: 100, member: 'd', global: 'g2' },
    { kind: 'update', client: 'e', samples: 50, member: 'e', global: 'g1' },
  ];
}

/** What the main thread computes for the same request. */
function inline(request: AggregateRequest): Uint8Array {
  // The default backend here (WebAssembly where available); the thread uses the JS one.
  const result = streamAggregate(request.aggregator, { global: globals.get(request.base)! }, request.inputs, (input, slot) => {
    if (input.kind === 'update') syntheticTrainInto(slot, globals.get(input.global)!, input.member, request.spec);
    else if (input.kind === 'bytes') slot.set(decodeSyntheticParams(input.bytes));
    else throw new Error(input.message);
  });
  return encodeSyntheticParams(result.params);
}

const threadCount = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

describe('AggregatePool', () => {
  let pool: AggregatePool | undefined;
  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
  });

  it('compares across arithmetic backends: WebAssembly here, JS on the threads', () => {
    expect(wasmBackendAvailable()).toBe(true);
  });

  const aggregators: AggregatorSpec[] = [{ kind: 'fedavg' }, { kind: 'median' }, { kind: 'trimmed-mean', beta: 0.2 }, { kind: 'krum', f: 1, m: 2 }];
  it.each(aggregators.map((a) => [a.kind, a] as const))('%s on a thread gives the bytes of the inline path', async (_kind, aggregator) => {
    pool = new AggregatePool(2);
    const request: AggregateRequest = { aggregator, spec, base: 'g1', inputs: inputs() };
    const expected = inline(request);
    // Both threads, in parallel, each sent the vectors it lacks.
    const results = await Promise.all([0, 1, 2, 3].map(() => pool!.aggregate(request, globals)));
    for (const [i, bytes] of results.entries()) expect(Buffer.from(bytes).equals(Buffer.from(expected)), `result ${i}`).toBe(true);
    // Settled aggregations are forgotten, with the vectors they held, without any helping.
    expect(pool.outstandingCount).toBe(0);
  });

  it('sends each vector to a thread once', async () => {
    pool = new AggregatePool(1);
    const request: AggregateRequest = { aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: inputs() };
    const expected = inline(request);
    expect(Buffer.from(await pool.aggregate(request, globals)).equals(Buffer.from(expected))).toBe(true);
    // Other values under the same hashes: the thread uses the vectors it already holds.
    const impostors = new Map([...globals.keys()].map((h) => [h, new Float32Array(spec.params).fill(7)]));
    expect(Buffer.from(await pool.aggregate(request, impostors)).equals(Buffer.from(expected))).toBe(true);
  });

  it.each([
    ['an input the main thread could not resolve', (xs: ThreadInput[]) => xs.splice(3, 0, { kind: 'unusable', client: 'c2', samples: 1, message: 'input 0123456789ab is not stored' }), /^input 0123456789ab is not stored$/],
    ['malformed parameter bytes', (xs: ThreadInput[]) => xs.splice(2, 1, { kind: 'bytes', client: 'c', samples: 400, bytes: new Uint8Array(12) }), /not a synthetic parameter blob/],
    ['parameters of another length', (xs: ThreadInput[]) => xs.splice(2, 1, { kind: 'bytes', client: 'c', samples: 400, bytes: encodeSyntheticParams(new Float32Array(400)) }), /out of bounds/],
    ['a global never sent', (xs: ThreadInput[]) => xs.splice(1, 1, { kind: 'update', client: 'b', samples: 1, member: 'b', global: 'g9' }), /vector g9 is not held by the aggregation thread/],
  ] as const)('rejects %s with its message, and keeps working', async (_name, corrupt, message) => {
    pool = new AggregatePool(1);
    const bad = inputs();
    corrupt(bad);
    await expect(pool.aggregate({ aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: bad }, globals)).rejects.toThrow(message);
    const request: AggregateRequest = { aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: inputs() };
    expect(Buffer.from(await pool.aggregate(request, globals)).equals(Buffer.from(inline(request)))).toBe(true);
  });

  it('lets the main thread take back tasks no thread has started, with the same bytes and errors', async () => {
    pool = new AggregatePool(1);
    // A long task keeps the (started) thread busy while the others wait in its queue.
    await pool.aggregate({ aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: inputs() }, globals);
    const big: SyntheticSpec = { ...spec, params: 200_000 };
    const g = new Map([['g', syntheticInit(big.params, 3)]]);
    const many: ThreadInput[] = Array.from({ length: 40 }, (_, i) => ({ kind: 'update', client: `c${String(i).padStart(2, '0')}`, samples: 1, member: `m${i}`, global: 'g' }));
    const long = pool.aggregate({ aggregator: { kind: 'median' }, spec: big, base: 'g', inputs: many }, g);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const requests: AggregateRequest[] = aggregators.map((aggregator) => ({ aggregator, spec, base: 'g1', inputs: inputs() }));
    const bad = inputs();
    bad.splice(3, 0, { kind: 'unusable', client: 'c2', samples: 1, message: 'input 0123456789ab is not stored' });
    const results = requests.map((r) => pool!.aggregate(r, globals));
    const failed = pool.aggregate({ aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: bad }, globals).then(
      () => new Error('succeeded'),
      (e: unknown) => e,
    );
    // The thread is still on the long task, so every queued one is the main thread's to take.
    let taken = 0;
    while (pool.helpOne()) taken++;
    expect(taken).toBe(requests.length + 1);
    expect(pool.helpOne()).toBe(false);
    for (const [i, r] of requests.entries()) expect(Buffer.from(await results[i]!).equals(Buffer.from(inline(r))), r.aggregator.kind).toBe(true);
    expect(await failed).toMatchObject({ message: 'input 0123456789ab is not stored' });
    // The thread skips what was taken back and goes on with the next task as before.
    await long;
    const after: AggregateRequest = { aggregator: { kind: 'fedavg' }, spec, base: 'g2', inputs: inputs() };
    expect(Buffer.from(await pool.aggregate(after, globals)).equals(Buffer.from(inline(after)))).toBe(true);
  });

  it('stops its threads: running aggregations reject, later ones too, and no thread is left', async () => {
    const before = threadCount();
    pool = new AggregatePool(2);
    const big: SyntheticSpec = { ...spec, params: 200_000 };
    const g = new Map([['g', syntheticInit(big.params, 3)]]);
    const many: ThreadInput[] = Array.from({ length: 40 }, (_, i) => ({ kind: 'update', client: `c${String(i).padStart(2, '0')}`, samples: 1, member: `m${i}`, global: 'g' }));
    const running = pool.aggregate({ aggregator: { kind: 'median' }, spec: big, base: 'g', inputs: many }, g).then(
      () => new Error('finished'),
      (e: unknown) => e,
    );
    expect(threadCount()).toBe(before + 2);
    await pool.stop();
    expect(await running).toMatchObject({ message: 'the aggregation threads were stopped before the aggregation finished' });
    await expect(pool.aggregate({ aggregator: { kind: 'fedavg' }, spec, base: 'g1', inputs: inputs() }, globals)).rejects.toThrow(/aggregation threads are stopped/);
    expect(threadCount()).toBe(before);
    expect(process.getActiveResourcesInfo()).not.toContain('MessagePort');
  });

  it.each([
    ['auto, two cores, large vectors', 'auto', AGGREGATE_THREAD_MIN_PARAMS, 2, 1],
    ['auto, two cores, small vectors', 'auto', AGGREGATE_THREAD_MIN_PARAMS - 1, 2, 0],
    ['auto, one core', 'auto', 1_000_000, 1, 0],
    ['explicit 0', 0, 1_000_000, 8, 0],
    ['explicit 3', 3, 10, 1, 3],
  ] as const)('aggregateThreadCount: %s', (_name, setting, params, cores, threads) => {
    expect(aggregateThreadCount(setting, params, cores)).toBe(threads);
  });
});
