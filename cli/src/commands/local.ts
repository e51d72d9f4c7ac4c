import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parseManifest } from '@canopy/core/protocol';
import { isArtifactDocument, parseYamlDocument } from '@canopy/core/artifacts/index';
import { runArtifactLocal } from './artifactLocal.js';
import { planLocalCluster } from '@canopy/core/node/runtime/index';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';
import { startClientPeer } from './clientPeer.js';
import { followJob } from './jobProgress.js';
import { submitManifestFile } from './job.js';
import { evaluateFinalModel, fetchFinalModel, finalModelProviders, summarizeRun } from './localSummary.js';
import { killNodesNow, spawnNode, stopNodes, type NodeProcess } from './localProcesses.js';

interface LocalFlags {
  workDir?: string;
  keep: boolean;
  compute: 'ml' | 'synthetic';
  timeout: number;
  json: boolean;
}

/** `canopy local`: a whole cluster on this machine, one OS process per node. */
export function localCommand(): Command {
  return new Command('local')
    .summary('run a job on this machine, one canopy node process per node the manifest names')
    .description(
      'Gives every node the manifest names an identity and a 127.0.0.1 port, rewrites the manifest\'s\n' +
        'peers: to match, starts one `canopy node` process per node, submits the job, follows it to\n' +
        'the end (progress on stderr), evaluates the final model on the whole test split, prints a\n' +
        'summary, and stops every process it started (also on Ctrl-C or error). Node logs are kept in\n' +
        '<work-dir>/logs. Under --json the last stdout line is\n' +
        '{job, rounds, accuracy, loss, wallSeconds, bytesSent, messages}.',
    )
    .argument('<manifest>', 'job or artifact manifest (YAML); for an Artifact (docs/ARTIFACTS.md) the result is printed instead')
    .option('--work-dir <dir>', 'node data dirs, logs and the rewritten manifest (default: a new temp dir, removed afterwards)')
    .option('--keep', 'keep the temp work dir', false)
    .addOption(new Option('--compute <kind>', 'ml: real training; synthetic: stand-in arithmetic').choices(['ml', 'synthetic'] as const).default('ml'))
    .option('--timeout <s>', 'give up after this many seconds', intArg(10, 7 * 86_400), 1800)
    .option('--json', 'print per-node stats lines and a final summary line as JSON', false)
    .action(async (file: string, flags: LocalFlags) => {
      await runLocal(file, flags);
    });
}

async function runLocal(file: string, flags: LocalFlags): Promise<void> {
  const out = createOutput({ json: flags.json });
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CanopyError(ErrorCode.BadInput, `cannot read ${file}: ${err.code ?? err.message}`);
  });
  // An Artifact runs the same way; its result is what it prints (artifactLocal.ts).
  const doc = parseYamlDocument(text, file);
  if (isArtifactDocument(doc)) {
    await runArtifactLocal(file, doc, flags);
    return;
  }
  const manifest = parseManifest(text, file);
  const tempDir = flags.workDir === undefined;
  const workDir = flags.workDir ? resolve(flags.workDir) : await mkdtemp(join(tmpdir(), 'canopy-local-'));
  const procs: NodeProcess[] = [];
  const killAll = () => killNodesNow(procs);
  process.on('exit', killAll);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timeout = setTimeout(() => abort.abort(), flags.timeout * 1000);
  try {
    const plan = await planLocalCluster(manifest, workDir);
    const manifestPath = join(workDir, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify(plan.manifest, null, 2));
    const logDir = join(workDir, 'logs');
    const extraArgs = ['--approve-datasets', '--compute', flags.compute];
    const startedAt = Date.now();
    // The root host first: every other node bootstraps from it.
    procs.push(await spawnNode(plan.root, [], { logDir, extraArgs }));
    await Promise.race([procs[0]!.started, aborted(abort.signal)]);
    for (const n of plan.nodes) if (n !== plan.root) procs.push(await spawnNode(n, [plan.root.addr], { logDir, extraArgs }));
    await Promise.race([Promise.all(procs.map((p) => p.started)), aborted(abort.signal)]);
    process.stderr.write(`canopy local: ${procs.length} node processes up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (logs in ${logDir})\n`);

    const submitAt = Date.now();
    const submitted = await submitManifestFile(manifestPath, { peer: [plan.root.addr], keyDir: join(workDir, 'submitter'), loopbackCluster: true });
    out.say(`submitted ${submitted.name} as ${submitted.rootId}`);
    const peer = await startClientPeer([plan.root.addr], { loopbackCluster: true, connectTimeoutMs: 60_000 });
    let result;
    try {
      const found = await peer.observer.find(submitted.rootId, { signal: abort.signal });
      result = await followJob(peer.observer, found.opened, out, { signal: abort.signal });
      const wallSeconds = (Date.now() - submitAt) / 1000;
      const final = result.root.payload.global;
      const fetched = flags.compute === 'ml' && final !== null && final !== undefined && (await fetchFinalModel(() => peer.blobs.fetch(final, finalModelProviders(found.opened), { maxBytes: 2 * 2 ** 30 })));
      // Without the final model, the last round's metrics are all there is, and they lag one round: say so.
      if (flags.compute === 'ml' && !fetched) process.stderr.write('canopy local: could not fetch the final model from the root host; reporting the last round\'s evaluation, which is of the model before the last aggregation\n');
      const evaluation = fetched && final ? await evaluateFinalModel(plan.manifest, await peer.blobs.store.get(final.hash)) : null;
      await stopNodes(procs);
      const summary = summarizeRun({ rootId: submitted.rootId, result, evaluation, procs, wallSeconds });
      for (const p of procs) out.record({ node: p.plan.name, ...(p.stats ?? { stats: 'missing' }) });
      out.record({ controlPlaneOverheadSecondsPerRound: summary.overhead?.meanSeconds ?? null, meanRoundSeconds: summary.overhead?.meanRoundSeconds ?? null, maxRssMiBPerProcess: summary.rss.map((x) => Math.round(x / 2 ** 20)) });
      out.say(summary.text);
      // Under --json stdout is for machines; the human summary still goes to the terminal.
      if (flags.json) process.stderr.write(`${summary.text}\n`);
      out.record(summary.line);
    } finally {
      await peer.stop();
    }
  } finally {
    clearTimeout(timeout);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopNodes(procs, 5000);
    process.off('exit', killAll);
    if (tempDir && !flags.keep) await rm(workDir, { recursive: true, force: true });
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new CanopyError(ErrorCode.Aborted, 'canopy local was interrupted or timed out; every node process was stopped'));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
}
