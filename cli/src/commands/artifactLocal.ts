import { dirname, resolve } from 'node:path';
import { artifactResult, compileValidArtifact, decodeResource, describeResult, validateArtifact, type ArtifactResult } from '@canopy/core/artifacts';
import type { LocalClusterPlan } from '@canopy/core/runtime';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { createOutput } from '../output.js';
import { followJob } from './jobProgress.js';
import { evaluateFinalModel, fetchFinalModel, finalModelProviders } from './localSummary.js';
import { stopNodes } from './localProcesses.js';
import { withLocalCluster } from './localRun.js';

/** Flags of `canopy local` that an artifact run uses. */
export interface ArtifactLocalFlags {
  workDir?: string;
  keep: boolean;
  compute: 'ml' | 'synthetic';
  timeout: number;
  json: boolean;
}

/**
 * `canopy local` for an Artifact: compiles it, starts one `canopy node` process per member
 * (each site registering its CSV file from the artifact's `local.datasets` with --dataset,
 * the root host with --serve-results), submits, follows it to the end, fetches the final
 * resource from the root host and prints the result (under --json, as the last stdout line).
 */
export async function runArtifactLocal(file: string, doc: unknown, flags: ArtifactLocalFlags): Promise<ArtifactResult & { rootId: string; wallSeconds: number; downloadable?: boolean }> {
  const out = createOutput({ json: flags.json });
  const artifact = validateArtifact(doc, file);
  const manifest = compileValidArtifact(artifact, file);
  const baseDir = dirname(resolve(file));
  const datasetName = manifest.artifact!.data.kind === 'named' ? manifest.artifact!.data.name : undefined;
  const argsOf = (name: string, plan: LocalClusterPlan) => {
    const csv = artifact.local?.datasets[name];
    return [
      '--approve-datasets',
      '--compute',
      flags.compute,
      ...(datasetName && csv ? ['--dataset', `${datasetName}=${resolve(baseDir, csv)}`] : []),
      ...(name === plan.root.name ? ['--serve-results'] : []),
    ];
  };
  return withLocalCluster(manifest, flags, { tempPrefix: 'canopy-artifact-', argsOf, say: (t) => out.say(`${t.replace(/^submitted /, 'submitted artifact ')}`) }, async ({ plan, procs, submitted, peer, found, signal, submitAt }) => {
    const followed = await followJob(peer.observer, found.opened, out, { signal });
    const wallSeconds = Math.round((Date.now() - submitAt) / 100) / 10;
    const final = followed.root.payload.global;
    if (!final) throw new CanopyError(ErrorCode.Network, `artifact ${submitted.rootId} ended without a resource: ${followed.root.payload.stopReason ?? 'no reason given'}`);
    // The same rule as `canopy artifact result`: the root host serves (--serve-results), so the artifact decides.
    if (!plan.manifest.allowModelDownload) {
      await stopNodes(procs);
      const line = { artifact: manifest.name, rootId: submitted.rootId, stopReason: followed.root.payload.stopReason, rounds: followed.root.round, wallSeconds, downloadable: false };
      out.say(`artifact ${manifest.name} finished (${followed.root.payload.stopReason ?? ''}); its result stays on the root host: allowResultDownload is false`);
      out.record(line);
      return { ...line, complete: false, steps: [], absent: [], weightsBytes: 0 };
    }
    if (!(await fetchFinalModel(() => peer.blobs.fetch(final, finalModelProviders(found.opened), { maxBytes: 2 * 2 ** 30 })))) {
      throw new CanopyError(ErrorCode.Network, 'could not fetch the final resource from the root host or its workers');
    }
    const bytes = await peer.blobs.store.get(final.hash);
    const result = artifactResult(plan.manifest, bytes);
    // A train step leaves its model in the resource: evaluate it on the whole test split.
    const weights = decodeResource(bytes).weights;
    const evaluation = result.weightsBytes > 0 && manifest.artifact!.data.kind === 'source' ? await evaluateFinalModel(plan.manifest, weights) : null;
    const rootHost = procs.find((p) => p.plan.name === plan.root.name);
    const roundAccuracy = evaluation ? (rootHost?.rounds ?? []).filter((r) => r.job === manifest.name).map((r) => Number(r.accuracy)) : undefined;
    await stopNodes(procs);
    const line = { ...result, rootId: submitted.rootId, stopReason: followed.root.payload.stopReason, rounds: followed.root.round, wallSeconds, ...(evaluation ? { evaluation, roundAccuracy } : {}) };
    const text = [...describeResult(result), ...(evaluation ? [`final model on the whole test split: accuracy ${(evaluation.accuracy * 100).toFixed(2)}%, loss ${evaluation.loss.toFixed(4)}; per-round accuracy of the incoming model: ${roundAccuracy!.map((a) => `${(a * 100).toFixed(1)}%`).join(' ')}`] : []), `${followed.root.round} rounds in ${wallSeconds} s`].join('\n');
    out.say(text);
    if (flags.json) process.stderr.write(`${text}\n`);
    out.record(line);
    return line;
  });
}
