import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { artifactResult, compileArtifact, phasesOf, parseYamlDocument, type ArtifactResult, type Phase } from '@canopy/core/artifacts';
import { buildJobTree, type Manifest } from '@canopy/core/protocol';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { isTerminal, type Announce, type JobObserver } from '@canopy/core/runtime';
import { startClientPeer, peersFrom } from './commands/clientPeer.js';
import { submitManifest } from './commands/job.js';
import { fetchFinalModel, finalModelProviders } from './commands/localSummary.js';

// Submit, status and result of artifacts, over the same submission, announcement and blob
// paths as jobs: what `canopy artifact` and the workbench (workbench.ts) both call.

/** Where a cluster is reached and who signs. */
export interface ClusterOptions {
  /** Multiaddrs of the root host (submit) or any node (status, result); default: CANOPY_PEER. */
  readonly peer?: readonly string[];
  /** The submitter identity's directory (default ~/.canopy/submitter). */
  readonly keyDir?: string;
  /** Accept many connections per second from 127.0.0.1 (local clusters). */
  readonly loopbackCluster?: boolean;
  readonly signal?: AbortSignal;
}

/** Where an artifact stands, as its root host announces it. */
export interface ArtifactStatus {
  readonly rootId: string;
  readonly name: string;
  readonly state: 'setup' | 'running' | 'finished' | 'failed';
  /** The root round in progress (or the last one, once finished). */
  readonly round: number;
  readonly totalRounds: number;
  /** The steps the current round works on (those of its phase). */
  readonly steps: readonly { index: number; kind: string; name?: string }[];
  readonly stopReason: string | null;
  /** Whether the result may be downloaded (the artifact allows it and the root host serves it). */
  readonly downloadable: boolean;
}

const DEFAULT_KEY_DIR = join(homedir(), '.canopy', 'submitter');

/** Reads, validates and compiles an Artifact file. Throws ManifestError naming the field. */
export async function loadArtifactFile(file: string): Promise<Manifest> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CanopyError(ErrorCode.BadInput, `cannot read ${file}: ${err.code ?? err.message}`);
  });
  return compileArtifact(parseYamlDocument(text, file), file);
}

/** Signs and submits an artifact (a document as parsed from YAML, or a file path) to its root host; `peer` is the address it went to. */
export async function submitArtifact(artifact: unknown, opts: ClusterOptions = {}): Promise<{ rootId: string; name: string; submitter: string; resubmitted: boolean; peer: string; warnings: readonly string[] }> {
  const manifest = typeof artifact === 'string' ? await loadArtifactFile(artifact) : compileArtifact(artifact, 'artifact');
  const r = await submitManifest(manifest, typeof artifact === 'string' ? artifact : 'artifact', { peer: [...peersFrom(opts.peer)], keyDir: opts.keyDir ?? DEFAULT_KEY_DIR, loopbackCluster: opts.loopbackCluster ?? false });
  return { rootId: r.rootId, name: r.name, submitter: r.submitter, resubmitted: r.resubmitted, peer: r.peer, warnings: r.warnings };
}

/** An artifact's status from its root host's announcement. */
export async function artifactStatus(query: string, opts: ClusterOptions & { waitSeconds?: number } = {}): Promise<ArtifactStatus> {
  return withAnnouncement(query, opts, ({ announce, opened }) => statusOf(announce, opened.tree.manifest));
}

/** Polls until the artifact finished (or failed); `onStatus` sees each new round and state. */
export async function waitForArtifact(query: string, opts: ClusterOptions & { pollMs?: number; onStatus?: (s: ArtifactStatus) => void } = {}): Promise<ArtifactStatus> {
  const peer = await startClientPeer(peersFrom(opts.peer), { loopbackCluster: opts.loopbackCluster ?? false });
  try {
    let last = '';
    for (;;) {
      const { announce, opened } = await peer.observer.find(query, opts.signal ? { signal: opts.signal } : {});
      const s = statusOf(announce, opened.tree.manifest);
      if (`${s.state}:${s.round}` !== last) opts.onStatus?.(s);
      last = `${s.state}:${s.round}`;
      if (s.state === 'finished' || s.state === 'failed') return s;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      opts.signal?.throwIfAborted();
    }
  } finally {
    await peer.stop();
  }
}

/**
 * Downloads a finished artifact's result from its root host (or the root's workers), if the
 * artifact allows it and the root host serves results (`canopy node --serve-results`).
 */
export async function fetchArtifactResult(query: string, opts: ClusterOptions & { waitSeconds?: number } = {}): Promise<ArtifactResult & { rootId: string }> {
  const peer = await startClientPeer(peersFrom(opts.peer), { loopbackCluster: opts.loopbackCluster ?? false });
  try {
    // A peer that has just joined may be offered an announcement from before the finish;
    // wait a moment for the finished one before saying the artifact is still running.
    const { announce, from, opened } = await peer.observer.find(query, { signal: opts.signal ?? AbortSignal.timeout((opts.waitSeconds ?? 30) * 1000), want: isTerminal }).catch(() => {
      throw new CanopyError(ErrorCode.Network, `no announcement of artifact ${query} reached this peer; check the name and that its root host is running`);
    });
    const manifest = opened.tree.manifest;
    if (!manifest.artifact) throw new CanopyError(ErrorCode.BadInput, `${query} is a training job, not an artifact; download its model with canopy job model`);
    if (isTerminal(announce) && !announce.final) throw new CanopyError(ErrorCode.BadInput, `artifact ${query} ended without a result: ${announce.stopReason}`);
    if (announce.processStage !== 3 || !announce.final) throw new CanopyError(ErrorCode.BadInput, `artifact ${query} has not finished yet (round ${announce.round} of ${manifest.stop.rounds}); check it with canopy artifact status`);
    if (!announce.downloadable) {
      throw new CanopyError(
        ErrorCode.BadInput,
        manifest.allowModelDownload
          ? `artifact ${query}: its root host does not serve results (start it with --serve-results to allow downloads)`
          : `artifact ${query} does not allow its result to be downloaded (allowResultDownload is false)`,
      );
    }
    const final = announce.final;
    if (!(await fetchFinalModel(() => peer.blobs.fetch(final, [from, ...finalModelProviders(opened)], { maxBytes: 2 * 2 ** 30 })))) {
      throw new CanopyError(ErrorCode.Network, 'neither the root host nor its workers delivered the result intact');
    }
    return { ...artifactResult(manifest, await peer.blobs.store.get(final.hash)), rootId: announce.rootId };
  } finally {
    await peer.stop();
  }
}

async function withAnnouncement<T>(query: string, opts: ClusterOptions & { waitSeconds?: number }, use: (found: Awaited<ReturnType<JobObserver['find']>>) => T): Promise<T> {
  const peer = await startClientPeer(peersFrom(opts.peer), { loopbackCluster: opts.loopbackCluster ?? false });
  try {
    const found = await peer.observer.find(query, { signal: opts.signal ?? AbortSignal.timeout((opts.waitSeconds ?? 30) * 1000) }).catch(() => {
      throw new CanopyError(ErrorCode.Network, `no announcement of artifact ${query} reached this peer; check the name and that its root host is running`);
    });
    return use(found);
  } finally {
    await peer.stop();
  }
}

/** The status an announcement implies: the current round's phase comes from the plan's round counts. */
export function statusOf(announce: Announce, manifest: Manifest): ArtifactStatus {
  const plan = manifest.artifact;
  if (!plan) throw new CanopyError(ErrorCode.BadInput, `${announce.name} is a training job, not an artifact; use canopy job status`);
  const tree = buildJobTree(manifest);
  const root = tree.jobs.get(tree.root)!;
  const perPass = root.timing.distribution === 'sequential' ? root.clients.length : 1;
  const phases = phasesOf(plan);
  let phase: Phase | undefined;
  let done = 0;
  for (const p of phases) {
    done += p.passes * perPass;
    if (announce.round <= done) {
      phase = p;
      break;
    }
  }
  const steps = !phase ? [] : phase.kind === 'train' ? [{ index: phase.stepIndex, kind: 'train', ...(phase.step.name ? { name: phase.step.name } : {}) }] : phase.queries.map((q) => ({ index: q.stepIndex, kind: q.step.kind, ...(q.step.name ? { name: q.step.name } : {}) }));
  const finished = announce.processStage === 3;
  const failed = finished && (announce.stopReason ?? '').startsWith('failed');
  return {
    rootId: announce.rootId,
    name: announce.name,
    state: failed ? 'failed' : finished ? 'finished' : announce.round === 0 ? 'setup' : 'running',
    round: announce.round,
    totalRounds: manifest.stop.rounds,
    steps,
    stopReason: announce.stopReason,
    downloadable: announce.downloadable,
  };
}
