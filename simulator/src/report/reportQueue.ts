import { escapeHtml, formatCount, formatDuration } from './format.js';
import type { RunSummary } from './summary.js';

/**
 * The report's "Compute queue" section for a run with `training.queue`: per repetition and
 * worker, the tasks it ran (by kind), the time it spent on them (and computing them), how
 * long they waited, and the queue's own work per task. Empty for a run that computed in its own process.
 */
export function queueSection(summary: RunSummary): string {
  const reps = summary.repetitions.filter((r) => r.queue);
  if (reps.length === 0) return '';
  const rows = reps.flatMap((r) =>
    r.queue!.workers.map((w) => {
      const kinds = Object.entries(w.byKind)
        .map(([k, n]) => `${k} ${formatCount(n)}`)
        .join(', ');
      return `<tr><td>${r.repetition + 1}</td><td class="text">${escapeHtml(w.worker)}</td><td class="text">${escapeHtml(w.host)}</td><td>${formatCount(w.tasks)}</td><td class="text">${escapeHtml(kinds)}</td><td>${escapeHtml(formatDuration(w.runSeconds))}</td><td>${escapeHtml(formatDuration(w.computeSeconds))}</td><td>${w.waitedMsMean.toFixed(0)} ms</td><td>${w.waitedMsMax.toFixed(0)} ms</td></tr>`;
    }),
  );
  const first = reps[0]!.queue!;
  const retried = reps.reduce((a, r) => a + r.queue!.retriedAfterLoss, 0);
  const overhead = reps.map((r) => `${r.queue!.overheadMsMean.toFixed(1)} ms`).join(', ');
  const lead = `Tasks ran on sim-workers through ${first.queue}; ${formatCount(retried)} went back to the queue after their worker stopped answering. Waits run from queued to computing. The queue's own work per task (message, blobs in and out) took ${overhead} on average.`;
  return `<section><h2>Compute queue</h2><p class="lead">${escapeHtml(lead)}</p><div style="overflow-x:auto"><table><thead><tr><th>#</th><th class="text">worker</th><th class="text">host</th><th>tasks</th><th class="text">by kind</th><th>running</th><th>computing</th><th>mean wait</th><th>longest wait</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}
