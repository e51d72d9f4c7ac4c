import type { Manifest } from '../protocol/manifest.js';
import { phasesOf } from './plan.js';
import { decodeResource, type StepResult } from './resource.js';

// What a submitter gets back: the results of the finished steps, read from the root's final
// resource (docs/ARTIFACTS.md, "Results").

/** An artifact's result. */
export interface ArtifactResult {
  readonly artifact: string;
  /** Whether every step finished (false when the job stopped early, e.g. a round failed). */
  readonly complete: boolean;
  readonly steps: readonly StepResult[];
  /** Sites that answered no phase at all, or some phase (no consent, offline, no turn). */
  readonly absent: readonly string[];
  /** Size of the model weights the resource holds after a train step (0 without one). */
  readonly weightsBytes: number;
}

/** Reads the result out of a job's final resource. */
export function artifactResult(manifest: Manifest, finalResource: Uint8Array): ArtifactResult {
  const plan = manifest.artifact;
  if (!plan) throw new Error(`job ${manifest.name} is not an artifact`);
  const r = decodeResource(finalResource);
  const absent = [...new Set(r.header.absent.flatMap((a) => a.members))].sort();
  return { artifact: manifest.name, complete: r.header.phase >= phasesOf(plan).length, steps: r.header.results, absent, weightsBytes: r.weights.byteLength };
}

/** A result as lines for people. */
export function describeResult(result: ArtifactResult): string[] {
  const lines = [`artifact ${result.artifact}: ${result.complete ? 'complete' : 'INCOMPLETE (the job stopped before every step finished)'}`];
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : Number.isInteger(x) ? String(x) : x.toPrecision(10));
  for (const s of result.steps) {
    const label = `step ${s.step} ${s.kind}${s.name ? ` "${s.name}"` : ''}`;
    if (s.kind === 'train') {
      lines.push(`${label}: ${s.rounds} rounds of ${s.model}`);
      continue;
    }
    if (s.kind === 'count') lines.push(`${label}: ${fmt(s.count)}`);
    else if (s.kind === 'stats') lines.push(`${label} ${s.column}: ${Object.entries(s.values).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
    else lines.push(`${label} ${s.column}: ${s.counts.map((c, i) => `[${fmt(s.edges[i])}, ${fmt(s.edges[i + 1])}${i === s.counts.length - 1 ? ']' : ')'} ${fmt(c)}`).join('  ')}${s.below || s.above ? `  below ${fmt(s.below)}, above ${fmt(s.above)}` : ''}`);
    lines.push(`  from ${s.members.length} sites${s.members.length > 0 ? ` (${s.members.join(', ')})` : ''}`);
    for (const r of s.refusals) lines.push(`  ${r.member} refused: ${r.reason}`);
  }
  if (result.absent.length > 0) lines.push(`did not answer: ${result.absent.join(', ')} (no consent, offline, or no turn)`);
  return lines;
}
