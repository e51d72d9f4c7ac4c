import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactResult, compileArtifact, decodeResource, encodeResource, initialHeader } from '../artifacts/index.js';
import { artifactDoc } from '../artifacts/testing.js';
import { aggregate } from '../ml/aggregate/index.js';
import { axpyReference, divideReference } from '../ml/aggregate/arithmetic.js';
import { buildJobTree } from '../protocol/jobTree.js';
import { artifactCompute } from './artifactCompute.js';
import { syntheticCompute } from './syntheticCompute.js';
import { mlCompute } from './mlCompute.js';
import { Rng } from '../util/rng.js';

// ArtifactCompute as the runtime drives it (loadData, train, aggregate by job key), with the
// synthetic backend underneath for train steps.

const dir = mkdtempSync(join(tmpdir(), 'canopy-artc-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const owner = (member: string) => ({ member, trainSeed: 0 });
const source = { kind: 'chunk' as const, bytes: new Uint8Array() };
const model = { kind: 'logreg' as const, inputShape: [1], numClasses: 2 };
const agg = { kind: 'fedavg' as const };

describe('artifactCompute', () => {
  it('answers and merges a one-cluster artifact; a node without the dataset refuses', async () => {
    const tree = buildJobTree(compileArtifact(artifactDoc({ privacy: { minGroupSize: 1 }, cluster: { host: 'h', workers: ['h'], clients: ['a', 'b', 'c'] } })));
    const datasets = new Map([['patients', file('p.csv', 'age,bmi\n50,20\n60,30\n30,99\n')]]);
    const c = artifactCompute({ tree, inner: syntheticCompute(), datasets });
    const lonely = artifactCompute({ tree, inner: syntheticCompute(), datasets: new Map() });
    const key = `${tree.rootId}/${tree.root}`;
    const init = await c.initParams({ model, seed: 0 });
    const answers = [];
    for (const [m, compute] of [['a', c], ['b', c], ['c', lonely]] as const) {
      expect(await compute.loadData({ key, source, owner: owner(m) }), 'the ACK says 1, not the row count').toEqual({ train: 1, test: 0 });
      answers.push({ memberId: m, params: (await compute.train({ key, model, train: { optimizer: { kind: 'sgd', lr: 1, momentum: 0 }, epochs: 1, batchSize: 1, mu: 0, seed: 0 }, global: init, seed: 0 })).params, weight: 1 });
    }
    const out = await c.aggregate({ stateKey: key, model, aggregator: agg, base: init, inputs: answers });
    const r = artifactResult(tree.manifest, out);
    expect(r.complete).toBe(true);
    expect(r.steps[0]).toMatchObject({ kind: 'count', count: 4, members: ['a', 'b'], refusals: [{ member: 'c', reason: expect.stringMatching(/no dataset named "patients"/) }] });
    expect(r.steps[1]).toMatchObject({ kind: 'stats', values: { count: 4, mean: 25, min: 20, max: 30 } });
  });

  it('names the file and line of a bad CSV in the refusal', async () => {
    const tree = buildJobTree(compileArtifact(artifactDoc({ cluster: { host: 'h', workers: ['h'], clients: ['a'] } })));
    const c = artifactCompute({ tree, inner: syntheticCompute(), datasets: new Map([['patients', file('bad.csv', 'age,bmi\n1,2\n3\n')]]) });
    const key = `${tree.rootId}/${tree.root}`;
    await c.loadData({ key, source, owner: owner('a') });
    const init = await c.initParams({ model, seed: 0 });
    const t = await c.train({ key, model, train: { optimizer: { kind: 'sgd', lr: 1, momentum: 0 }, epochs: 1, batchSize: 1, mu: 0, seed: 0 }, global: init, seed: 0 });
    const r = artifactResult(tree.manifest, await c.aggregate({ stateKey: key, model, aggregator: agg, base: init, inputs: [{ memberId: 'a', params: t.params, weight: 1 }] }));
    expect(r.steps[0]!.kind === 'count' && r.steps[0]!.refusals[0]!.reason).toMatch(/bad\.csv: line 3: /);
  });

  it('passes weights on untouched in a sequential train round: FedAvg of one input is that input, though w·x/w in float32 is not', async () => {
    const trainStep = { kind: 'train', model: { kind: 'logreg', inputShape: [784], numClasses: 10 }, train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 }, rounds: 1 };
    const tree = buildJobTree(compileArtifact(artifactDoc({ distribution: 'sequential', data: { source: { kind: 'mnist' } }, steps: [trainStep], cluster: { host: 'h', workers: ['h'], clients: ['a', 'b'] } })));
    const inner = syntheticCompute({ params: 1000 });
    const c = artifactCompute({ tree, inner, datasets: new Map() });
    const key = `${tree.rootId}/${tree.root}`;
    await c.loadData({ key, source, owner: owner('a') });
    const init = await c.initParams({ model: tree.manifest.model, seed: 0 });
    const trained = await c.train({ key, model: tree.manifest.model, train: tree.manifest.train, global: init, seed: 0 });
    const out = decodeResource(await c.aggregate({ stateKey: key, model: tree.manifest.model, aggregator: agg, base: init, inputs: [{ memberId: 'a', params: trained.params, weight: 1600 }] }));
    expect(out.weights).toEqual(decodeResource(trained.params).weights);
    expect(out.header.round, 'one of two sequential rounds done').toBe(1);
    // Why the aggregator special-cases one input: w·x/w in float32 moves some coordinates.
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.37);
    const plain = new Float32Array(1000);
    axpyReference(plain, plain, x, 1600);
    divideReference(plain, plain, 1600);
    expect(plain.some((v, i) => v !== x[i])).toBe(true);
    expect(aggregate({ kind: 'fedavg' }, [{ memberId: 'a', params: x, weight: 1600 }], { global: new Float32Array(1000) }).params).toEqual(x);
  });

  it('refuses a resource that is not an artifact resource', async () => {
    const tree = buildJobTree(compileArtifact(artifactDoc({ cluster: { host: 'h', workers: ['h'], clients: ['a'] } })));
    const c = artifactCompute({ tree, inner: syntheticCompute(), datasets: new Map() });
    await expect(c.aggregate({ stateKey: `${tree.rootId}/${tree.root}`, model, aggregator: agg, base: new Uint8Array(50), inputs: [] })).rejects.toThrow(/not an artifact resource/);
    expect(decodeResource(encodeResource({ header: initialHeader(), weights: new Uint8Array() })).header.phase).toBe(0);
  });

  it('filters, then trains on the table with the real ML backend', { timeout: 120_000 }, async () => {
    // Two features; the class is which side of a line a point is on. Rows with group == 2 are filtered out.
    const rng = Rng.fromSeed(5);
    const lines = ['x,y,group,label'];
    for (let i = 0; i < 600; i++) {
      const x = rng.float() * 2 - 1;
      const y = rng.float() * 2 - 1;
      lines.push(`${x.toFixed(4)},${y.toFixed(4)},${i % 3},${x + 0.5 * y > 0 ? 1 : 0}`);
    }
    const trainStep = { kind: 'train', labelColumn: 'label', features: ['x', 'y'], model: { kind: 'logreg', inputShape: [2], numClasses: 2 }, train: { optimizer: { kind: 'sgd', lr: 0.5 }, epochs: 5, batchSize: 16 }, rounds: 3 };
    const tree = buildJobTree(compileArtifact(artifactDoc({ steps: [{ kind: 'filter', where: [{ column: 'group', op: '!=', value: 2 }] }, trainStep], cluster: { host: 'h', workers: ['h'], clients: ['a'] } })));
    const inner = mlCompute({ threads: 1 });
    try {
      const c = artifactCompute({ tree, inner, datasets: new Map([['patients', file('lin.csv', lines.join('\n'))]]) });
      const key = `${tree.rootId}/${tree.root}`;
      await c.loadData({ key, source, owner: owner('a') });
      let g = await c.initParams({ model: tree.manifest.model, seed: 0 });
      const before = await c.evaluate({ key, model: tree.manifest.model, params: g });
      let samples = 0;
      for (let r = 0; r < 3; r++) {
        const t = await c.train({ key, model: tree.manifest.model, train: tree.manifest.train, global: g, seed: r });
        samples = t.samples;
        g = await c.aggregate({ stateKey: key, model: tree.manifest.model, aggregator: agg, base: g, inputs: [{ memberId: 'a', params: t.params, weight: t.samples }] });
      }
      // 400 rows pass the filter; every fifth is held out; the backend counts samples seen over 5 epochs.
      expect(samples).toBe(5 * 320);
      const res = artifactResult(tree.manifest, g);
      expect(res).toMatchObject({ complete: true, steps: [{ kind: 'train', rounds: 3, model: 'logreg' }] });
      const decoded = decodeResource(g);
      const after = await inner.evaluate({ key: `${key}#0`, model: trainStep.model as typeof model, params: decoded.weights });
      expect(after.samples).toBe(80);
      expect(after.accuracy).toBeGreaterThan(0.9);
      expect(after.accuracy).toBeGreaterThan(before.accuracy);
    } finally {
      await inner.stop();
    }
  });
});
