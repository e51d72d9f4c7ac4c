import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ManifestError } from '@canopy/core/util';
import { DEFAULT_PROFILES } from '../engine/devices.js';
import { ScenarioError, parseScenario, validateScenario } from './scenario.js';
import { repetitionSeeds, scenarioManifest } from './scenarioManifest.js';
import { describeScenario, scenarioRunMeta } from './describeScenario.js';
import { RunMeta } from '../report/roundRecord.js';

/** A minimal valid scenario; each case below breaks one thing. */
function base(): Record<string, unknown> {
  return {
    apiVersion: 'canopy/v1',
    kind: 'Scenario',
    name: 'tiny',
    job: {
      model: { kind: '2nn', inputShape: [784], numClasses: 10 },
      train: { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 1, batchSize: 32 },
      stop: { rounds: 3 },
      dataset: { source: { kind: 'mnist' } },
      tree: { depth: 2, fanout: 2, clientsPerLeaf: 3 },
    },
    training: { mode: 'synthetic', params: 100 },
  };
}

type Patch = (s: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const badCases: { name: string; patch: Patch; expect: RegExp }[] = [
  { name: 'wrong kind', patch: (s) => (s.kind = 'Job'), expect: /^kind: .*"Scenario".*; found "Job"/ },
  { name: 'name with a space', patch: (s) => (s.name = 'my run'), expect: /^name: letters, digits/ },
  { name: 'unknown top-level key', patch: (s) => (s.repetiton = 3), expect: /repetiton/ },
  { name: 'zero repetitions', patch: (s) => (s.repetitions = 0), expect: /^repetitions: .*; found 0/ },
  { name: 'fractional seed', patch: (s) => (s.seed = 1.5), expect: /^seed: .*; found 1.5/ },
  { name: 'both cluster and tree', patch: (s) => (s.job.cluster = { host: 'h', workers: ['w'], clients: ['c'] }), expect: /^job: expected exactly one of `cluster`/ },
  { name: 'neither cluster nor tree', patch: (s) => delete s.job.tree, expect: /^job: expected exactly one of `cluster`/ },
  { name: 'tree too deep', patch: (s) => (s.job.tree.depth = 7), expect: /^job\.tree\.depth: .*; found 7/ },
  { name: 'tree without fanout', patch: (s) => delete s.job.tree.fanout, expect: /^job\.tree\.fanout: a tree of depth 2 needs `fanout`/ },
  { name: 'fanout list of wrong length', patch: (s) => (s.job.tree.fanout = [2, 2]), expect: /^job\.tree\.fanout: expected one fanout per inner level, 1 for depth 2/ },
  { name: 'fanout a string', patch: (s) => (s.job.tree.fanout = 'ten'), expect: /^job\.tree\.fanout: expected a whole number of sub-clusters.*; found "ten"/ },
  { name: 'tree too large', patch: (s) => Object.assign(s.job.tree, { depth: 3, fanout: 100, clientsPerLeaf: 1000 }), expect: /^job\.tree\.clientsPerLeaf: the tree would have 10000000 clients/ },
  { name: 'no workers per cluster', patch: (s) => (s.job.tree.workersPerCluster = 0), expect: /^job\.tree\.workersPerCluster: .*; found 0/ },
  { name: 'bad model kind', patch: (s) => (s.job.model.kind = 'resnet'), expect: /^job\.model\.kind: .*; found "resnet"/ },
  { name: 'missing stop', patch: (s) => delete s.job.stop, expect: /^job\.stop: .*; found nothing/ },
  { name: 'target accuracy above 1', patch: (s) => (s.job.stop.targetAccuracy = 97), expect: /^job\.stop\.targetAccuracy: .*; found 97/ },
  { name: 'job apiVersion is the scenario’s', patch: (s) => (s.job.apiVersion = 'canopy/v1'), expect: /apiVersion/ },
  { name: 'unknown training mode', patch: (s) => (s.training = { mode: 'fast' }), expect: /^training(\.mode)?: expected `mode: real` or `mode: synthetic`/ },
  { name: 'synthetic without params', patch: (s) => (s.training = { mode: 'synthetic' }), expect: /^training\.params: .*; found nothing/ },
  { name: 'negative params', patch: (s) => (s.training.params = -5), expect: /^training\.params: .*; found -5/ },
  { name: 'workerThreads in synthetic mode', patch: (s) => (s.training.workerThreads = 2), expect: /workerThreads/ },
  { name: 'negative aggregateThreads', patch: (s) => (s.training.aggregateThreads = -1), expect: /^training\.aggregateThreads: expected `auto` or a whole number of threads from 0 to 64; found -1/ },
  { name: 'fractional aggregateThreads', patch: (s) => (s.training.aggregateThreads = 1.5), expect: /^training\.aggregateThreads: expected `auto` or a whole number .*; found 1.5/ },
  { name: 'too many aggregateThreads', patch: (s) => (s.training.aggregateThreads = 65), expect: /^training\.aggregateThreads: expected `auto` or a whole number .*; found 65/ },
  { name: 'aggregateThreads a word', patch: (s) => (s.training.aggregateThreads = 'many'), expect: /^training\.aggregateThreads: expected `auto` or a whole number .*; found "many"/ },
  { name: 'aggregateThreads in real mode', patch: (s) => (s.training = { mode: 'real', aggregateThreads: 1 }), expect: /aggregateThreads/ },
  { name: 'empty profiles', patch: (s) => (s.devices = { profiles: [] }), expect: /^devices\.profiles: .*; found a list of 0/ },
  { name: 'profile defined twice', patch: (s) => (s.devices = { profiles: [DEFAULT_PROFILES[0], DEFAULT_PROFILES[0]] }), expect: /^devices\.profiles\[1\]\.name: profile workstation is defined twice/ },
  { name: 'unknown host profile', patch: (s) => (s.devices = { hostProfile: 'server' }), expect: /^devices\.hostProfile: expected one of the profiles \(workstation, laptop, old-laptop\); found "server"/ },
  { name: 'profile share negative', patch: (s) => (s.devices = { profiles: [{ ...DEFAULT_PROFILES[0], share: -1 }] }), expect: /^devices\.profiles\[0\]\.share: .*; found -1/ },
  { name: 'network loss above 1', patch: (s) => (s.network = { loss: 2 }), expect: /^network\.loss: .*; found 2/ },
  { name: 'crash probability above 1', patch: (s) => (s.faults = { clientCrashPerRound: 1.2 }), expect: /^faults\.clientCrashPerRound: .*; found 1.2/ },
  { name: 'more liars than workers', patch: (s) => (s.faults = { lyingWorkersPerCluster: 4 }), expect: /^faults\.lyingWorkersPerCluster: expected at most 3, the fewest workers any cluster has; found 4/ },
  { name: 'unknown lie', patch: (s) => (s.faults = { lie: 'random' }), expect: /^faults\.lie: .*; found "random"/ },
  { name: 'crash of a non-host', patch: (s) => (s.faults = { hostCrashes: [{ host: 'c-0-0', atSeconds: 5 }] }), expect: /^faults\.hostCrashes\[0\]\.host: expected the host of a cluster \(such as host-r\); found "c-0-0"/ },
  {
    name: 'partition of an unknown node',
    patch: (s) => (s.network = { partitions: [{ fromSeconds: 0, toSeconds: 5, isolated: ['host-0', 'nobody'] }] }),
    expect: /^network\.partitions\[0\]\.isolated\[1\]: expected a node of the job; found "nobody"/,
  },
  { name: 'partition that ends before it starts', patch: (s) => (s.network = { partitions: [{ fromSeconds: 9, toSeconds: 5, isolated: ['host-0'] }] }), expect: /^network\.partitions\[0\]\.toSeconds: expected a time after fromSeconds/ },
  {
    name: 'client in two leaves (manifest rule, reported under job)',
    patch: (s) => {
      delete s.job.tree;
      s.job.cluster = { host: 'r', workers: ['w'], clusters: [{ host: 'a', workers: ['wa'], clients: ['x'] }, { host: 'b', workers: ['wb'], clients: ['x'] }] };
    },
    expect: /^job\.cluster\.clusters\[1\]\.clients: x is already a client/,
  },
  { name: 'cluster with clients and sub-clusters', patch: (s) => { delete s.job.tree; s.job.cluster = { host: 'h', workers: ['w'] }; }, expect: /^job\.cluster: a cluster has either `clients`/ },
];

describe('validateScenario', () => {
  it('accepts the base scenario and fills in defaults', () => {
    const s = validateScenario(base(), 'base');
    expect(s.repetitions).toBe(1);
    expect(s.seed).toBe(0);
    expect(s.devices.profiles.map((p) => p.name)).toEqual(DEFAULT_PROFILES.map((p) => p.name));
    expect(s.network.latency.kind).toBe('lognormal');
    expect(s.faults).toEqual({ lyingWorkersPerCluster: 0, lie: 'noise', hostCrashes: [] });
    expect(s.job.tree?.workersPerCluster).toBe(3);
    expect(s.job.aggregator).toEqual({ kind: 'fedavg' });
    expect(s.training).toMatchObject({ mode: 'synthetic', params: 100, samplesPerClient: 600, aggregateThreads: 'auto' });
  });

  it.each([0, 1, 'auto'] as const)('accepts aggregateThreads: %s', (threads) => {
    const s = base();
    (s.training as Record<string, unknown>).aggregateThreads = threads;
    expect(validateScenario(s).training).toMatchObject({ mode: 'synthetic', aggregateThreads: threads });
  });

  it('defaults training to real mode', () => {
    const s = base();
    delete s.training;
    expect(validateScenario(s).training).toEqual({ mode: 'real' });
  });

  for (const c of badCases) {
    it(`rejects ${c.name}, naming the field`, () => {
      const s = base();
      c.patch(s);
      let error: unknown;
      try {
        validateScenario(s, 'case.yaml');
      } catch (e) {
        error = e;
      }
      expect(error, c.name).toBeInstanceOf(ScenarioError);
      expect(error, c.name).toBeInstanceOf(ManifestError);
      const issues = (error as ScenarioError).issues;
      expect(issues.some((i) => c.expect.test(i)), `${c.name}: ${issues.join(' | ')}`).toBe(true);
      expect((error as Error).message).toMatch(/^case\.yaml is not a valid scenario:/);
    });
  }
});

describe('parseScenario', () => {
  it('round-trips YAML', () => {
    const s = parseScenario(stringify(base()), 'x.yaml');
    expect(s.name).toBe('tiny');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseScenario('name: a\nname: b\n', 'dup.yaml')).toThrow(/dup\.yaml is not a valid scenario:\n {2}- YAML syntax: .*line 2/);
    expect(() => parseScenario('job: [unclosed\n', 'bad.yaml')).toThrow(/YAML syntax/);
  });

  it('rejects an empty file as a whole', () => {
    expect(() => parseScenario('', 'empty.yaml')).toThrow(/\(top level\): .*; found null/);
  });
});

describe('scenarioManifest', () => {
  it('builds a valid manifest named after the scenario, with the expanded tree', () => {
    const s = validateScenario(base());
    const m = scenarioManifest(s);
    expect(m.kind).toBe('Job');
    expect(m.name).toBe('tiny');
    expect(m.cluster.host).toBe('host-r');
    expect(m.cluster.clusters?.map((c) => c.clients)).toEqual([
      ['c-0-0', 'c-0-1', 'c-0-2'],
      ['c-1-0', 'c-1-1', 'c-1-2'],
    ]);
  });

  it('prefers job.name and keeps an explicit cluster as written', () => {
    const raw = base() as { job: Record<string, unknown> };
    delete raw.job.tree;
    raw.job.name = 'other';
    raw.job.cluster = { host: 'h', workers: ['w1', 'w2'], clients: ['a', 'b'] };
    const m = scenarioManifest(validateScenario(raw));
    expect(m.name).toBe('other');
    expect(m.cluster).toEqual({ host: 'h', workers: ['w1', 'w2'], clients: ['a', 'b'] });
  });

  it('shifts every seed by the repetition, leaving repetition 0 as written', () => {
    const raw = base() as { job: { train: Record<string, unknown>; dataset: Record<string, unknown> }; seed: number };
    raw.seed = 10;
    raw.job.train.seed = 5;
    raw.job.dataset.seed = 7;
    const s = validateScenario(raw);
    expect(repetitionSeeds(s, 0)).toEqual({ simulation: 10, train: 5, dataset: 7 });
    expect(repetitionSeeds(s, 2)).toEqual({ simulation: 12, train: 7, dataset: 9 });
    const m2 = scenarioManifest(s, 2);
    expect([m2.train.seed, m2.dataset.seed]).toEqual([7, 9]);
    expect(scenarioManifest(s, 0).train.seed).toBe(5);
  });

  it('describes the run for a report header', () => {
    const params = describeScenario(validateScenario(base()));
    const byLabel = Object.fromEntries(params.map((p) => [p.label, p.value]));
    expect(byLabel.Topology).toBe('2-level tree, 3 clusters, 6 clients, 9 workers');
    expect(byLabel.Training).toBe('synthetic, P = 100, 600 samples/client');
    expect(byLabel.Stop).toBe('3 rounds');
  });

  it('gives the run exporter its meta: levels from the tree, stop targets for the charts', () => {
    const raw = base() as { job: { stop: Record<string, unknown> } };
    raw.job.stop.targetAccuracy = 0.9;
    const meta = RunMeta.parse(scenarioRunMeta(validateScenario(raw), new Date('2025-01-01T00:00:00Z')));
    expect(meta).toMatchObject({ scenario: 'tiny', levels: 2, repetitions: 1, stop: { rounds: 3, targetAccuracy: 0.9 }, startedAt: '2025-01-01T00:00:00.000Z' });
    expect(meta.parameters.length).toBeGreaterThan(5);
  });
});
