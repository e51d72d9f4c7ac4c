import { Command, Option } from 'commander';
import { parseManifest, reachedStopCondition } from '@canopy/core/protocol';
import { isArtifactDocument, parseYamlDocument } from '@canopy/core/artifacts';
import { runArtifactLocal } from './artifactLocal.js';
import { JobFailedError } from '@canopy/core/util';
import { intArg } from '../args.js';
import { collectOverride, readDocumentText, type Override } from '../overrides.js';
import { createOutput } from '../output.js';
import { followJob } from './jobProgress.js';
import { evaluateFinalModel, fetchFinalModel, finalModelProviders, summarizeRun } from './localSummary.js';
import { stopNodes } from './localProcesses.js';
import { withLocalCluster } from './localRun.js';

interface LocalFlags {
  workDir?: string;
  keep: boolean;
  compute: 'ml' | 'synthetic';
  timeout: number;
  json: boolean;
  set?: Override[];
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
    .option('--set <path=value>', 'override a field of the file before it is validated, e.g. --set stop.rounds=20 (repeatable; the value is YAML)', collectOverride)
    .addHelpText('after', '\nExamples:\n  canopy local examples/jobs/mnist-2level.yaml\n  canopy local examples/jobs/single-cluster.yaml --set stop.rounds=10 --set train.epochs=2 --keep\n  canopy local examples/artifacts/csv-stats.yaml --json')
    .action(async (file: string, flags: LocalFlags) => {
      await runLocal(file, flags);
    });
}

async function runLocal(file: string, flags: LocalFlags): Promise<void> {
  const out = createOutput({ json: flags.json });
  const text = await readDocumentText(file, flags.set, 'manifest');
  // An Artifact runs the same way; its result is what it prints (artifactLocal.ts).
  const doc = parseYamlDocument(text, file);
  if (isArtifactDocument(doc)) {
    await runArtifactLocal(file, doc, flags);
    return;
  }
  const manifest = parseManifest(text, file);
  const extraArgs = ['--approve-datasets', '--compute', flags.compute];
  await withLocalCluster(manifest, flags, { tempPrefix: 'canopy-local-', argsOf: () => extraArgs, say: (t) => out.say(t) }, async ({ plan, procs, submitted, peer, found, signal, submitAt }) => {
    const result = await followJob(peer.observer, found.opened, out, { signal });
    const wallSeconds = (Date.now() - submitAt) / 1000;
    const final = result.root.payload.global;
    const reached = reachedStopCondition(result.root.payload.stopReason);
    // A failed job's `global` is the model it failed from, not a result: nothing to evaluate.
    const fetched = reached && flags.compute === 'ml' && final !== null && final !== undefined && (await fetchFinalModel(() => peer.blobs.fetch(final, finalModelProviders(found.opened), { maxBytes: 2 * 2 ** 30 })));
    // Without the final model, the last round's metrics are all there is, and they lag one round: say so.
    if (reached && flags.compute === 'ml' && !fetched) process.stderr.write("canopy local: could not fetch the final model from the root host (does the manifest set allowModelDownload?); reporting the last round's evaluation, which is of the model before the last aggregation\n");
    const evaluation = fetched && final ? await evaluateFinalModel(plan.manifest, await peer.blobs.store.get(final.hash)) : null;
    await stopNodes(procs);
    const summary = summarizeRun({ rootId: submitted.rootId, result, evaluation, procs, wallSeconds });
    for (const p of procs) out.record({ node: p.plan.name, ...(p.stats ?? { stats: 'missing' }) });
    out.record({ controlPlaneOverheadSecondsPerRound: summary.overhead?.meanSeconds ?? null, meanRoundSeconds: summary.overhead?.meanRoundSeconds ?? null, maxRssMiBPerProcess: summary.rss.map((x) => Math.round(x / 2 ** 20)) });
    out.say(summary.text);
    // Under --json stdout is for machines; the human summary still goes to the terminal.
    if (flags.json) process.stderr.write(`${summary.text}\n`);
    out.record(summary.line);
    if (!reached) throw new JobFailedError(submitted.rootId, result.root.payload.stopReason ?? 'ended without a reason');
  });
}
