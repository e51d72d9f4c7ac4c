import { niceTicks } from './niceTicks';

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; y: number }[];
}

const W = 560;
const H = 220;
const PAD = { left: 48, right: 16, top: 14, bottom: 30 };

/**
 * A line chart of per-round values, drawn as plain SVG (no chart library: the UI must work
 * offline under a strict CSP and these charts need little). Rounds are on x.
 */
export function LineChart({ title, series, yFormat = (v) => v.toFixed(2), yMin, yMax }: { title: string; series: readonly Series[]; yFormat?: (v: number) => string; yMin?: number; yMax?: number }) {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const x0 = Math.min(1, ...xs);
  const x1 = Math.max(x0 + 1, ...xs);
  const yTicks = niceTicks(yMin ?? Math.min(...ys, Infinity), yMax ?? Math.max(...ys, -Infinity), 4);
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks.at(-1) ?? 1;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const xTicks = niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t) && t >= x0 && t <= x1);
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        <span className="legend">
          {series.map((s) => (
            <span key={s.name}>
              <i style={{ background: s.color }} /> {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} data-points={all.length}>
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={sy(t)} y2={sy(t)} />
            <text className="tick" x={PAD.left - 8} y={sy(t) + 4} textAnchor="end">
              {yFormat(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={`x${t}`} className="tick" x={sx(t)} y={H - 10} textAnchor="middle">
            {t}
          </text>
        ))}
        <text className="axis-label" x={PAD.left - 8} y={H - 10} textAnchor="end">
          round
        </text>
        {series.map((s) =>
          s.points.length === 0 ? null : (
            <g key={s.name}>
              <polyline fill="none" stroke={s.color} strokeWidth={2.2} strokeLinejoin="round" points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
              {s.points.map((p) => (
                <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={3.2} fill="#fff" stroke={s.color} strokeWidth={2}>
                  <title>{`round ${p.x}: ${yFormat(p.y)}`}</title>
                </circle>
              ))}
            </g>
          ),
        )}
        {all.length === 0 && (
          <text className="chart-empty" x={W / 2} y={H / 2} textAnchor="middle">
            Waiting for the first round…
          </text>
        )}
      </svg>
    </figure>
  );
}
