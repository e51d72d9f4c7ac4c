import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Manifest } from '@canopy/core/protocol';
import { planLocalCluster, type Announce, type LocalClusterPlan, type OpenedSubmission } from '@canopy/core/runtime';
import { CanopyError, ErrorCode, JobFailedError } from '@canopy/core/util';
import { startClientPeer, type ClientPeer } from './clientPeer.js';
import { submitManifestFile } from './job.js';
import { warn } from '../output.js';
import { killNodesNow, spawnNode, stopNodes, type NodeProcess } from './localProcesses.js';

/** The flags of `canopy local` that shape a run's lifecycle. */
export interface LocalRunFlags {
  workDir?: string;
  keep: boolean;
  timeout: number;
}

/** A cluster of node processes with its job submitted and found by an observing peer. */
export interface LocalRun {
  readonly plan: LocalClusterPlan;
  readonly procs: readonly NodeProcess[];
  readonly submitted: { rootId: string; name: string };
  readonly peer: ClientPeer;
  readonly found: { announce: Announce; from: string; opened: OpenedSubmission };
  /** Aborted on Ctrl-C, SIGTERM or the timeout. */
  readonly signal: AbortSignal;
  /** `Date.now()` when the job was submitted. */
  readonly submitAt: number;
}

/**
 * What `canopy local` does around any manifest: plans identities and ports, starts one
 * `canopy node` process per node (the root host first: everyone bootstraps from it), submits,
 * finds the job from a client peer, runs `body`, and always stops every process it started
 * (also on Ctrl-C, SIGTERM, the timeout or an error) and removes its temp work dir.
 */
export async function withLocalCluster<T>(
  manifest: Manifest,
  flags: LocalRunFlags,
  opts: { tempPrefix: string; argsOf: (node: string, plan: LocalClusterPlan) => string[]; say: (text: string) => void },
  body: (run: LocalRun) => Promise<T>,
): Promise<T> {
  const tempDir = flags.workDir === undefined;
  const workDir = flags.workDir ? resolve(flags.workDir) : await mkdtemp(join(tmpdir(), opts.tempPrefix));
  const procs: NodeProcess[] = [];
  const killAll = () => killNodesNow(procs);
  process.on('exit', killAll);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timeout = setTimeout(() => abort.abort(), flags.timeout * 1000);
  let failed = false;
  let stopping = false;
  try {
    const plan = await planLocalCluster(manifest, workDir);
    const manifestPath = join(workDir, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify(plan.manifest, null, 2));
    const logDir = join(workDir, 'logs');
    const startedAt = Date.now();
    procs.push(await spawnNode(plan.root, [], { logDir, extraArgs: opts.argsOf(plan.root.name, plan) }));
    await Promise.race([procs[0]!.started, aborted(abort.signal)]);
    for (const n of plan.nodes) if (n !== plan.root) procs.push(await spawnNode(n, [plan.root.addr], { logDir, extraArgs: opts.argsOf(n.name, plan) }));
    await Promise.race([Promise.all(procs.map((p) => p.started)), aborted(abort.signal)]);
    const exits = procs.map((p, i) => watchExits(p, i === 0));
    const rootDied = exits[0]!;
    exits.forEach((e) => e.catch(() => undefined));
    process.stderr.write(`canopy local: ${procs.length} node processes up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (logs in ${logDir})\n`);

    const submitAt = Date.now();
    const submitted = await submitManifestFile(manifestPath, { peer: [plan.root.addr], keyDir: join(workDir, 'submitter'), loopbackCluster: true });
    submitted.warnings.forEach(warn);
    opts.say(`submitted ${submitted.name} as ${submitted.rootId}`);
    const peer = await startClientPeer([plan.root.addr], { loopbackCluster: true, connectTimeoutMs: 60_000 });
    try {
      const found = await Promise.race([peer.observer.find(submitted.rootId, { signal: abort.signal }), rootDied]);
      return await Promise.race([body({ plan, procs, submitted, peer, found, signal: abort.signal, submitAt }), rootDied]);
    } finally {
      stopping = true;
      await peer.stop();
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    stopping = true;
    clearTimeout(timeout);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopNodes(procs, 5000);
    process.off('exit', killAll);
    // The logs of a failed run are what explains it: they stay, and the last line says where.
    if (failed) process.stderr.write(`canopy local: the run failed; node logs kept in ${join(workDir, 'logs')}\n`);
    else if (tempDir && !flags.keep) await rm(workDir, { recursive: true, force: true });
  }

  // A node process that exits while the job runs is reported at once; without the root host
  // the job cannot end, so its exit ends the run with the reason instead of waiting for the timeout.
  function watchExits(p: NodeProcess, isRoot: boolean): Promise<never> {
    return new Promise<never>((_, reject) => {
      void p.exited.then((code) => {
        // `killed`: this process sent it a signal (stopNodes), so the exit was asked for.
        if (stopping || p.child.killed) return;
        const line = `node ${p.plan.name} exited (${code}) while the job was running; its log: ${p.logFile}`;
        if (isRoot) reject(new JobFailedError(p.plan.name, `the root host's process died: ${line}`));
        else warn(line);
      });
    });
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new CanopyError(ErrorCode.Aborted, 'canopy local was interrupted or timed out; every node process was stopped'));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
}
