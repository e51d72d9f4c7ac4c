import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildJobTree } from '../protocol/jobTree.js';
import { timingWarnings } from '../protocol/timingAdvice.js';
import { compileArtifact } from './compile.js';
import { parseYamlDocument } from './schema.js';
import { describePlan } from './plan.js';
import { artifactDoc } from './testing.js';

const trainStep = { kind: 'train', model: { kind: 'logreg', inputShape: [784], numClasses: 10 }, train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32, seed: 4 }, rounds: 3 };
const twoLevel = { host: 'root', workers: ['root'], clusters: [{ host: 'a', workers: ['a'], clients: ['a1', 'a2', 'a3'], timing: { distribution: 'sequential' } }, { host: 'b', workers: ['b'], clients: ['b1', 'b2'] }] };

// Table: what an artifact compiles to.
const cases: { name: string; doc: Record<string, unknown>; rounds: number; check?: (t: ReturnType<typeof buildJobTree>) => void }[] = [
  { name: 'analytics in collect: one pass, one round', doc: artifactDoc(), rounds: 1 },
  { name: 'analytics in sequential at the root: one round per site', doc: artifactDoc({ distribution: 'sequential' }), rounds: 5, check: (t) => expect(t.jobs.get('stats')!.timing.distribution).toBe('sequential') },
  { name: 'train between queries: a phase each', doc: artifactDoc({ data: { source: { kind: 'mnist' } }, steps: [trainStep] }), rounds: 3 },
  {
    name: 'sequential train over four sites: rounds x sites',
    doc: artifactDoc({ distribution: 'sequential', data: { source: { kind: 'mnist' } }, steps: [trainStep], cluster: { host: 'h', workers: ['h'], clients: ['a', 'b', 'c', 'd'] } }),
    rounds: 12,
  },
  {
    name: 'a sequential sub-cluster runs one local round per child',
    doc: artifactDoc({ cluster: twoLevel }),
    rounds: 1,
    check: (t) => {
      expect(t.jobs.get('stats#0')!.timing).toMatchObject({ distribution: 'sequential', localRounds: 3 });
      expect(t.jobs.get('stats#1')!.timing).toMatchObject({ distribution: 'collect', localRounds: 1 });
      expect(t.jobs.get('stats#0')!.order).toEqual(['a1', 'a2', 'a3']);
    },
  },
];

describe('compileArtifact', () => {
  for (const c of cases) {
    it(c.name, () => {
      const m = compileArtifact(c.doc);
      expect(m.kind).toBe('Job');
      expect(m.stop.rounds).toBe(c.rounds);
      expect(m.artifact?.steps.length).toBe((c.doc.steps as unknown[]).length);
      c.check?.(buildJobTree(m));
    });
  }

  it('carries the plan in the hashed manifest: another step is another job', () => {
    const a = buildJobTree(compileArtifact(artifactDoc()));
    const b = buildJobTree(compileArtifact(artifactDoc({ privacy: { minGroupSize: 4 } })));
    expect(a.manifestHash).not.toBe(b.manifestHash);
    expect(buildJobTree(compileArtifact(artifactDoc())).manifestHash).toBe(a.manifestHash);
  });

  it('maps allowResultDownload to the job\'s download flag and names the dataset', () => {
    const m = compileArtifact(artifactDoc({ allowResultDownload: true }));
    expect(m.allowModelDownload).toBe(true);
    expect(m.artifact!.data).toEqual({ kind: 'named', name: 'patients' });
  });

  it('says in words what a data owner consents to', () => {
    const text = describePlan(compileArtifact(artifactDoc()).artifact!, 'stats');
    expect(text).toBe(
      'artifact in job stats on this node\'s dataset "patients": keep rows where age >= 40; count rows; count, sum, mean, variance, min, max of bmi; histogram of bmi (6 bins over [15, 45]). Only partial answers leave the node; it refuses any query over fewer than 3 rows',
    );
  });
});

describe('examples/artifacts', () => {
  const dir = new URL('../../../examples/artifacts/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it('ships the 2-level and sequential examples', () => {
    expect(files).toEqual(expect.arrayContaining(['csv-stats.yaml', 'csv-stats-2level.yaml', 'csv-stats-sequential.yaml']));
  });
  for (const f of files) {
    it(`${f} compiles, with each parent outlasting its sub-clusters' rounds`, () => {
      const tree = buildJobTree(compileArtifact(parseYamlDocument(readFileSync(new URL(f, dir), 'utf8'), f), f));
      expect(timingWarnings(tree), f).toEqual([]);
    });
  }
});
