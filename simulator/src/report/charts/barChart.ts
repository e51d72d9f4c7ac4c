import { escapeHtml } from '../format.js';
import { buildFrame, emptyChart, svgRoot } from './frame.js';

/** One layer of a stacked bar chart: a value per category. */
export interface BarStack {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** Stacked bars, one bar per category (a round, typically). */
export interface StackedBarSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly number[];
  readonly stacks: readonly BarStack[];
  readonly yTickFormat: (v: number) => string;
  /** Tooltip text of one segment. */
  readonly describeValue: (stack: BarStack, category: number, value: number) => string;
  readonly emptyMessage?: string;
}

/** The most category labels an axis shows before it thins them out. */
const MAX_LABELS = 16;

/** Renders a stacked bar chart as an SVG string; segments stack bottom-up in `stacks` order. */
export function stackedBarChart(spec: StackedBarSpec): string {
  const n = spec.categories.length;
  const totals = spec.categories.map((_, i) => spec.stacks.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = Math.max(0, ...totals);
  if (n === 0 || max === 0) return emptyChart(spec.title, spec.emptyMessage ?? 'No data');
  const every = Math.ceil(n / MAX_LABELS);
  const frame = buildFrame({
    xDomain: [-0.5, n - 0.5],
    yDomain: [0, max],
    xLabel: spec.xLabel,
    yLabel: spec.yLabel,
    xTickFormat: (i) => String(spec.categories[i] ?? ''),
    yTickFormat: spec.yTickFormat,
    xTicks: spec.categories.map((_, i) => i).filter((i) => i % every === 0),
  });
  const slot = (frame.right - frame.left) / n;
  const barWidth = Math.max(1, Math.min(slot * 0.72, 48));
  const parts = [frame.svg];
  spec.categories.forEach((category, i) => {
    let base = 0;
    const cx = frame.x(i);
    for (const stack of spec.stacks) {
      const v = stack.values[i] ?? 0;
      if (v <= 0) continue;
      const y0 = frame.y(base);
      const y1 = frame.y(base + v);
      base += v;
      parts.push(
        `<rect class="bar" x="${(cx - barWidth / 2).toFixed(1)}" y="${y1.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(0.5, y0 - y1).toFixed(1)}" fill="${stack.color}"><title>${escapeHtml(spec.describeValue(stack, category, v))}</title></rect>`,
      );
    }
  });
  return svgRoot(spec.title, parts.join(''));
}
