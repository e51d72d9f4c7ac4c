import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseQueueUrl, parseScenario, simulate, type QueueStatus, type RoundRecord, type SimulationResult, type Transport } from '@canopy/simulator';
import { BadInputError, JobFailedError } from '@canopy/core/util';
import { describeResult } from '@canopy/core/artifacts';
import { intArg } from '../args.js';
import { collectOverride, readDocumentText, type Override } from '../overrides.js';
import { createOutput, warn, type Progress } from '../output.js';

interface SimulateFlags {
  out?: string;
  repetitions?: number;
  seed?: number;
  threads?: number;
  queue?: string;
  transport?: Transport;
  overwrite: boolean;
  json: boolean;
  set?: Override[];
}

/** `canopy simulate`: runs a scenario's job in virtual time, many virtual nodes in one process. */
export function simulateCommand(): Command {
  return new Command('simulate')
    .summary('run a scenario: many virtual nodes of the real protocol, in virtual time')
    .description(
      'Runs the job of a scenario file (see examples/scenarios and docs/SIMULATOR.md) with every\n' +
        'node in this process, driving the same protocol state machines real nodes run, over a\n' +
        'modelled network in virtual time. Writes a run folder: rounds.jsonl/csv, summary.json and\n' +
        'report.html.\n\n' +
        'With --transport libp2p (fidelity mode), small scenarios run on real libp2p nodes over\n' +
        'the in-process memory transport instead: the same protocol and the same answer, in\n' +
        'wall-clock time; latency and device profiles are not modelled there.',
    )
    .argument('<scenario.yaml>', 'the scenario file')
    .option('--out <dir>', 'run folder (default: runs/<scenario>-<time>)')
    .option('--repetitions <n>', "override the scenario's repetitions", intArg(1, 1000))
    .option('--seed <s>', "override the scenario's seed", intArg(-(2 ** 31), 2 ** 31 - 1))
    .option('--threads <n>', "real training: threads in the compute pool (overrides the scenario's training.workerThreads)", intArg(1, 256))
    .option('--queue <redis-url>', 'real training: run the compute tasks on `canopy sim-worker` processes through a BullMQ queue in this Redis (redis://HOST:PORT; overrides training.queue)')
    .addOption(new Option('--transport <kind>', "override the scenario's transport: modelled (virtual time) or libp2p (real nodes in this process; fidelity mode)").choices(['modelled', 'libp2p'] as const))
    .option('--overwrite', 'replace an earlier run in --out', false)
    .option('--set <path=value>', 'override a field of the scenario before it is validated, e.g. --set training.mode=real (repeatable; the value is YAML)', collectOverride)
    .addHelpText(
      'after',
      '\nExamples:\n  canopy simulate examples/scenarios/small-synthetic.yaml\n  canopy simulate examples/scenarios/default.yaml --repetitions 3 --out runs/default\n  canopy simulate examples/scenarios/fashion-dirichlet.yaml --set job.stop.rounds=10 --threads 2 --json\n  canopy simulate examples/scenarios/small-synthetic.yaml --transport libp2p',
    )
    .option('--json', "print one JSON line per round; the last line is {rounds, accuracy, loss, virtualSeconds, wallSeconds, peakRssMb, bytesSent, messages}, plus `result` for an artifact scenario", false)
    .action(async (file: string, flags: SimulateFlags) => {
      await runSimulateCommand(file, flags);
    });
}

async function runSimulateCommand(file: string, flags: SimulateFlags): Promise<void> {
  const out = createOutput({ json: flags.json });
  const text = await readDocumentText(file, flags.set, 'scenario');
  const parsed = parseScenario(text, file);
  if (flags.threads !== undefined && parsed.training.mode !== 'real') {
    throw new BadInputError(
      `--threads: ${file} trains in mode ${parsed.training.mode}; worker threads apply to \`training: { mode: real }\` (synthetic aggregation threads are the scenario's \`training.aggregateThreads\`)`,
    );
  }
  if (flags.queue !== undefined) {
    if (parsed.training.mode !== 'real') throw new BadInputError(`--queue: ${file} trains in mode ${parsed.training.mode}; the queue runs \`training: { mode: real }\``);
    parseQueueUrl(flags.queue);
  }
  const training =
    parsed.training.mode !== 'real'
      ? parsed.training
      : { ...parsed.training, ...(flags.threads !== undefined ? { workerThreads: flags.threads } : {}), ...(flags.queue !== undefined ? { queue: flags.queue } : {}) };
  const scenario = { ...parsed, training };
  if (flags.queue !== undefined && (scenario.artifact || (flags.transport ?? scenario.transport) === 'libp2p')) {
    throw new BadInputError('--queue: only a job of the modelled transport trains on the queue; artifact scenarios and fidelity mode compute in this process');
  }
  const dir = flags.out ?? join('runs', `${scenario.name}-${stamp(new Date())}`);
  const repetitions = flags.repetitions ?? scenario.repetitions;
  const transport = flags.transport ?? scenario.transport;
  const queue = scenario.training.mode === 'real' ? scenario.training.queue : undefined;
  const where = transport === 'libp2p' ? ', real libp2p nodes (fidelity mode, wall-clock time)' : queue !== undefined ? `, compute on sim-workers through ${queue}` : '';
  const steps = scenario.artifact?.steps.length ?? 0;
  const what = scenario.artifact ? `an artifact of ${steps} step${steps === 1 ? '' : 's'}` : `${scenario.training.mode} training`;
  out.say(`simulating ${scenario.name}: ${repetitions} repetition(s), ${what}${where}, run folder ${dir}`);

  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const total = repetitions * scenario.job.stop.rounds;
  let progress: Progress | undefined;
  let result: SimulationResult;
  try {
    progress = out.progress('simulating', total);
    result = await simulate(scenario, {
      out: dir,
      overwrite: flags.overwrite,
      scenarioYaml: text,
      ...(flags.repetitions !== undefined ? { repetitions: flags.repetitions } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.transport !== undefined ? { transport: flags.transport } : {}),
      // On stderr, so --json output stays one JSON object per line.
      onWarning: warn,
      signal: abort.signal,
      onProgress: (p) => {
        const info = `rep ${p.repetition + 1}/${p.repetitions} round ${p.round} · ${Math.round(p.virtualSeconds)} ${transport === 'libp2p' ? 'wall-clock' : 'virtual'} s${p.accuracy !== null ? ` · acc ${(p.accuracy * 100).toFixed(1)}%` : ''}${p.queue ? ` · ${queueInfo(p.queue)}` : ''}`;
        progress?.update(Math.min(total, p.repetition * scenario.job.stop.rounds + p.round), info);
      },
      onRound: (r) => out.record(roundLine(r)),
      onRepetition: (r) => {
        progress?.stop();
        const acc = r.accuracy === null ? 'n/a' : `${(r.accuracy * 100).toFixed(2)}%`;
        const hash = r.finalHash === null ? '' : `, final parameters ${r.finalHash}`;
        out.say(`repetition ${r.repetition + 1}: ${r.rounds} rounds, accuracy ${acc}${hash}, ${r.stopReason} (${r.detail}), ${Math.round(r.virtualSeconds)} ${transport === 'libp2p' ? 'wall-clock' : 'virtual'} s in ${r.wallSeconds.toFixed(1)} s`);
        if (r.queue) {
          const q = r.queue;
          const ran = q.workers.map((w) => `${w.worker} ${w.tasks}`).join(', ');
          out.say(`  queue: ${q.tasks} tasks on ${q.workers.length} worker(s) (${ran}); waited ${q.waitedMsMean} ms on average, ${q.waitedMsMax} ms at most; ${q.retriedAfterLoss} retried after a lost worker`);
        }
        if (r.repetition + 1 < repetitions) progress = out.progress('simulating', total);
      },
    });
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
  // An artifact's answer, in words on stderr and in full in the summary line (docs/SIMULATOR.md, "Artifacts").
  if (result.result) for (const line of condenseResult(describeResult(result.result))) out.say(line);
  out.say(`report: ${join(dir, 'report.html')}`);
  out.record({
    rounds: result.rounds,
    accuracy: result.accuracy,
    loss: result.loss,
    virtualSeconds: round3(result.virtualSeconds),
    wallSeconds: round3(result.wallSeconds),
    peakRssMb: result.peakRssMb,
    bytesSent: result.bytesSent,
    messages: result.messages,
    ...(result.result ? { result: result.result } : {}),
    ...(result.repetitions[0]?.queue ? { queue: result.repetitions.map((r) => r.queue) } : {}),
  });
  // A repetition that ended without reaching a stop condition (a failed round, a stall, the
  // scenario's maxVirtualSeconds) fails the command, after its results are printed and saved.
  const failed = result.repetitions.filter((r) => !STOP_CONDITIONS.has(r.stopReason));
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new JobFailedError(scenario.name, `${failed.length} of ${result.repetitions.length} repetitions ended without reaching a stop condition; repetition ${first.repetition + 1}: ${first.stopReason} (${first.detail})`);
  }
}

function queueInfo(q: QueueStatus): string {
  if (!q.connected) return 'queue: Redis unreachable';
  const refused = q.refused > 0 ? `, ${q.refused} refused` : '';
  return `queue ${q.waiting} waiting, ${q.active} running · ${q.workers} worker(s)${refused}`;
}

const STOP_CONDITIONS: ReadonlySet<string> = new Set(['rounds', 'targetAccuracy', 'targetLoss', 'privacyBudget']);

/** Most site names, and refusal lines per step, printed in words; summary.json keeps them all. */
const MAX_LISTED = 5;

// A result over thousands of virtual clients would list every one of them per step.
function condenseResult(lines: readonly string[]): string[] {
  const out: string[] = [];
  let refusals = 0;
  const flush = () => {
    if (refusals > MAX_LISTED) out.push(`  … and ${refusals - MAX_LISTED} more refusals (all of them are in summary.json)`);
    refusals = 0;
  };
  for (const line of lines) {
    const from = /^ {2}from (\d+) sites \((.*)\)$/.exec(line);
    if (/^ {2}\S+ refused: /.test(line)) {
      if (++refusals <= MAX_LISTED) out.push(line);
      continue;
    }
    flush();
    if (from && Number(from[1]) > MAX_LISTED) out.push(`  from ${from[1]} sites (${from[2]!.split(', ').slice(0, MAX_LISTED).join(', ')}, …)`);
    else out.push(line);
  }
  flush();
  return out;
}

function roundLine(r: RoundRecord): Record<string, unknown> {
  return {
    repetition: r.repetition,
    round: r.round,
    accuracy: r.accuracy,
    loss: r.loss,
    participants: r.participants,
    stragglers: r.stragglers,
    crashed: r.crashed,
    virtualSeconds: round3(r.virtualSeconds),
    wallSeconds: round3(r.wallSeconds),
  };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
