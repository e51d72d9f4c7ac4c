/**
 * Round-number tick values covering [lo, hi], about `count` of them (1, 2 or 5 times a
 * power of ten apart), as charts conventionally use. An empty or flat range gets a unit span.
 */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  // The 1-2-5 step whose interval count comes closest to the one asked for.
  const steps = [1, 2, 5, 10].map((m) => m * pow);
  const step = steps.reduce((best, s) => (Math.abs((hi - lo) / s - count) < Math.abs((hi - lo) / best - count) ? s : best));
  const start = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's precision keeps 0.30000000000000004 out of the labels.
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let t = start; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toFixed(digits)));
  if (ticks.at(-1)! < hi) ticks.push(Number((ticks.at(-1)! + step).toFixed(digits)));
  return ticks;
}
