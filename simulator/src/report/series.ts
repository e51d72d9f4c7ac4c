import type { RoundRecord } from './roundRecord.js';

// Turns rounds into what the charts draw: one line per repetition, and the mean with its
// min–max band over repetitions, against the round number or against virtual time.

/** A point of the across-repetitions aggregate. */
export interface SpreadPoint {
  readonly x: number;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  /** Repetitions contributing to this point. */
  readonly n: number;
}

/** A metric of a round: accuracy or loss, null when not evaluated. */
export type Metric = (r: RoundRecord) => number | null;

/** The metric's points of each repetition, [x, value], skipping unevaluated rounds. */
export function perRepetition(groups: ReadonlyMap<number, readonly RoundRecord[]>, metric: Metric, x: (r: RoundRecord) => number): Map<number, [number, number][]> {
  const out = new Map<number, [number, number][]>();
  for (const [rep, rounds] of groups) {
    const pts: [number, number][] = [];
    for (const r of rounds) {
      const v = metric(r);
      if (v !== null && Number.isFinite(v)) pts.push([x(r), v]);
    }
    out.set(rep, pts);
  }
  return out;
}

function spreadOf(x: number, values: readonly number[]): SpreadPoint {
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    sum += v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return { x, mean: sum / values.length, lo, hi, n: values.length };
}

/** Mean, min and max over repetitions at each round some repetition evaluated. */
export function spreadByRound(lines: ReadonlyMap<number, readonly (readonly [number, number])[]>): SpreadPoint[] {
  const at = new Map<number, number[]>();
  for (const pts of lines.values()) {
    for (const [round, v] of pts) {
      let list = at.get(round);
      if (!list) at.set(round, (list = []));
      list.push(v);
    }
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([round, values]) => spreadOf(round, values));
}

/**
 * Mean, min and max over repetitions on an even grid of virtual time. Repetitions evaluate
 * at different times, so each is read as a step function: its latest value at or before t.
 * A repetition that has finished keeps its final value, since its model no longer changes;
 * one not yet evaluated at t is left out of that point.
 */
export function spreadByTime(lines: ReadonlyMap<number, readonly (readonly [number, number])[]>, gridPoints = 120): SpreadPoint[] {
  const all = [...lines.values()].filter((pts) => pts.length > 0);
  if (all.length === 0) return [];
  const t0 = Math.min(...all.map((pts) => pts[0]![0]));
  const t1 = Math.max(...all.map((pts) => pts[pts.length - 1]![0]));
  const steps = t1 > t0 ? gridPoints : 1;
  const cursors = all.map(() => 0);
  const out: SpreadPoint[] = [];
  for (let g = 0; g < steps; g++) {
    const t = steps === 1 ? t0 : t0 + ((t1 - t0) * g) / (steps - 1);
    const values: number[] = [];
    all.forEach((pts, i) => {
      // times rise along each line, so a cursor per line makes the whole grid linear
      while (cursors[i]! + 1 < pts.length && pts[cursors[i]! + 1]![0] <= t) cursors[i]!++;
      const p = pts[cursors[i]!]!;
      if (p[0] <= t) values.push(p[1]);
    });
    if (values.length > 0) out.push(spreadOf(t, values));
  }
  return out;
}

/** The rounds 1..max that any repetition reached. */
export function roundsOf(groups: ReadonlyMap<number, readonly RoundRecord[]>): number[] {
  let max = 0;
  for (const rounds of groups.values()) for (const r of rounds) max = Math.max(max, r.round);
  return Array.from({ length: max }, (_, i) => i + 1);
}

/** Per round, the mean of `f` over the repetitions that reached that round (0 where none did). */
export function meanByRound(groups: ReadonlyMap<number, readonly RoundRecord[]>, f: (r: RoundRecord) => number): number[] {
  const rounds = roundsOf(groups);
  const sums = new Array<number>(rounds.length).fill(0);
  const counts = new Array<number>(rounds.length).fill(0);
  for (const list of groups.values()) {
    for (const r of list) {
      sums[r.round - 1]! += f(r);
      counts[r.round - 1]!++;
    }
  }
  return sums.map((s, i) => (counts[i]! > 0 ? s / counts[i]! : 0));
}
