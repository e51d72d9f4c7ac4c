import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// Artifacts end to end (docs/ARTIFACTS.md): `canopy local` runs the example over five site
// processes (plus the hub and a second worker), each reading its own CSV file, and prints
// the result last. The answers must equal the centralised ones computed here directly from
// the concatenated CSV files: counts, histogram bins, min and max exactly, mean and
// variance to a relative 1e-12 (the merge adds in another order than one pass does). And
// cyclic weight transfer over four peers learns.

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'cli/bin/canopy.js');
const example = (f: string) => join(root, 'examples/artifacts', f);
const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 240_000 });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Result;

interface StepOut {
  kind: string;
  count?: number;
  column?: string;
  values?: Record<string, number | null>;
  counts?: number[];
  below?: number;
  above?: number;
  members: string[];
  refusals: { member: string; reason: string }[];
}
interface Result {
  complete: boolean;
  steps: StepOut[];
  absent: string[];
  rounds: number;
}

// The centralised answers, from all five files at once.
function centralised(minAge: number) {
  const rows = [1, 2, 3, 4, 5].flatMap((i) => parse(readFileSync(example(`data/site-${i}.csv`), 'utf8'), { columns: true }) as Record<string, string>[]);
  const kept = rows.filter((r) => Number(r.age) >= minAge);
  const col = (c: string) => kept.map((r) => Number(r[c]));
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const variance = (xs: number[]) => {
    const m = mean(xs);
    return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  };
  const bmi = col('bmi');
  const bp = col('systolic_bp');
  const bins = new Array<number>(14).fill(0);
  for (const x of bp) bins[x === 220 ? 13 : Math.floor(((x - 80) / 140) * 14)]!++;
  return { count: kept.length, bmi: { sum: bmi.reduce((a, x) => a + x, 0), mean: mean(bmi), variance: variance(bmi), min: Math.min(...bmi), max: Math.max(...bmi) }, bp: { mean: mean(bp), variance: variance(bp) }, bins };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function expectCentralised(r: Result, what: string): void {
  const want = centralised(40);
  const [count, bmi, bp, hist] = r.steps;
  const sites = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];
  expect(r.complete, what).toBe(true);
  expect(count!.count, `${what}: count`).toBe(want.count);
  expect(count!.members, `${what}: every site answered`).toEqual(sites);
  expect(bmi!.values!.count, `${what}: bmi count`).toBe(want.count);
  expect(bmi!.values!.min, `${what}: bmi min`).toBe(want.bmi.min);
  expect(bmi!.values!.max, `${what}: bmi max`).toBe(want.bmi.max);
  expect(rel(bmi!.values!.sum!, want.bmi.sum), `${what}: bmi sum`).toBeLessThan(1e-12);
  expect(rel(bmi!.values!.mean!, want.bmi.mean), `${what}: bmi mean`).toBeLessThan(1e-12);
  expect(rel(bmi!.values!.variance!, want.bmi.variance), `${what}: bmi variance`).toBeLessThan(1e-12);
  expect(rel(bp!.values!.mean!, want.bp.mean), `${what}: bp mean`).toBeLessThan(1e-12);
  expect(rel(bp!.values!.variance!, want.bp.variance), `${what}: bp variance`).toBeLessThan(1e-12);
  expect(hist!.counts, `${what}: histogram`).toEqual(want.bins);
  expect([hist!.below, hist!.above], `${what}: outside the bins`).toEqual([0, 0]);
}

describe('artifacts over five real peers', { timeout: 240_000 }, () => {
  it('star (collect): the result equals the centralised answers', () => {
    const run = canopy('local', example('csv-stats.yaml'), '--json');
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    const r = lastJson(run.stdout);
    expect(r.rounds).toBe(1);
    expectCentralised(r, 'star');
  });

  it('sequential: the resource visits each site in turn, and the result is the same', () => {
    const run = canopy('local', example('csv-stats-sequential.yaml'), '--json');
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    const r = lastJson(run.stdout);
    expect(r.rounds, 'one round per site').toBe(5);
    expectCentralised(r, 'sequential');
  });

  it('two levels, each choosing its distribution (a sequential and a collect region under a collecting hub): the same answers', () => {
    const run = canopy('local', example('csv-stats-2level.yaml'), '--json');
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    const r = lastJson(run.stdout);
    expect(r.rounds, 'one root round; the sequential region ran one local round per site inside it').toBe(1);
    expectCentralised(r, 'two levels');
  });

  it('a site with fewer rows than minGroupSize refuses, says why, and the rest still answer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-art-'));
    // Patients of 75 and over: site-4 holds 4 of them, fewer than 10.
    const text = readFileSync(example('csv-stats.yaml'), 'utf8')
      .replace('name: csv-stats', 'name: csv-stats-75')
      .replace("op: '>=', value: 40", "op: '>=', value: 75")
      .replace(/data\/site-/g, `${example('data')}/site-`);
    writeFileSync(join(dir, 'a.yaml'), text);
    const run = canopy('local', join(dir, 'a.yaml'), '--json');
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    const r = lastJson(run.stdout);
    const [count] = r.steps;
    const old = [1, 2, 3, 5].flatMap((i) => (parse(readFileSync(example(`data/site-${i}.csv`), 'utf8'), { columns: true }) as Record<string, string>[]).filter((x) => Number(x.age) >= 75));
    expect(count!.count).toBe(old.length);
    expect(count!.members).toEqual(['site-1', 'site-2', 'site-3', 'site-5']);
    expect(count!.refusals).toEqual([{ member: 'site-4', reason: 'fewer than minGroupSize 10 rows in the current view' }]);
    expect(run.stderr).toMatch(/site-4 refused: fewer than minGroupSize 10 rows/);
  });

  it('sequential training (cyclic weight transfer) over four peers learns the embedded MNIST', () => {
    const run = canopy('local', example('sequential-train.yaml'), '--json');
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    const r = lastJson(run.stdout) as Result & { evaluation: { accuracy: number }; roundAccuracy: number[] };
    expect(r.complete).toBe(true);
    expect(r.rounds, 'three passes over four sites').toBe(12);
    // Round 1 evaluates the initial weights (chance, about 10%); the final model is far above.
    expect(r.roundAccuracy[0]!).toBeLessThan(0.3);
    expect(r.evaluation.accuracy).toBeGreaterThan(0.8);
  });

  it('a malformed artifact is refused with the field named, and no node starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-art-'));
    const text = readFileSync(example('csv-stats.yaml'), 'utf8').replace('kind: count, name: patients-40-plus', 'kind: median, name: patients-40-plus');
    writeFileSync(join(dir, 'bad.yaml'), text);
    const run = canopy('local', join(dir, 'bad.yaml'), '--json');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/steps\[1\]\.kind: unknown step kind; known kinds: filter, count, stats, histogram, train; found "median"/);
    expect(run.stderr).not.toMatch(/node processes up/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace for bad input
  });
});
