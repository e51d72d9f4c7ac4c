import { escapeHtml, formatCount } from './format.js';
import type { ArtifactResultRecord } from './roundRecord.js';
import type { RunSummary } from './summary.js';

// The report's section for an artifact scenario: each step's answer (as core's
// describeResult words it for the CLI), who answered, and who refused and why.

type StepRecord = ArtifactResultRecord['steps'][number];

// Ten significant digits: enough to compare with a centralised answer by eye.
function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  return Number.isInteger(x) ? formatCount(x) : String(Number(x.toPrecision(10)));
}

function answer(s: StepRecord): string {
  switch (s.kind) {
    case 'count':
      return num(s.count);
    case 'stats':
      return Object.entries(s.values)
        .map(([op, v]) => `${op} ${num(v)}`)
        .join(', ');
    case 'histogram': {
      const bins = s.counts.map((c, i) => `[${num(s.edges[i])}, ${num(s.edges[i + 1])}${i === s.counts.length - 1 ? ']' : ')'} ${num(c)}`);
      const tails = s.below || s.above ? [`below ${num(s.below)}`, `above ${num(s.above)}`] : [];
      return [...bins, ...tails].join(' · ');
    }
    case 'train':
      return `${s.rounds} rounds of ${s.model}`;
  }
}

function stepRow(s: StepRecord): string {
  const what = `${s.kind}${'column' in s ? ` ${s.column}` : ''}${s.name ? ` “${s.name}”` : ''}`;
  const from = 'members' in s ? `${s.members.length} answered${s.refusals.length > 0 ? `, ${s.refusals.length} refused` : ''}` : '';
  return `<tr><td>${s.step}</td><td class="text">${escapeHtml(what)}</td><td class="text">${escapeHtml(answer(s))}</td><td class="text">${escapeHtml(from)}</td></tr>`;
}

/** The most refusals the report lists; summary.json keeps them all. */
const MAX_REFUSALS = 200;

function refusals(steps: readonly StepRecord[]): string {
  const items = steps.flatMap((s) => ('refusals' in s ? s.refusals.map((r) => `<li>step ${s.step}: ${escapeHtml(r.member)} refused: ${escapeHtml(r.reason)}</li>`) : []));
  if (items.length === 0) return '';
  const more = items.length > MAX_REFUSALS ? `<p class="sub">…and ${formatCount(items.length - MAX_REFUSALS)} more in summary.json</p>` : '';
  return `<details open><summary>Refusals (${formatCount(items.length)})</summary><ul>${items.slice(0, MAX_REFUSALS).join('')}</ul>${more}</details>`;
}

function resultBlock(r: ArtifactResultRecord, title: string): string {
  const status = r.complete ? 'complete' : 'INCOMPLETE: the job stopped before every step finished';
  const absent = r.absent.length > 0 ? `<p class="sub">Did not answer: ${escapeHtml(r.absent.join(', '))} (offline, no turn, or no consent).</p>` : '';
  return `<h3>${escapeHtml(title)} · ${escapeHtml(status)}</h3>
<div style="overflow-x:auto"><table><thead><tr><th>step</th><th class="text">what</th><th class="text">answer</th><th class="text">sites</th></tr></thead><tbody>${r.steps.map(stepRow).join('')}</tbody></table></div>${refusals(r.steps)}${absent}`;
}

/**
 * The artifact's result of each repetition, as a table of step answers with the refusals
 * under it; empty when the run is not an artifact's. Repetitions whose results are equal
 * to the first's (the same answers, the same sites) are shown once.
 */
export function artifactResultSection(summary: RunSummary): string {
  const reps = summary.repetitions.filter((r) => r.result !== undefined);
  if (reps.length === 0) return '';
  const first = JSON.stringify(reps[0]!.result);
  const same = reps.every((r) => JSON.stringify(r.result) === first);
  const blocks = same
    ? [resultBlock(reps[0]!.result!, reps.length > 1 ? `All ${reps.length} repetitions` : 'Result')]
    : reps.map((r) => resultBlock(r.result!, `Repetition ${r.repetition + 1}`));
  return `<section><h2>Artifact result</h2><p class="lead">What the root's final resource holds: each step's answer over the virtual clients' tables, and who refused.</p>${blocks.join('')}</section>`;
}
