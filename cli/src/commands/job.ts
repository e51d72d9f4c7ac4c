import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildJobTree, parseManifest, timingWarnings, type Manifest } from '@canopy/core/protocol';
import { loadOrCreateIdentity } from '@canopy/core/net';
import { PeerMap, isTerminal, signSubmission, submitJob, multiaddr } from '@canopy/core/runtime';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { intArg } from '../args.js';
import { collectOverride, readDocumentText, type Override } from '../overrides.js';
import { fetchFinalModel, finalModelProviders } from './localSummary.js';
import { createOutput, warn } from '../output.js';
import { startClientPeer, peersFrom } from './clientPeer.js';
import { jobStatus, jobWatch, type StatusFlags, type WatchFlags } from './jobObserve.js';

const DEFAULT_KEY_DIR = join(homedir(), '.canopy', 'submitter');

/** `canopy job`: submit jobs and follow them. */
export function jobCommand(): Command {
  const job = new Command('job').summary('submit a job, follow it, download its model').description('Talks to a running cluster through any of its nodes (--peer, or CANOPY_PEER).');

  job
    .command('submit')
    .summary('sign a job manifest and submit it to its root host')
    .argument('<manifest>', 'job manifest (YAML)')
    .option('--peer <multiaddr...>', 'the root host (default: its peers: entry in the manifest)')
    .option('--key-dir <dir>', 'where the submitter identity is kept', DEFAULT_KEY_DIR)
    .option('--set <path=value>', 'override a field of the file before it is validated, e.g. --set stop.rounds=20 (repeatable; the value is YAML)', collectOverride)
    .option('--json', 'print {rootId, name, submitter}', false)
    .addHelpText('after', '\nExamples:\n  canopy job submit examples/jobs/mnist-2level.yaml --peer /ip4/203.0.113.7/tcp/4001/p2p/12D3Koo…\n  canopy job submit job.yaml --set stop.rounds=50 --json')
    .action(async (file: string, flags: { peer?: string[]; keyDir: string; set?: Override[]; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await submitManifestFile(file, flags);
      r.warnings.forEach(warn);
      out.say(`submitted ${r.name} as ${r.rootId}${r.resubmitted ? ' (it was already running)' : ''}; follow it with: canopy job watch ${r.rootId} --peer ${r.peer}`);
      out.record({ rootId: r.rootId, name: r.name, submitter: r.submitter });
    });

  job
    .command('status')
    .summary("show the job tree's stages, rounds and accuracy")
    .argument('<job>', 'root id (name-hash) or job name')
    .option('--peer <multiaddr...>', 'any node of the cluster')
    .option('--wait <s>', 'seconds to gather host snapshots', intArg(1, 600), 8)
    .option('--json', 'print the announcement, the root host\'s silence and every job\'s last snapshot', false)
    .action(async (query: string, flags: StatusFlags) => jobStatus(query, flags, createOutput({ json: flags.json })));

  job
    .command('watch')
    .summary('follow a job to its end with a progress bar per round')
    .argument('<job>', 'root id (name-hash) or job name')
    .option('--peer <multiaddr...>', 'any node of the cluster')
    .option('--timeout <s>', 'give up after this many seconds (exit status 124)', intArg(1, 365 * 86_400))
    .option('--json', 'print a final {rootId, rounds, accuracy, loss, stopReason}', false)
    .action(async (query: string, flags: WatchFlags) => jobWatch(query, flags, createOutput({ json: flags.json })));

  job
    .command('model')
    .summary("download a finished job's final model from its root host")
    .argument('<job>', 'root id (name-hash) or job name')
    .requiredOption('-o, --output <file>', 'where to write the parameters (Canopy params blob)')
    .option('--peer <multiaddr...>', 'any node of the cluster')
    .option('--json', 'print {rootId, hash, size, output}', false)
    .action(async (query: string, flags: { peer?: string[]; output: string; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const peer = await startClientPeer(peersFrom(flags.peer));
      try {
        const { announce, from, opened } = await peer.observer.find(query, { signal: AbortSignal.timeout(30_000), want: isTerminal }).catch(() => {
          throw new CanopyError(ErrorCode.Network, `no announcement of job ${query} reached this peer within 30 s`);
        });
        if (isTerminal(announce) && !announce.final) throw new CanopyError(ErrorCode.BadInput, `job ${query} ended without a model: ${announce.stopReason}`);
        if (announce.processStage !== 3 || !announce.final) throw new CanopyError(ErrorCode.BadInput, `job ${query} has not finished yet (round ${announce.round}); wait for it with canopy job watch`);
        if (!announce.downloadable) throw new CanopyError(ErrorCode.BadInput, `job ${query} does not allow model downloads (allowModelDownload is false in its manifest)`);
        if (!(await fetchFinalModel(() => peer.blobs.fetch(announce.final!, [from, ...finalModelProviders(opened)], { maxBytes: 2 * 2 ** 30 })))) throw new CanopyError(ErrorCode.Network, 'neither the root host nor its workers delivered the final model intact');
        await writeFile(flags.output, await peer.blobs.store.get(announce.final.hash));
        out.say(`wrote ${flags.output} (${announce.final.size} bytes, sha256 ${announce.final.hash})`);
        out.record({ rootId: announce.rootId, hash: announce.final.hash, size: announce.final.size, output: flags.output });
      } finally {
        await peer.stop();
      }
    });

  return job;
}

/** Signs and submits a manifest file; the root host comes from --peer or the manifest's peers entry. */
export async function submitManifestFile(file: string, flags: { peer?: string[]; keyDir: string; loopbackCluster?: boolean; set?: readonly Override[] }): Promise<Submitted> {
  const text = await readDocumentText(file, flags.set, 'manifest');
  return submitManifest(parseManifest(text, file), file, flags);
}

/** What a submission came to; `warnings` are lines about the manifest's timing (core's timingWarnings), for the caller to show. */
export interface Submitted {
  readonly rootId: string;
  readonly name: string;
  readonly submitter: string;
  readonly resubmitted: boolean;
  readonly peer: string;
  readonly warnings: readonly string[];
}

/** Attempts at a submission, and the pause before the second (doubling after). */
const SUBMIT_ATTEMPTS = 3;
const SUBMIT_RETRY_MS = 2000;

/**
 * Submits, and submits again when the way to the root host failed (a dial or handshake that
 * timed out, a stream cut): over a relay from behind a NAT the first connection's handshake
 * can run past libp2p's timeout. Resubmitting is safe: a host that already runs the job
 * answers `resubmitted`. A refusal or a malformed answer is not retried.
 */
export async function submitWithRetries<T>(attempt: () => Promise<T>, target: string, attempts = SUBMIT_ATTEMPTS, pauseMs = SUBMIT_RETRY_MS): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= attempts || (err instanceof CanopyError && err.code === ErrorCode.BadInput)) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      warn(`submitting to ${target} failed (${e.name === 'Error' ? '' : `${e.name}: `}${e.message.split('\n')[0]}); trying again in ${(pauseMs * 2 ** (n - 1)) / 1000} s (attempt ${n + 1} of ${attempts})`);
      await new Promise((r) => setTimeout(r, pauseMs * 2 ** (n - 1)));
    }
  }
}

/** Signs and submits a validated manifest (a Job, or an Artifact compiled to one); `source` names it in errors. */
export async function submitManifest(manifest: Manifest, file: string, flags: { peer?: string[]; keyDir: string; loopbackCluster?: boolean }): Promise<Submitted> {
  const peers = new PeerMap(manifest, file);
  const host = manifest.cluster.host;
  const target = peersFrom(flags.peer)[0] ?? peers.addresses(host).map((a) => `${a}/p2p/${peers.peerOf(host)}`)[0];
  if (!target) throw new CanopyError(ErrorCode.BadInput, `${file}: no address for the root host ${host}; add peers.${host}.addresses to the manifest or pass --peer`);
  const { privateKey, peerId } = await loadOrCreateIdentity(flags.keyDir);
  const submission = await signSubmission(manifest, privateKey, peerId);
  const peer = await startClientPeer([target], { keyDir: flags.keyDir, loopbackCluster: flags.loopbackCluster ?? false, connectTimeoutMs: 60_000 });
  try {
    const reply = await submitWithRetries(() => submitJob(peer.libp2p, multiaddr(target), submission), target);
    return { rootId: reply.rootId, name: reply.name, submitter: peerId, resubmitted: reply.resubmitted, peer: target, warnings: timingWarnings(buildJobTree(manifest)) };
  } finally {
    await peer.stop();
  }
}
