import { escapeHtml, niceTicks } from '../format.js';

// The part every chart shares: a plot area inside margins, linear scales, grid lines,
// tick labels and axis titles. Charts are drawn in a fixed viewBox and scale with the page.

/** Size of every chart's viewBox. */
export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 300;
const MARGIN = { top: 14, right: 18, bottom: 46, left: 62 };

/** Maps a value to a pixel coordinate. */
export type Scale = (v: number) => number;

/** Axes of one chart. */
export interface FrameSpec {
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xTickFormat: (v: number) => string;
  readonly yTickFormat: (v: number) => string;
  /** Only whole-number x ticks (rounds). */
  readonly xIntegerTicks?: boolean;
  /** Draw no x ticks (a bar chart labels its own categories). */
  readonly xTicks?: readonly number[];
}

/** A chart's plot area and scales, with the SVG of its grid and axes. */
export interface Frame {
  readonly x: Scale;
  readonly y: Scale;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly svg: string;
}

/** Builds the frame: y ticks widen the y domain to round numbers; x stays as given. */
export function buildFrame(spec: FrameSpec): Frame {
  const left = MARGIN.left;
  const right = CHART_WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = CHART_HEIGHT - MARGIN.bottom;
  const yTicks = niceTicks(spec.yDomain[0], spec.yDomain[1], 5);
  const y0 = yTicks[0]!;
  const y1 = yTicks[yTicks.length - 1]!;
  const [x0, x1] = spec.xDomain[0] === spec.xDomain[1] ? [spec.xDomain[0] - 0.5, spec.xDomain[1] + 0.5] : spec.xDomain;
  const x: Scale = (v) => left + ((v - x0) / (x1 - x0)) * (right - left);
  const y: Scale = (v) => bottom - ((v - y0) / (y1 - y0)) * (bottom - top);
  let xTicks = spec.xTicks ?? niceTicks(x0, x1, 6).filter((t) => t >= x0 - 1e-9 && t <= x1 + 1e-9);
  if (spec.xIntegerTicks) xTicks = [...new Set(xTicks.map(Math.round))].filter((t) => t >= x0 && t <= x1);
  const parts: string[] = [];
  for (const t of yTicks) {
    const py = y(t).toFixed(1);
    parts.push(`<line class="grid" x1="${left}" x2="${right}" y1="${py}" y2="${py}"/>`);
    parts.push(`<text class="tick" x="${left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(spec.yTickFormat(t))}</text>`);
  }
  for (const t of xTicks) {
    const px = x(t).toFixed(1);
    parts.push(`<line class="tick-mark" x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 4}"/>`);
    parts.push(`<text class="tick" x="${px}" y="${bottom + 17}" text-anchor="middle">${escapeHtml(spec.xTickFormat(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`);
  parts.push(`<text class="axis-label" x="${(left + right) / 2}" y="${CHART_HEIGHT - 6}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  parts.push(
    `<text class="axis-label" transform="translate(14 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`,
  );
  return { x, y, left, right, top, bottom, svg: parts.join('') };
}

/** Wraps chart content in an accessible, responsive `<svg>`. */
export function svgRoot(title: string, content: string): string {
  return `<svg class="chart" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${content}</svg>`;
}

/** A placeholder of the same size for a chart that has nothing to show. */
export function emptyChart(title: string, message: string): string {
  return svgRoot(title, `<text class="empty" x="${CHART_WIDTH / 2}" y="${CHART_HEIGHT / 2}" text-anchor="middle">${escapeHtml(message)}</text>`);
}

/** The extent of some numbers, or undefined for none. */
export function extent(values: Iterable<number>): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : undefined;
}
