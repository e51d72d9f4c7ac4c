import { escapeHtml } from '../format.js';
import { buildFrame, emptyChart, extent, svgRoot, type FrameSpec } from './frame.js';

/** One line of a line chart. */
export interface LineSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly width?: number;
  readonly opacity?: number;
  readonly dashed?: boolean;
  /** Dots on the points, each with a hover tooltip. */
  readonly markers?: boolean;
}

/** A shaded range around lines, e.g. min–max over repetitions. */
export interface Band {
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly lo: number; readonly hi: number }[];
}

/** A horizontal reference line, e.g. a target accuracy. */
export interface RefLine {
  readonly y: number;
  readonly label: string;
}

/** A line chart: series drawn over an optional band, plus reference lines. */
export interface LineChartSpec extends Omit<FrameSpec, 'xDomain' | 'yDomain'> {
  readonly title: string;
  readonly series: readonly LineSeries[];
  readonly band?: Band;
  readonly refLines?: readonly RefLine[];
  /** Fixes the y range (accuracy is best read on 0–1 or close to it); default: the data's. */
  readonly yDomain?: readonly [number, number];
  readonly xDomain?: readonly [number, number];
  /** Bounds the data's y range may not be padded past (accuracy stays within 0–1). */
  readonly yClamp?: readonly [number, number];
  /** Tooltip text for a marker. */
  readonly describePoint?: (series: LineSeries, x: number, y: number) => string;
  readonly emptyMessage?: string;
}

/** Renders a line chart as an SVG string. */
export function lineChart(spec: LineChartSpec): string {
  const xs = extent(spec.series.flatMap((s) => s.points.map((p) => p[0])));
  const ys = extent([...spec.series.flatMap((s) => s.points.map((p) => p[1])), ...(spec.band?.points.flatMap((p) => [p.lo, p.hi]) ?? [])]);
  if (!xs || !ys) return emptyChart(spec.title, spec.emptyMessage ?? 'No data');
  const refs = (spec.refLines ?? []).filter((r) => Number.isFinite(r.y));
  // a target just outside the data still belongs on the chart: it shows how far off the run stayed
  const [lo, hi] = extent([...ys, ...refs.map((r) => r.y)]) as [number, number];
  // a little headroom, so a curve does not run along the frame's edge
  const pad = (hi - lo) * 0.04;
  const [min, max] = spec.yClamp ?? [-Infinity, Infinity];
  const yDomain = spec.yDomain ?? [Math.max(min, lo - pad), Math.min(max, hi + pad)];
  const frame = buildFrame({ ...spec, xDomain: spec.xDomain ?? xs, yDomain });
  const { x, y } = frame;
  const parts = [frame.svg];
  if (spec.band && spec.band.points.length > 1) {
    const upper = spec.band.points.map((p) => `${x(p.x).toFixed(1)},${y(p.hi).toFixed(1)}`);
    const lower = [...spec.band.points].reverse().map((p) => `${x(p.x).toFixed(1)},${y(p.lo).toFixed(1)}`);
    parts.push(`<polygon class="band" fill="${spec.band.color}" points="${[...upper, ...lower].join(' ')}"/>`);
  }
  for (const r of refs) {
    const py = y(r.y).toFixed(1);
    parts.push(`<line class="ref" x1="${frame.left}" x2="${frame.right}" y1="${py}" y2="${py}"/>`);
    // labelled at the left, where learning curves are still far from their target
    parts.push(`<text class="ref-label" x="${frame.left + 6}" y="${Number(py) - 5}">${escapeHtml(r.label)}</text>`);
  }
  for (const s of spec.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join('');
    const style = [`stroke="${s.color}"`, `stroke-width="${s.width ?? 1.5}"`, `stroke-opacity="${s.opacity ?? 1}"`, s.dashed ? 'stroke-dasharray="5 4"' : ''].join(' ');
    parts.push(`<path class="line" d="${d}" ${style}><title>${escapeHtml(s.label)}</title></path>`);
    // a lone point draws no line, so it always gets a dot
    if (s.markers || s.points.length === 1) {
      for (const [px, py] of s.points) {
        const tip = spec.describePoint ? spec.describePoint(s, px, py) : `${s.label}: ${py}`;
        parts.push(`<circle class="dot" cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeHtml(tip)}</title></circle>`);
      }
    }
  }
  return svgRoot(spec.title, parts.join(''));
}
