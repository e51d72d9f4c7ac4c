import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simulate } from '../simulate/simulate.js';
import { validateScenario } from './scenario.js';
import { clientTable, splitRows, type SourceRows, type TableSplit } from './scenarioTable.js';

// Artifact scenarios' validation (every mistake named by its field) and the split of the
// rows among the virtual clients.

const dataDir = fileURLToPath(new URL('../../../examples/artifacts/data/', import.meta.url));
const SITES = [1, 2, 3, 4, 5].map((i) => `site-${i}.csv`);

const scratch = mkdtempSync(join(tmpdir(), 'canopy-artifact-scenario-'));
writeFileSync(join(scratch, 'other-header.csv'), 'age,sex,weight\n50,F,70\n');
writeFileSync(join(scratch, 'ragged.csv'), 'age,sex\n50,F\n60\n');
for (const f of SITES) writeFileSync(join(scratch, f), 'x\n1\n');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test fixtures patch arbitrary fields
type Raw = Record<string, any>;

function raw(): Raw {
  return {
    apiVersion: 'canopy/v1',
    kind: 'Scenario',
    name: 'bad-artifact',
    artifact: {
      steps: [{ kind: 'count' }, { kind: 'stats', column: 'bmi', ops: ['mean', 'min'] }],
      tree: { depth: 2, fanout: 4, clientsPerLeaf: 5 },
    },
    data: { csv: SITES.map((f) => join(dataDir, f)), split: { kind: 'iid' } },
  };
}

const JOB = {
  model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
  train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
  stop: { rounds: 1 },
  dataset: { source: { kind: 'mnist' } },
  tree: { depth: 1, clientsPerLeaf: 2 },
};

const CASES: { name: string; patch: (s: Raw) => void; expect: RegExp }[] = [
  { name: 'both job and artifact', patch: (s) => (s.job = JOB), expect: /^artifact: expected either `job` \(a training job\) or `artifact`/ },
  { name: 'neither job nor artifact', patch: (s) => delete s.artifact, expect: /^job: expected `job` .* or `artifact` .*; found neither/ },
  { name: 'artifact without data', patch: (s) => delete s.data, expect: /^data: an artifact scenario needs `data: \{ csv:/ },
  { name: 'data beside a job', patch: (s) => { delete s.artifact; s.job = JOB; }, expect: /^data: applies to `artifact` scenarios only/ },
  { name: 'an artifact plan inside job', patch: (s) => { delete s.artifact; delete s.data; s.job = { ...JOB, artifact: { v: 1, steps: [{ kind: 'count' }], privacy: {}, data: { kind: 'named', name: 't' } } }; }, expect: /^job\.artifact: write an artifact scenario as `artifact:`/ },
  { name: 'tree and cluster', patch: (s) => (s.artifact.cluster = { host: 'h', workers: ['h'], clients: ['a'] }), expect: /^artifact: expected exactly one of `cluster` \(listed nodes\) or `tree`/ },
  { name: 'unknown step kind', patch: (s) => (s.artifact.steps[1] = { kind: 'median', column: 'bmi' }), expect: /^artifact\.steps\[1\]\.kind: unknown step kind; known kinds: filter, count, stats, histogram, train/ },
  {
    name: 'min under noise',
    patch: (s) => (s.artifact.privacy = { noise: { kind: 'laplace', epsilon: 1, bounds: { bmi: { min: 10, max: 60 } } } }),
    expect: /^artifact\.steps\[1\]\.ops: min cannot be released with Laplace noise/,
  },
  {
    name: 'a train step without real training',
    patch: (s) => {
      s.training = { mode: 'synthetic', params: 10 };
      s.artifact.steps.push({ kind: 'train', model: { kind: 'logreg', inputShape: [2], numClasses: 2 }, train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8 }, rounds: 1, labelColumn: 'outcome', features: ['age', 'bmi'] });
    },
    expect: /^training\.mode: train steps in a simulated artifact \(artifact\.steps\[2\]\) need `training: \{ mode: real \}`.*found synthetic/,
  },
  { name: 'fidelity transport', patch: (s) => (s.transport = 'libp2p'), expect: /^transport: artifact scenarios run on the modelled network only; found libp2p/ },
  { name: 'a missing file', patch: (s) => (s.data.csv[1] = 'nope.csv'), expect: /^data\.csv\[1\]: cannot read .*nope\.csv \(ENOENT\); paths are relative to the scenario file/ },
  { name: 'files with different headers', patch: (s) => (s.data.csv[2] = join(scratch, 'other-header.csv')), expect: /^data\.csv\[2\]: its header \(age, sex, weight\) differs from the first file's \(age, sex, bmi, systolic_bp, outcome\)/ },
  { name: 'a malformed file', patch: (s) => (s.data.csv = join(scratch, 'ragged.csv')), expect: /^data\.csv: .*ragged\.csv: line 3: .*one value per header column/ },
  { name: 'no files', patch: (s) => (s.data.csv = []), expect: /^data\.csv: / },
  { name: 'an unknown split', patch: (s) => (s.data.split = { kind: 'random' }), expect: /^data\.split\.kind: expected `kind: iid`, `contiguous`, `files` or `dirichlet`/ },
  { name: 'one file per client, too few files', patch: (s) => (s.data.split = { kind: 'files' }), expect: /^data\.split: kind files gives the i-th leaf client the i-th file, so data\.csv needs 20 files \(one per leaf client\); found 5/ },
  { name: 'Dirichlet over a missing column', patch: (s) => (s.data.split = { kind: 'dirichlet', column: 'site', alpha: 1 }), expect: /^data\.split\.column: expected a column of the table \(age, sex, bmi, systolic_bp, outcome\); found "site"/ },
  { name: 'Dirichlet without alpha', patch: (s) => (s.data.split = { kind: 'dirichlet', column: 'sex' }), expect: /^data\.split\.alpha: / },
];

describe('artifact scenario validation', () => {
  for (const c of CASES) {
    it(`refuses ${c.name}, naming the field`, () => {
      const s = raw();
      c.patch(s);
      let message = '';
      try {
        validateScenario(s, 'bad.yaml', { baseDir: dataDir });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, c.name).toMatch(/^bad\.yaml is not a valid scenario:\n/);
      const issues = message.split('\n').slice(1).map((l) => l.replace(/^ {2}- /, ''));
      expect(issues.some((i) => c.expect.test(i)), `${c.name}: ${issues.join(' | ')}`).toBe(true);
    });
  }

  it('resolves data paths against the scenario file, and accepts a valid artifact', () => {
    const s = raw();
    s.artifact.steps[1].ops = ['mean'];
    s.data.csv = SITES;
    const scenario = validateScenario(s, join(dataDir, 'scenario.yaml'));
    expect(scenario.data?.csv).toEqual(SITES.map((f) => join(dataDir, f)));
    expect(scenario.job.artifact?.data).toEqual({ kind: 'named', name: 'scenario-table' });
    // `scratch` holds other files of the same names: paths are relative to the file given.
    expect(validateScenario(s, join(scratch, 'scenario.yaml')).data?.csv).toEqual(SITES.map((f) => join(scratch, f)));
  });

  it('refuses a fidelity run of an artifact scenario asked for by option', async () => {
    const s = raw();
    s.artifact.steps[1].ops = ['mean'];
    await expect(simulate(validateScenario(s, 'ok.yaml', { baseDir: dataDir }), { transport: 'libp2p' })).rejects.toThrow(/transport: artifact scenarios run on the modelled network only/);
  });
});

const SOURCE: SourceRows = {
  header: ['id', 'label', 'note'],
  rows: Array.from({ length: 103 }, (_, i) => [String(i), String(i % 3), i % 10 === 0 ? 'has, a comma "and quotes"' : `n${i}`]),
  files: [
    { path: 'a.csv', start: 0, count: 40 },
    { path: 'b.csv', start: 40, count: 63 },
  ],
};
const CLIENTS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

const SPLITS: { split: TableSplit; clients: readonly string[] }[] = [
  { split: { kind: 'iid' }, clients: CLIENTS },
  { split: { kind: 'contiguous' }, clients: CLIENTS },
  { split: { kind: 'files' }, clients: ['a', 'b'] },
  { split: { kind: 'dirichlet', column: 'label', alpha: 0.3 }, clients: CLIENTS },
];

describe('splitRows', () => {
  for (const { split, clients } of SPLITS) {
    it(`${split.kind}: every row to exactly one client, in file order, the same for the same seed`, () => {
      const a = splitRows(SOURCE, split, clients, 5);
      expect([...a.keys()]).toEqual(clients);
      const all = [...a.values()].flat().sort((x, y) => x - y);
      expect(all).toEqual(SOURCE.rows.map((_, i) => i));
      for (const [m, rows] of a) expect(rows, m).toEqual([...rows].sort((x, y) => x - y));
      expect(splitRows(SOURCE, split, clients, 5)).toEqual(a);
    });
  }

  it('iid and contiguous deal shares that differ by at most one row; iid depends on the seed', () => {
    for (const kind of ['iid', 'contiguous'] as const) {
      const sizes = [...splitRows(SOURCE, { kind }, CLIENTS, 1).values()].map((r) => r.length);
      expect(Math.max(...sizes) - Math.min(...sizes), kind).toBeLessThanOrEqual(1);
    }
    expect(splitRows(SOURCE, { kind: 'contiguous' }, CLIENTS, 1).get('c0')).toEqual([...Array(14).keys()]);
    expect(splitRows(SOURCE, { kind: 'iid' }, CLIENTS, 1)).not.toEqual(splitRows(SOURCE, { kind: 'iid' }, CLIENTS, 2));
  });

  it('files gives client i the i-th file whole', () => {
    const a = splitRows(SOURCE, { kind: 'files' }, ['a', 'b'], 0);
    expect(a.get('a')).toEqual([...Array(40).keys()]);
    expect(a.get('b')?.length).toBe(63);
  });

  it('Dirichlet with a small alpha skews the labels: some client lacks a label another holds', () => {
    const a = splitRows(SOURCE, { kind: 'dirichlet', column: 'label', alpha: 0.1 }, CLIENTS, 3);
    const labels = [...a.values()].map((rows) => new Set(rows.map((r) => SOURCE.rows[r]![1])));
    expect(labels.some((l) => l.size < 3)).toBe(true);
  });

  it("a client's table is what decoding its own CSV file gives, quoted cells included", () => {
    const t = clientTable(SOURCE, [0, 1, 10], 'c0');
    expect(t.rows).toBe(3);
    expect(t.columns.get('id')).toEqual({ kind: 'number', values: Float64Array.from([0, 1, 10]) });
    expect(t.columns.get('note')).toEqual({ kind: 'text', values: ['has, a comma "and quotes"', 'n1', 'has, a comma "and quotes"'] });
  });
});
