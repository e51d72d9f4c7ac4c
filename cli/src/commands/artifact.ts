import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { describeResult } from '@canopy/core/artifacts';
import { intArg } from '../args.js';
import { createOutput, warn } from '../output.js';
import { artifactStatus, fetchArtifactResult, submitArtifact, waitForArtifact, type ArtifactStatus } from '../artifactClient.js';

/** `canopy artifact`: submit artifacts (docs/ARTIFACTS.md), follow them, fetch their results. */
export function artifactCommand(): Command {
  const cmd = new Command('artifact')
    .summary('submit an artifact (steps of federated analytics and training), check it, fetch its result')
    .description('Artifacts run over the same hierarchy as jobs (docs/ARTIFACTS.md). Talks to a cluster through any of its nodes (--peer, or CANOPY_PEER).');

  cmd
    .command('submit')
    .summary('validate, compile, sign and submit an Artifact manifest to its root host')
    .argument('<artifact>', 'Artifact manifest (YAML)')
    .option('--peer <multiaddr...>', 'the root host (default: its peers: entry in the artifact)')
    .option('--key-dir <dir>', 'where the submitter identity is kept')
    .option('--wait', 'follow it to the end and print the result (if downloadable)', false)
    .option('--json', 'print {rootId, name, submitter} (and the result with --wait)', false)
    .action(async (file: string, flags: { peer?: string[]; keyDir?: string; wait: boolean; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await submitArtifact(file, { ...(flags.peer ? { peer: flags.peer } : {}), ...(flags.keyDir ? { keyDir: flags.keyDir } : {}) });
      r.warnings.forEach(warn);
      out.say(`submitted artifact ${r.name} as ${r.rootId}${r.resubmitted ? ' (it was already running)' : ''}; check it with: canopy artifact status ${r.rootId}`);
      out.record({ rootId: r.rootId, name: r.name, submitter: r.submitter });
      if (!flags.wait) return;
      const s = await waitForArtifact(r.rootId, { peer: [r.peer], onStatus: (x) => process.stderr.write(`${describeStatus(x)}\n`) });
      if (!s.downloadable) {
        out.say(`artifact ${r.rootId} ${s.state}; its result is not downloadable here (${s.stopReason ?? ''})`);
        return;
      }
      const result = await fetchArtifactResult(r.rootId, { peer: [r.peer] });
      for (const line of describeResult(result)) out.say(line);
      out.record(result);
    });

  cmd
    .command('status')
    .summary('show where an artifact stands: state, round, the steps being computed')
    .argument('<artifact>', 'root id (name-hash) or artifact name')
    .option('--peer <multiaddr...>', 'any node of the cluster')
    .option('--wait <s>', 'seconds to wait for the root host\'s announcement', intArg(1, 600), 30)
    .option('--json', 'print the status as JSON', false)
    .action(async (query: string, flags: { peer?: string[]; wait: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const s = await artifactStatus(query, { ...(flags.peer ? { peer: flags.peer } : {}), waitSeconds: flags.wait });
      out.say(describeStatus(s));
      out.record(s);
    });

  cmd
    .command('result')
    .summary("download a finished artifact's result from its root host (where allowed)")
    .argument('<artifact>', 'root id (name-hash) or artifact name')
    .option('--peer <multiaddr...>', 'any node of the cluster')
    .option('-o, --output <file>', 'also write the result as JSON to this file')
    .option('--json', 'print the result as one JSON line', false)
    .action(async (query: string, flags: { peer?: string[]; output?: string; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const result = await fetchArtifactResult(query, flags.peer ? { peer: flags.peer } : {});
      if (flags.output) await writeFile(flags.output, `${JSON.stringify(result, null, 2)}\n`);
      for (const line of describeResult(result)) out.say(line);
      out.record(result);
    });

  return cmd;
}

/** One line for people. */
export function describeStatus(s: ArtifactStatus): string {
  const steps = s.steps.map((x) => `${x.index} ${x.kind}${x.name ? ` "${x.name}"` : ''}`).join(', ');
  return `artifact ${s.name} (${s.rootId}): ${s.state}, round ${s.round} of ${s.totalRounds}${steps ? `, steps ${steps}` : ''}${s.stopReason ? ` (${s.stopReason})` : ''}${s.state === 'finished' ? (s.downloadable ? '; result downloadable' : '; result not downloadable') : ''}`;
}
