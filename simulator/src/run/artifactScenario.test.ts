import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answerPhase, artifactContext, decodeTable, encodeResource, initialHeader, mergeAt, type StepResult } from '@canopy/core/artifacts';
import { sha256Hex } from '@canopy/core/util';
import { loadScenario, validateScenario, type Scenario } from '../scenario/scenario.js';
import { leafClients, splitRows, sourceRowsOf } from '../scenario/index.js';
import { simulate } from '../simulate/simulate.js';

// Artifact scenarios end to end: the csv-stats steps over the five example site files,
// answered by virtual clients through the runtime's ArtifactCompute on the modelled
// network, checked against the centralised answer computed here, directly, from the files.
// Exactness (docs/ARTIFACTS.md): counts, histogram bins, min and max are integer sums and
// comparisons, so they must be equal; sum, mean and variance are merged by Chan et al.'s
// algorithm in the tree's order rather than summed left to right over the concatenated
// files, so they may differ in the last bits: compared to a relative 1e-12.

const dataDir = fileURLToPath(new URL('../../../examples/artifacts/data/', import.meta.url));
const SITES = [1, 2, 3, 4, 5].map((i) => `site-${i}.csv`);
const EDGE_MIN = 80;
const EDGE_MAX = 220;
const BINS = 14;

/** The centralised answer of the csv-stats steps over the given site files, in file order. */
function centralised(files: readonly string[]) {
  const bmi: number[] = [];
  const bp: number[] = [];
  let rows = 0;
  for (const f of files) {
    const t = decodeTable(readFileSync(dataDir + f, 'utf8'), f);
    const col = (name: string) => {
      const c = t.columns.get(name);
      if (c?.kind !== 'number') throw new Error(`${f}: ${name} is not numeric`);
      return c.values;
    };
    const [age, b, s] = [col('age'), col('bmi'), col('systolic_bp')];
    for (let r = 0; r < t.rows; r++) {
      if (!(age[r]! >= 40)) continue;
      rows++;
      if (!Number.isNaN(b[r]!)) bmi.push(b[r]!);
      if (!Number.isNaN(s[r]!)) bp.push(s[r]!);
    }
  }
  const stats = (xs: number[]) => {
    let sum = 0;
    for (const x of xs) sum += x;
    const mean = sum / xs.length;
    let m2 = 0;
    for (const x of xs) m2 += (x - mean) ** 2;
    return { count: xs.length, sum, mean, variance: m2 / (xs.length - 1), min: Math.min(...xs), max: Math.max(...xs) };
  };
  const counts = new Array<number>(BINS).fill(0);
  let below = 0;
  let above = 0;
  const width = (EDGE_MAX - EDGE_MIN) / BINS;
  for (const x of bp) {
    if (x < EDGE_MIN) below++;
    else if (x > EDGE_MAX) above++;
    else counts[Math.min(BINS - 1, Math.floor((x - EDGE_MIN) / width))]!++;
  }
  return { rows, bmi: stats(bmi), bp: stats(bp), histogram: { counts, below, above } };
}

const STEPS = [
  { kind: 'filter', where: [{ column: 'age', op: '>=', value: 40 }] },
  { kind: 'count', name: 'patients-40-plus' },
  { kind: 'stats', column: 'bmi', ops: ['count', 'sum', 'mean', 'variance', 'min', 'max'] },
  { kind: 'stats', column: 'systolic_bp', ops: ['mean', 'variance'] },
  { kind: 'histogram', column: 'systolic_bp', bins: { min: EDGE_MIN, max: EDGE_MAX, count: BINS } },
];

const STEADY = { profiles: [{ name: 'steady', share: 1, speed: 1, upMbps: 50, downMbps: 100, meanOfflineSeconds: 0, crashPerRound: 0, stragglerProbability: 0 }] };

/** An artifact scenario over the five site files. */
function artifactScenario(artifact: Record<string, unknown>, data: Record<string, unknown>, extra: Record<string, unknown> = {}): Scenario {
  return validateScenario(
    {
      apiVersion: 'canopy/v1',
      kind: 'Scenario',
      name: 'test-artifact',
      artifact: { privacy: { minGroupSize: 10 }, timing: { heartbeatSeconds: 2, roundDeadlineSeconds: 60 }, steps: STEPS, ...artifact },
      data: { csv: SITES, ...data },
      devices: STEADY,
      seed: 4,
      ...extra,
    },
    'test-artifact.yaml',
    { baseDir: dataDir },
  );
}

type Step<K extends StepResult['kind']> = Extract<StepResult, { kind: K }>;

function stepOf<K extends StepResult['kind']>(steps: readonly StepResult[], index: number, kind: K): Step<K> {
  const s = steps.find((x) => x.step === index);
  if (s?.kind !== kind) throw new Error(`step ${index} is not a ${kind} result: ${JSON.stringify(s)}`);
  return s as Step<K>;
}

function expectClose(got: number | null | undefined, want: number, what: string): void {
  expect(got, what).not.toBeNull();
  expect(Math.abs(got! - want) / Math.abs(want), `${what}: ${got} vs ${want}`).toBeLessThan(1e-12);
}

/** Checks a result's steps against the centralised answer. */
function expectCentralised(steps: readonly StepResult[], want: ReturnType<typeof centralised>, label: string): void {
  expect(stepOf(steps, 1, 'count').count, `${label}: count`).toBe(want.rows);
  const bmi = stepOf(steps, 2, 'stats').values;
  expect(bmi.count, `${label}: bmi count`).toBe(want.bmi.count);
  expect(bmi.min, `${label}: bmi min`).toBe(want.bmi.min);
  expect(bmi.max, `${label}: bmi max`).toBe(want.bmi.max);
  expectClose(bmi.sum, want.bmi.sum, `${label}: bmi sum`);
  expectClose(bmi.mean, want.bmi.mean, `${label}: bmi mean`);
  expectClose(bmi.variance, want.bmi.variance, `${label}: bmi variance`);
  const bp = stepOf(steps, 3, 'stats').values;
  expectClose(bp.mean, want.bp.mean, `${label}: systolic_bp mean`);
  expectClose(bp.variance, want.bp.variance, `${label}: systolic_bp variance`);
  const h = stepOf(steps, 4, 'histogram');
  expect({ counts: h.counts, below: h.below, above: h.above }, `${label}: histogram`).toEqual(want.histogram);
}

const ALL = centralised(SITES);

/** Tree shapes and splits, mixing the two distributions; each must give the centralised answer. */
const SHAPES: { name: string; artifact: Record<string, unknown>; data: Record<string, unknown>; clients: number; rounds: number }[] = [
  {
    name: 'collect, 4 regions x 5 clients, iid split',
    artifact: { distribution: 'collect', tree: { depth: 2, fanout: 4, clientsPerLeaf: 5, workersPerCluster: 2 } },
    data: { split: { kind: 'iid' }, seed: 3 },
    clients: 20,
    rounds: 1,
  },
  {
    name: 'sequential, one site file per client',
    artifact: { distribution: 'sequential', cluster: { host: 'hub', workers: ['hub', 'auditor'], clients: ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'] } },
    data: { split: { kind: 'files' } },
    clients: 5,
    rounds: 5,
  },
  {
    name: 'sequential root over collecting regions, contiguous split',
    artifact: { tree: { depth: 2, fanout: 3, clientsPerLeaf: 4, workersPerCluster: 2, levelTiming: [{ distribution: 'sequential' }, { distribution: 'collect' }] } },
    data: { split: { kind: 'contiguous' } },
    clients: 12,
    rounds: 3,
  },
  {
    name: 'collect root over sequential regions, 3 levels, Dirichlet(0.5) by outcome',
    artifact: { tree: { depth: 3, fanout: 2, clientsPerLeaf: 3, workersPerCluster: 2, levelTiming: [{ distribution: 'collect' }, { distribution: 'sequential' }, { distribution: 'collect' }] } },
    data: { split: { kind: 'dirichlet', column: 'outcome', alpha: 0.5 }, seed: 9 },
    clients: 12,
    rounds: 1,
  },
];

describe('artifact scenarios', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: the centralised answer, every member agreeing`, async () => {
      const r = await simulate(artifactScenario(shape.artifact, shape.data));
      const rep = r.repetitions[0]!;
      expect(rep.stopReason, rep.detail).toBe('rounds');
      expect(rep.violations).toEqual([]);
      expect(rep.rounds).toBe(shape.rounds);
      expect(rep.agreeing).toBe(rep.members);
      expect(r.result?.complete).toBe(true);
      expect(r.result?.absent).toEqual([]);
      for (const s of r.result!.steps) if ('members' in s) expect(s.members.length, `step ${s.step}`).toBe(shape.clients);
      expectCentralised(r.result!.steps, ALL, shape.name);
    });
  }

  it('the shipped example gives the centralised answer', async () => {
    const r = await simulate(await loadScenario(fileURLToPath(new URL('../../../examples/scenarios/artifact-csv-stats.yaml', import.meta.url))));
    expect(r.repetitions[0]!.stopReason).toBe('rounds');
    expectCentralised(r.result!.steps, ALL, 'artifact-csv-stats.yaml');
  });

  it('is deterministic, and each repetition splits anew with the same answer', async () => {
    const s = artifactScenario(SHAPES[0]!.artifact, SHAPES[0]!.data);
    const a = await simulate(s, { repetitions: 2 });
    const b = await simulate(s, { repetitions: 2 });
    expect(b.repetitions.map((r) => r.finalHash)).toEqual(a.repetitions.map((r) => r.finalHash));
    expect(b.result).toEqual(a.result);
    // Another split puts the rows elsewhere: another resource, the same answers.
    expect(a.repetitions[1]!.finalHash).not.toBe(a.repetitions[0]!.finalHash);
    expectCentralised(a.repetitions[1]!.result!.steps, ALL, 'repetition 2');
  });

  it('makes the bytes a real node makes: the final resource is the pure functions composed by hand', async () => {
    const clients = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];
    const s = artifactScenario({ distribution: 'collect', cluster: { host: 'hub', workers: ['hub', 'auditor'], clients } }, { split: { kind: 'files' } });
    const r = await simulate(s);
    // One collect round: each site answers the first resource from its own file (as
    // `canopy node --dataset` would read it), and a worker merges them in client order.
    const plan = s.job.artifact!;
    const ctx = artifactContext(plan, 1, clients);
    const noNoise = () => {
      throw new Error('no noise was asked for');
    };
    const answers = clients.map((m, i) => answerPhase(ctx, initialHeader(), 0, m, { table: decodeTable(readFileSync(dataDir + SITES[i]!, 'utf8'), SITES[i]!) }, noNoise));
    const final = encodeResource({ header: mergeAt(ctx, 0, initialHeader(), answers).header, weights: new Uint8Array() });
    expect(r.repetitions[0]!.finalHash).toBe(sha256Hex(final));
  });

  it('trains on the clients’ tables with the runtime’s ML backend (tfjs on a worker thread)', async () => {
    const train = {
      kind: 'train',
      model: { kind: 'logreg', inputShape: [3], numClasses: 2 },
      train: { optimizer: { kind: 'sgd', lr: 0.01 }, epochs: 1, batchSize: 16, seed: 1 },
      rounds: 2,
      labelColumn: 'outcome',
      features: ['age', 'bmi', 'systolic_bp'],
    };
    const s = artifactScenario(
      { distribution: 'collect', consensus: 'single', cluster: { host: 'hub', workers: ['hub'], clients: ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'] }, steps: [STEPS[0], STEPS[1], train] },
      { split: { kind: 'files' } },
      { training: { mode: 'real', workerThreads: 1 } },
    );
    const participants: number[] = [];
    const r = await simulate(s, { onRound: (x) => participants.push(x.participants) });
    expect(r.repetitions[0]!.stopReason, r.repetitions[0]!.detail).toBe('rounds');
    // One round counts, two train; every site takes part in each.
    expect(participants).toEqual([5, 5, 5]);
    expect(r.result?.complete).toBe(true);
    expect(stepOf(r.result!.steps, 1, 'count').count).toBe(ALL.rows);
    expect(stepOf(r.result!.steps, 2, 'train')).toEqual({ step: 2, kind: 'train', rounds: 2, model: 'logreg' });
    // A logistic regression of 3 features and 2 classes: 8 float32 values and the blob's header.
    expect(r.result!.weightsBytes).toBeGreaterThan(8 * 4);
  });

  it('with sleeping and crashing clients under a quorum, the answer is exactly that of the clients that answered', async () => {
    // The default device profiles sleep now and then; a fifth of the clients crash per round.
    const s = validateScenario(
      {
        apiVersion: 'canopy/v1',
        kind: 'Scenario',
        name: 'test-flaky',
        artifact: {
          privacy: { minGroupSize: 1 },
          timing: { heartbeatSeconds: 2, roundDeadlineSeconds: 60 },
          steps: STEPS,
          tree: { depth: 2, fanout: 4, clientsPerLeaf: 5, workersPerCluster: 2, levelTiming: [{ distribution: 'collect', quorum: 0.75 }, { distribution: 'collect', quorum: 0.6 }] },
        },
        data: { csv: SITES, split: { kind: 'iid' }, seed: 2 },
        faults: { clientCrashPerRound: 0.2 },
        seed: 5,
      },
      'test-flaky.yaml',
      { baseDir: dataDir },
    );
    const r = await simulate(s);
    const result = r.result!;
    expect(result.complete, r.repetitions[0]!.detail).toBe(true);
    expect(result.absent.length).toBeGreaterThan(0);
    const count = stepOf(result.steps, 1, 'count');
    expect([...count.members, ...result.absent].sort()).toEqual(leafClients(s.job.cluster!).sort());
    // The rows the answering clients hold, from the same split, counted here.
    const rows = sourceRowsOf(s.data!);
    const shares = splitRows(rows, s.data!.split, leafClients(s.job.cluster!), s.data!.seed);
    const age = rows.header.indexOf('age');
    const want = count.members.reduce((n, m) => n + shares.get(m)!.filter((i) => Number(rows.rows[i]![age]) >= 40).length, 0);
    expect(count.count).toBe(want);
    expect(count.count).toBeLessThan(ALL.rows);
  });

  it('a lying worker per cluster is outvoted: the answer is still the centralised one', async () => {
    const s = artifactScenario({ distribution: 'collect', tree: { depth: 2, fanout: 2, clientsPerLeaf: 4, workersPerCluster: 3 } }, { split: { kind: 'iid' } }, { faults: { lyingWorkersPerCluster: 1 } });
    const r = await simulate(s);
    expect(r.repetitions[0]!.stopReason).toBe('rounds');
    expectCentralised(r.result!.steps, ALL, 'with liars');
  });

  it('a site under minGroupSize refuses every query, and the answer is the other sites’', async () => {
    // After the filter, site-3 has 160 rows and every other site more than 170.
    const s = artifactScenario(
      { privacy: { minGroupSize: 170 }, distribution: 'collect', cluster: { host: 'hub', workers: ['hub'], clients: ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'] } },
      { split: { kind: 'files' } },
    );
    const out = join(mkdtempSync(join(tmpdir(), 'canopy-artifact-run-')), 'run');
    const r = await simulate(s, { out });
    const steps = r.result!.steps;
    for (const st of steps) {
      if (!('refusals' in st)) continue;
      expect(st.refusals, `step ${st.step}`).toEqual([{ member: 'site-3', reason: 'fewer than minGroupSize 170 rows in the current view' }]);
      expect(st.members, `step ${st.step}`).toEqual(['site-1', 'site-2', 'site-4', 'site-5']);
    }
    expectCentralised(steps, centralised(SITES.filter((f) => f !== 'site-3.csv')), 'without site-3');
    // The run folder keeps the result, and the report shows the steps and the refusal.
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { repetitions: { result?: { steps: StepResult[] } }[] };
    expect(summary.repetitions[0]?.result?.steps).toEqual(steps);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Artifact result</h2>');
    expect(html).toContain('step 1: site-3 refused: fewer than minGroupSize 170 rows in the current view');
    expect(html).toContain(`count “patients-40-plus”</td><td class="text">${ALL.rows - 160}</td>`);
  });

  it('Laplace noise: seeded per run, so a run repeats, and the answer moves off the exact one', async () => {
    const noisy = {
      distribution: 'collect',
      tree: { depth: 2, fanout: 2, clientsPerLeaf: 3, workersPerCluster: 2 },
      privacy: { minGroupSize: 10, noise: { kind: 'laplace', epsilon: 1, bounds: { bmi: { min: 10, max: 60 } } } },
      steps: [STEPS[0], STEPS[1], { kind: 'stats', column: 'bmi', ops: ['count', 'mean'] }],
    };
    const a = await simulate(artifactScenario(noisy, { split: { kind: 'iid' } }));
    const b = await simulate(artifactScenario(noisy, { split: { kind: 'iid' } }));
    expect(b.result).toEqual(a.result);
    const count = stepOf(a.result!.steps, 1, 'count').count;
    expect(count).not.toBe(ALL.rows);
    // Six clients each add Laplace(1) to the count: far within 50 of the truth.
    expect(Math.abs(count - ALL.rows)).toBeLessThan(50);
  });
});
