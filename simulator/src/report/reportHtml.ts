import { escapeHtml, formatBytes, formatCount, formatDuration, formatNumber, formatPercent } from './format.js';
import { convergenceFigures, participationFigure, stageFigure, trafficFigures } from './reportCharts.js';
import { REPORT_CSS } from './reportStyles.js';
import { artifactResultSection } from './reportArtifact.js';
import { queueSection } from './reportQueue.js';
import type { RepetitionStopReason, RoundRecord, RunMeta } from './roundRecord.js';
import { byRepetition, type RepetitionSummary, type RunSummary, type Stat } from './summary.js';

// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched), so
// it can be mailed, archived next to the data, and opened offline years later.

const STOP_LABELS: Record<RepetitionStopReason, { text: string; tone: 'good' | 'warn' | 'bad' | '' }> = {
  rounds: { text: 'round limit', tone: '' },
  targetAccuracy: { text: 'target accuracy', tone: 'good' },
  targetLoss: { text: 'target loss', tone: 'good' },
  privacyBudget: { text: 'privacy budget', tone: 'good' },
  maxVirtualSeconds: { text: 'time limit', tone: 'warn' },
  stalled: { text: 'stalled', tone: 'bad' },
  aborted: { text: 'aborted', tone: 'warn' },
  error: { text: 'error', tone: 'bad' },
  incomplete: { text: 'incomplete', tone: 'warn' },
};

function stopPill(reason: RepetitionStopReason, detail?: string): string {
  const s = STOP_LABELS[reason];
  const title = detail ? ` title="${escapeHtml(detail)}"` : '';
  return `<span class="pill ${s.tone}"${title}>${escapeHtml(s.text)}</span>`;
}

function spreadNote(stat: Stat | null, format: (v: number) => string): string {
  if (!stat || stat.n < 2) return '';
  return `range ${format(stat.min)} – ${format(stat.max)}`;
}

function kpi(label: string, stat: Stat | null, format: (v: number) => string, note?: string): string {
  const value = stat ? format(stat.mean) : '—';
  const extra = note ?? spreadNote(stat, format);
  return `<div class="kpi"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div><div class="note">${escapeHtml(extra || '\u00a0')}</div></div>`;
}

function stopCounts(reps: readonly RepetitionSummary[]): string {
  const counts = new Map<RepetitionStopReason, number>();
  for (const r of reps) counts.set(r.stopReason, (counts.get(r.stopReason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${STOP_LABELS[reason].text}${reps.length > 1 ? ` ×${n}` : ''}`).join(', ');
}

function header(meta: RunMeta, summary: RunSummary): string {
  const started = new Date(summary.startedAt);
  const incomplete = summary.repetitions.some((r) => r.stopReason === 'incomplete' || r.stopReason === 'error');
  const status = incomplete ? '<span class="status warn">incomplete</span>' : '<span class="status">finished</span>';
  const params = summary.parameters.map((p) => `<div><dt>${escapeHtml(p.label)}</dt><dd>${escapeHtml(p.value)}</dd></div>`).join('');
  const when = `Started ${escapeHtml(started.toUTCString())} · ${summary.repetitions.length} of ${meta.repetitions} repetition(s) recorded`;
  return `<header class="top"><div class="brand"><span class="leaf"></span>Canopy · simulation report</div>
<h1>${escapeHtml(summary.scenario)}${status}</h1>
${summary.description ? `<p class="description">${escapeHtml(summary.description)}</p>` : ''}
<p class="when">${when}</p>
${params ? `<dl class="params">${params}</dl>` : ''}</header>`;
}

function kpis(summary: RunSummary): string {
  const o = summary.overall;
  const reps = summary.repetitions;
  return `<div class="kpis">
${kpi('Final accuracy', o.finalAccuracy, (v) => formatPercent(v))}
${kpi('Final loss', o.finalLoss, (v) => formatNumber(v, 4))}
${kpi('Rounds', o.rounds, (v) => formatNumber(v), stopCounts(reps))}
${kpi('Virtual time', o.virtualSeconds, formatDuration)}
${kpi('Wall time', o.wallSeconds, formatDuration)}
${kpi('Traffic', o.bytes, formatBytes, o.messages ? `${formatCount(o.messages.mean)} messages` : '')}
</div>`;
}

function cell(v: number | null, format: (v: number) => string): string {
  return `<td>${v === null ? '—' : escapeHtml(format(v))}</td>`;
}

function repetitionTable(summary: RunSummary): string {
  const rows = summary.repetitions.map(
    (r) =>
      `<tr><td>${r.repetition + 1}</td><td>${r.rounds}</td><td class="text">${stopPill(r.stopReason, r.detail)}</td>${cell(r.finalAccuracy, (v) => formatPercent(v, 2))}${cell(r.bestAccuracy, (v) => formatPercent(v, 2))}${cell(r.roundsToTargetAccuracy, String)}${cell(r.finalLoss, (v) => formatNumber(v, 4))}${cell(r.virtualSeconds, formatDuration)}${cell(r.wallSeconds, formatDuration)}${cell(r.bytes, formatBytes)}${cell(r.messages, formatCount)}<td>${formatCount(r.participants)} / ${formatCount(r.stragglers)} / ${formatCount(r.crashed)}</td></tr>`,
  );
  const o = summary.overall;
  const mean = (s: Stat | null, f: (v: number) => string) => cell(s ? s.mean : null, f);
  const sd = (s: Stat | null, f: (v: number) => string) => (s && s.n > 1 ? ` ± ${f(s.sd)}` : '');
  const foot =
    summary.repetitions.length > 1
      ? `<tfoot><tr><td>mean</td>${mean(o.rounds, (v) => formatNumber(v))}<td></td><td>${o.finalAccuracy ? escapeHtml(formatPercent(o.finalAccuracy.mean, 2) + sd(o.finalAccuracy, (v) => formatPercent(v, 2))) : '—'}</td><td></td><td></td>${mean(o.finalLoss, (v) => formatNumber(v, 4))}${mean(o.virtualSeconds, formatDuration)}${mean(o.wallSeconds, formatDuration)}${mean(o.bytes, formatBytes)}${mean(o.messages, formatCount)}<td></td></tr></tfoot>`
      : '';
  return `<div style="overflow-x:auto"><table><thead><tr><th>#</th><th>rounds</th><th class="text">stopped by</th><th>final acc.</th><th>best acc.</th><th>rounds to target</th><th>final loss</th><th>virtual time</th><th>wall time</th><th>traffic</th><th>messages</th><th>clients in / late / crashed</th></tr></thead><tbody>${rows.join('')}</tbody>${foot}</table></div>`;
}

/** The most events the report lists; the JSONL and CSV keep them all. */
const MAX_EVENTS = 200;

function eventList(records: readonly RoundRecord[]): string {
  const events = records.flatMap((r) => (r.events ?? []).map((e) => ({ r, e })));
  if (events.length === 0) return '';
  const items = events.slice(0, MAX_EVENTS).map(({ r, e }) => `<li>repetition ${r.repetition + 1}, round ${r.round}: ${escapeHtml(e)}</li>`);
  const more = events.length > MAX_EVENTS ? `<p class="sub">…and ${events.length - MAX_EVENTS} more in rounds.jsonl</p>` : '';
  return `<details><summary>Events (${events.length})</summary><ol>${items.join('')}</ol>${more}</details>`;
}

function section(title: string, lead: string, body: string): string {
  return `<section><h2>${escapeHtml(title)}</h2><p class="lead">${escapeHtml(lead)}</p>${body}</section>`;
}

/**
 * The complete report.html of a run: header with the scenario and its parameters, the
 * summary numbers, accuracy and loss against round and virtual time (each repetition, mean
 * and min–max band), traffic and messages per level, participation, stage latencies, and a
 * table of the repetitions.
 */
export function renderReport(meta: RunMeta, summary: RunSummary, records: readonly RoundRecord[]): string {
  const groups = byRepetition(records);
  const spread = groups.size > 1 ? `Thin lines are single repetitions; the bold line is their mean and the shaded band spans their minimum to maximum.` : 'The global model after each round.';
  const body = [
    header(meta, summary),
    kpis(summary),
    artifactResultSection(summary),
    section('Convergence', spread, `<div class="figures">${convergenceFigures(groups, meta).join('')}</div>`),
    section('Traffic', 'Bytes and control messages moved inside the clusters of each tree level.', `<div class="figures">${trafficFigures(groups, meta).join('')}</div>`),
    section('Clients and time', 'Who took part in each round, and where the round’s virtual time went.', `<div class="figures">${participationFigure(groups)}${stageFigure(groups)}</div>`),
    section('Repetitions', 'Each repetition runs the whole job with its own seeds.', repetitionTable(summary) + eventList(records)),
    queueSection(summary),
    `<footer>Generated by Canopy on ${escapeHtml(new Date(summary.finishedAt).toUTCString())}. The data behind every chart is in this folder: <code>rounds.jsonl</code>, <code>rounds.csv</code>, <code>summary.json</code>, <code>run.json</code>.</footer>`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(summary.scenario)} · Canopy simulation report</title>
<style>${REPORT_CSS}</style></head>
<body><main>
${body.join('\n')}
</main></body></html>
`;
}
