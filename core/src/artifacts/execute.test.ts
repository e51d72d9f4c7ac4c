import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng.js';
import { answerPhase, artifactContext, initialHeader, mergeAt, type ArtifactContext } from './execute.js';
import { validateArtifact } from './schema.js';
import { compileValidArtifact } from './compile.js';
import { decodeTable, type Table } from './table.js';
import type { ResourceHeader, StepResult } from './resource.js';
import { artifactDoc } from './testing.js';

// The merge-by-depth rule, run the way the protocol runs it (collect: all children answer
// the same base, one merge; sequential: one child per round, each round's merge the next
// round's base), over trees of every shape and distribution: the root's result equals the
// centralised answer, every site counted once.

type Tree = { seq?: boolean; sites?: string[]; subs?: Tree[] };

function table(rows: number, seed: number): Table {
  const rng = Rng.fromSeed(seed);
  const lines = ['age,bmi,sex'];
  for (let i = 0; i < rows; i++) lines.push(`${18 + rng.int(70)},${(16 + rng.float() * 30).toFixed(1)},${rng.float() < 0.5 ? 'F' : 'M'}`);
  return decodeTable(lines.join('\n'), `site${seed}.csv`);
}

function sitesOf(t: Tree): string[] {
  return [...(t.sites ?? []), ...(t.subs ?? []).flatMap(sitesOf)];
}

// One parent round of a job at `depth`: its submission upward.
function runJob(ctx: ArtifactContext, t: Tree, depth: number, base: ResourceHeader, tables: Map<string, Table>): ResourceHeader {
  const children: ((g: ResourceHeader) => ResourceHeader)[] = t.sites
    ? t.sites.map((s) => (g) => answerPhase(ctx, g, depth, s, { table: tables.get(s)! }, () => 0.5))
    : t.subs!.map((sub) => (g) => runJob(ctx, sub, depth + 1, g, tables));
  if (!t.seq) return mergeAt(ctx, depth, base, children.map((c) => c(base))).header;
  let g = base;
  for (const c of children) g = mergeAt(ctx, depth, g, [c(g)]).header;
  return g;
}

function runRoot(ctx: ArtifactContext, t: Tree, tables: Map<string, Table>): ResourceHeader {
  let g = initialHeader();
  const children: ((g: ResourceHeader) => ResourceHeader)[] = t.sites
    ? t.sites.map((s) => (h) => answerPhase(ctx, h, 0, s, { table: tables.get(s)! }, () => 0.5))
    : t.subs!.map((sub) => (h) => runJob(ctx, sub, 1, h, tables));
  if (!t.seq) return mergeAt(ctx, 0, g, children.map((c) => c(g))).header;
  for (const c of children) g = mergeAt(ctx, 0, g, [c(g)]).header;
  return g;
}

function centralised(tables: Table[]): { count: number; mean: number; variance: number; min: number; max: number; bins: number[] } {
  const bmi: number[] = [];
  for (const t of tables) {
    const age = t.columns.get('age')!.values as Float64Array;
    const b = t.columns.get('bmi')!.values as Float64Array;
    for (let r = 0; r < t.rows; r++) if (age[r]! >= 40) bmi.push(b[r]!);
  }
  const mean = bmi.reduce((a, x) => a + x, 0) / bmi.length;
  const variance = bmi.reduce((a, x) => a + (x - mean) ** 2, 0) / (bmi.length - 1);
  const bins = new Array<number>(6).fill(0);
  // Values above 45 are counted as `above`, not in the last bin.
  for (const x of bmi) if (x <= 45) bins[Math.min(5, Math.floor(((x - 15) / 30) * 6))]!++;
  return { count: bmi.length, mean, variance, min: Math.min(...bmi), max: Math.max(...bmi), bins };
}

const shapes: { name: string; tree: Tree }[] = [
  { name: 'one cluster, collect (star)', tree: { sites: ['s1', 's2', 's3', 's4', 's5'] } },
  { name: 'one cluster, sequential', tree: { seq: true, sites: ['s3', 's1', 's5', 's2', 's4'] } },
  { name: 'collect root over a sequential and a collect cluster', tree: { subs: [{ seq: true, sites: ['s1', 's2', 's3'] }, { sites: ['s4', 's5'] }] } },
  { name: 'sequential root over collect clusters', tree: { seq: true, subs: [{ sites: ['s1', 's2'] }, { sites: ['s3', 's4', 's5'] }] } },
  { name: 'sequential root over a sequential cluster over collect clusters (three levels)', tree: { seq: true, subs: [{ seq: true, subs: [{ sites: ['s1', 's2'] }, { sites: ['s3'] }] }, { sites: ['s4', 's5'] }] } },
  { name: 'collect everywhere, three levels', tree: { subs: [{ subs: [{ sites: ['s1'] }, { sites: ['s2', 's3'] }] }, { seq: true, sites: ['s4', 's5'] }] } },
];

describe('merge by depth', () => {
  const doc = validateArtifact(artifactDoc());
  const plan = compileValidArtifact(doc).artifact!;
  const tables = new Map(['s1', 's2', 's3', 's4', 's5'].map((s, i) => [s, table(40 + 37 * i, i + 1)]));
  const want = centralised([...tables.values()]);

  for (const { name, tree } of shapes) {
    it(`${name}: equals the centralised answer`, () => {
      const rootPerPass = tree.seq ? (tree.sites ?? tree.subs!).length : 1;
      const ctx = artifactContext(plan, rootPerPass, sitesOf(tree));
      const h = runRoot(ctx, tree, tables);
      expect(h.phase, 'the phase closed').toBe(1);
      const [count, stats, hist] = h.results as [Extract<StepResult, { kind: 'count' }>, Extract<StepResult, { kind: 'stats' }>, Extract<StepResult, { kind: 'histogram' }>];
      expect(count.count).toBe(want.count);
      expect(count.members).toEqual(['s1', 's2', 's3', 's4', 's5']);
      expect(stats.values.count).toBe(want.count);
      expect(stats.values.min).toBe(want.min);
      expect(stats.values.max).toBe(want.max);
      expect(Math.abs(stats.values.mean! - want.mean) / want.mean, 'mean, relative').toBeLessThan(1e-12);
      expect(Math.abs(stats.values.variance! - want.variance) / want.variance, 'variance, relative').toBeLessThan(1e-12);
      expect(hist.counts).toEqual(want.bins);
      expect(h.absent).toEqual([{ phase: 0, members: [] }]);
    });
  }

  it('a site visited twice in a pass (its turn came round again) is counted once', () => {
    const ctx = artifactContext(plan, 3, ['s1', 's2', 's3']);
    let g = initialHeader();
    for (const s of ['s1', 's2', 's2']) g = mergeAt(ctx, 0, g, [answerPhase(ctx, g, 0, s, { table: tables.get(s)! }, () => 0.5)]).header;
    const count = g.results[0] as Extract<StepResult, { kind: 'count' }>;
    expect(count.members).toEqual(['s1', 's2']);
    expect(count.count).toBe(centralised([tables.get('s1')!, tables.get('s2')!]).count);
    expect(g.absent).toEqual([{ phase: 0, members: ['s3'] }]);
  });

  it('a site below minGroupSize refuses, and the others still answer', () => {
    const strict = compileValidArtifact(validateArtifact(artifactDoc({ privacy: { minGroupSize: 30 } }))).artifact!;
    const ctx = artifactContext(strict, 1, ['big', 'small']);
    const big = table(200, 7);
    const small = table(20, 8);
    const inputs = [answerPhase(ctx, initialHeader(), 0, 'big', { table: big }, () => 0.5), answerPhase(ctx, initialHeader(), 0, 'small', { table: small }, () => 0.5)];
    const h = mergeAt(ctx, 0, initialHeader(), inputs).header;
    const count = h.results[0] as Extract<StepResult, { kind: 'count' }>;
    expect(count.count).toBe(centralised([big]).count);
    expect(count.refusals).toEqual([{ member: 'small', reason: 'fewer than minGroupSize 30 rows in the current view' }]);
  });

  it('a site without the dataset, or with an unknown column, refuses with the reason', () => {
    const ctx = artifactContext(compileValidArtifact(validateArtifact(artifactDoc({ steps: [{ kind: 'stats', column: 'weight' }] }))).artifact!, 1, ['a', 'b']);
    const inputs = [answerPhase(ctx, initialHeader(), 0, 'a', { table: table(50, 1) }, () => 0.5), answerPhase(ctx, initialHeader(), 0, 'b', { refusal: 'this node has no dataset named "patients"' }, () => 0.5)];
    const r = mergeAt(ctx, 0, initialHeader(), inputs).header.results[0]!;
    expect(r.kind === 'stats' && r.refusals).toEqual([
      { member: 'a', reason: expect.stringMatching(/column "weight" is not in this node's dataset \(its header has "age", "bmi", "sex"\)/) },
      { member: 'b', reason: 'this node has no dataset named "patients"' },
    ]);
  });

  it('redundant workers merging the same inputs produce identical bytes', () => {
    const ctx = artifactContext(plan, 1, ['s1', 's2', 's3', 's4', 's5']);
    const inputs = [...tables.keys()].map((s) => answerPhase(ctx, initialHeader(), 0, s, { table: tables.get(s)! }, () => 0.5));
    const a = JSON.stringify(mergeAt(ctx, 0, initialHeader(), inputs).header);
    const b = JSON.stringify(mergeAt(ctx, 0, initialHeader(), inputs).header);
    expect(a).toBe(b);
  });

  it('with Laplace noise, each site perturbs its own clipped answer, and the sum stays close', () => {
    const noisy = compileValidArtifact(
      validateArtifact(artifactDoc({ privacy: { minGroupSize: 3, noise: { kind: 'laplace', epsilon: 1, bounds: { bmi: { min: 15, max: 45 } } } }, steps: [{ kind: 'count' }, { kind: 'stats', column: 'bmi', ops: ['count', 'mean'] }] })),
    ).artifact!;
    const ctx = artifactContext(noisy, 1, [...tables.keys()]);
    const rng = Rng.fromSeed(11);
    const inputs = [...tables.keys()].map((s) => answerPhase(ctx, initialHeader(), 0, s, { table: tables.get(s)! }, () => rng.float()));
    const [count, stats] = mergeAt(ctx, 0, initialHeader(), inputs).header.results as [Extract<StepResult, { kind: 'count' }>, Extract<StepResult, { kind: 'stats' }>];
    const rows = [...tables.values()].reduce((n, t) => n + t.rows, 0);
    expect(count.count, 'noise was added').not.toBe(rows);
    // Five Laplace(1) draws: |sum| < 20 with overwhelming probability.
    expect(Math.abs(count.count - rows)).toBeLessThan(20);
    expect(Number.isInteger(stats.values.count)).toBe(false);
    expect(Math.abs(stats.values.mean! - 31)).toBeLessThan(5);
  });
});
