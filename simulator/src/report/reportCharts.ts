import { stackedBarChart, type BarStack } from './charts/barChart.js';
import { lineChart, type LineSeries, type RefLine } from './charts/lineChart.js';
import { escapeHtml, formatBytes, formatCount, formatNumber, formatPercent, formatShort, timeUnitFor } from './format.js';
import { STAGES, type RoundRecord, type RunMeta, type Stage } from './roundRecord.js';
import { meanByRound, perRepetition, roundsOf, spreadByRound, spreadByTime, type Metric, type SpreadPoint } from './series.js';

// The report's figures. Each returns a <figure> with its caption, chart and legend; every
// string that came from a run goes through escapeHtml.

/** Colours, chosen to stay distinct for the common forms of colour blindness. */
export const PALETTE = {
  accuracy: '#0f766e',
  loss: '#4338ca',
  repetition: '#94a3b8',
  levels: ['#0f766e', '#2563eb', '#d97706', '#db2777', '#7c3aed', '#64748b'],
  participants: '#16a34a',
  stragglers: '#f59e0b',
  crashed: '#dc2626',
  stages: ['#94a3b8', '#64748b', '#a78bfa', '#0f766e', '#2563eb', '#d97706'],
} as const;

type Groups = ReadonlyMap<number, readonly RoundRecord[]>;

interface LegendEntry {
  readonly label: string;
  readonly color: string;
  readonly kind: 'line' | 'band' | 'box' | 'dashed';
}

function legend(entries: readonly LegendEntry[]): string {
  const items = entries.map((e) => `<li><span class="swatch ${e.kind}" style="--c:${e.color}"></span>${escapeHtml(e.label)}</li>`);
  return `<ul class="legend">${items.join('')}</ul>`;
}

function figure(title: string, subtitle: string, chart: string, legendHtml = ''): string {
  return `<figure class="card"><figcaption><h3>${escapeHtml(title)}</h3><p class="sub">${escapeHtml(subtitle)}</p></figcaption>${chart}${legendHtml}</figure>`;
}

interface MetricView {
  readonly name: 'Accuracy' | 'Loss';
  readonly metric: Metric;
  readonly color: string;
  readonly format: (v: number) => string;
  readonly target?: number;
}

function metricViews(meta: RunMeta): MetricView[] {
  return [
    { name: 'Accuracy', metric: (r) => r.accuracy, color: PALETTE.accuracy, format: (v) => formatPercent(v), ...(meta.stop?.targetAccuracy !== undefined ? { target: meta.stop.targetAccuracy } : {}) },
    { name: 'Loss', metric: (r) => r.loss, color: PALETTE.loss, format: (v) => formatNumber(v, 4), ...(meta.stop?.targetLoss !== undefined ? { target: meta.stop.targetLoss } : {}) },
  ];
}

/** One metric against the round or against virtual time: a line per repetition, the mean, and the min–max band. */
function convergenceFigure(groups: Groups, view: MetricView, axis: 'round' | 'time'): string {
  const byTime = axis === 'time';
  // time is charted in one unit (s, min or h) so that the axis ticks fall on round numbers of it
  const unit = timeUnitFor(Math.max(0, ...[...groups.values()].flatMap((rounds) => rounds.map((r) => r.virtualSeconds))));
  const lines = perRepetition(groups, view.metric, byTime ? (r) => r.virtualSeconds / unit.seconds : (r) => r.round);
  const many = [...lines.values()].filter((l) => l.length > 0).length > 1;
  const spread: SpreadPoint[] = byTime ? spreadByTime(lines) : spreadByRound(lines);
  const xFormat = byTime ? (v: number) => formatNumber(v) : (v: number) => String(v);
  const series: LineSeries[] = [];
  if (many) for (const [rep, pts] of lines) series.push({ label: `repetition ${rep + 1}`, color: PALETTE.repetition, points: pts, width: 1, opacity: 0.75 });
  const meanPts = many ? spread.map((p) => [p.x, p.mean] as const) : ([...lines.values()].find((l) => l.length > 0) ?? []);
  series.push({ label: many ? 'mean' : 'global model', color: view.color, points: meanPts, width: 2.5, markers: !byTime && meanPts.length <= 60 });
  const refs: RefLine[] = view.target !== undefined ? [{ y: view.target, label: `target ${view.format(view.target)}` }] : [];
  const title = `${view.name} by ${byTime ? 'virtual time' : 'round'}`;
  const chart = lineChart({
    title,
    series,
    ...(many ? { band: { color: view.color, points: spread } } : {}),
    refLines: refs,
    xLabel: byTime ? `virtual time (${unit.name})` : 'round',
    yLabel: view.name.toLowerCase(),
    xTickFormat: xFormat,
    yTickFormat: view.name === 'Accuracy' ? (v) => formatPercent(v, 0) : (v) => formatNumber(v),
    xIntegerTicks: !byTime,
    yClamp: view.name === 'Accuracy' ? [0, 1] : [0, Infinity],
    describePoint: (s, x, y) => `${s.label}, ${byTime ? `${formatNumber(x)} ${unit.name}` : `round ${x}`}: ${view.format(y)}`,
    emptyMessage: `${view.name} was not evaluated in this run`,
  });
  const entries: LegendEntry[] = many
    ? [
        { label: `mean of ${lines.size} repetitions`, color: view.color, kind: 'line' },
        { label: 'min–max over repetitions', color: view.color, kind: 'band' },
        { label: 'each repetition', color: PALETTE.repetition, kind: 'line' },
      ]
    : [{ label: 'global model', color: view.color, kind: 'line' }];
  if (refs.length > 0) entries.push({ label: 'stop target', color: '#475569', kind: 'dashed' });
  const sub = byTime ? 'simulated seconds since the job was submitted' : 'global model on the test set after each round';
  return figure(title, sub, chart, legend(entries));
}

/** Accuracy and loss, by round and by virtual time. */
export function convergenceFigures(groups: Groups, meta: RunMeta): string[] {
  const views = metricViews(meta);
  return [...views.map((v) => convergenceFigure(groups, v, 'round')), ...views.map((v) => convergenceFigure(groups, v, 'time'))];
}

function meanNote(groups: Groups): string {
  return groups.size > 1 ? `mean of ${groups.size} repetitions per round` : 'per round';
}

/** Bytes and messages per round, stacked by tree level. */
export function trafficFigures(groups: Groups, meta: RunMeta): string[] {
  const rounds = roundsOf(groups);
  const levelName = (l: number) => (l === 0 ? 'level 0 (root)' : l === meta.levels - 1 ? `level ${l} (leaves)` : `level ${l}`);
  const make = (key: 'bytesByLevel' | 'messagesByLevel', title: string, format: (v: number) => string) => {
    const stacks: BarStack[] = Array.from({ length: meta.levels }, (_, l) => ({
      label: levelName(l),
      color: PALETTE.levels[l % PALETTE.levels.length]!,
      values: meanByRound(groups, (r) => r[key][String(l)] ?? 0),
    }));
    const chart = stackedBarChart({
      title,
      xLabel: 'round',
      yLabel: key === 'bytesByLevel' ? 'bytes' : 'messages',
      categories: rounds,
      stacks,
      yTickFormat: key === 'bytesByLevel' ? (v) => formatBytes(v).replace(' ', '\u202f') : formatShort,
      describeValue: (s, round, v) => `round ${round}, ${s.label}: ${format(v)}`,
    });
    return figure(title, `${meanNote(groups)}, stacked by tree level`, chart, legend(stacks.map((s) => ({ label: s.label, color: s.color, kind: 'box' }))));
  };
  return [make('bytesByLevel', 'Traffic per level', formatBytes), make('messagesByLevel', 'Messages per level', formatCount)];
}

/** Clients per round: aggregated, straggling and crashed. */
export function participationFigure(groups: Groups): string {
  const stacks: BarStack[] = [
    { label: 'participants', color: PALETTE.participants, values: meanByRound(groups, (r) => r.participants) },
    { label: 'stragglers', color: PALETTE.stragglers, values: meanByRound(groups, (r) => r.stragglers) },
    { label: 'crashed', color: PALETTE.crashed, values: meanByRound(groups, (r) => r.crashed) },
  ];
  const chart = stackedBarChart({
    title: 'Participation',
    xLabel: 'round',
    yLabel: 'clients',
    categories: roundsOf(groups),
    stacks,
    yTickFormat: formatShort,
    describeValue: (s, round, v) => `round ${round}: ${formatNumber(v)} ${s.label}`,
  });
  return figure('Participation', `${meanNote(groups)}: updates aggregated, missed the deadline, crashed`, chart, legend(stacks.map((s) => ({ label: s.label, color: s.color, kind: 'box' }))));
}

const STAGE_LABELS: Record<Stage, string> = {
  jobSheets: 'job sheets',
  datasets: 'datasets',
  initialParameters: 'initial parameters',
  training: 'training',
  aggregation: 'aggregation',
  consensus: 'consensus',
};

/** Where each round's virtual time went, stage by stage. */
export function stageFigure(groups: Groups): string {
  const present = STAGES.filter((s) => [...groups.values()].some((rounds) => rounds.some((r) => (r.stageLatencies[s] ?? 0) > 0)));
  const stacks: BarStack[] = present.map((s) => ({
    label: STAGE_LABELS[s],
    color: PALETTE.stages[STAGES.indexOf(s)]!,
    values: meanByRound(groups, (r) => r.stageLatencies[s] ?? 0),
  }));
  const max = Math.max(0, ...stacks.flatMap((s) => s.values));
  const unit = timeUnitFor(max);
  const chart = stackedBarChart({
    title: 'Stage latencies',
    xLabel: 'round',
    yLabel: `virtual ${unit.name}`,
    categories: roundsOf(groups),
    stacks,
    yTickFormat: (v) => formatNumber(v / unit.seconds),
    describeValue: (s, round, v) => `round ${round}, ${s.label}: ${formatNumber(v)} s`,
  });
  return figure('Stage latencies', `${meanNote(groups)}, seen from the root job`, chart, legend(stacks.map((s) => ({ label: s.label, color: s.color, kind: 'box' }))));
}
