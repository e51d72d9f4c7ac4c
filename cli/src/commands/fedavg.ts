import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { encodeParams, kerasGraph, modelSpecFor, runFedAvgBaseline, type BaselineOptions, type ModelSpec } from '@canopy/core/ml';
import type { AggregatorSpec, DatasetSpec, PartitionSpec } from '@canopy/core/ml';
import { AggregatorSpec as AggregatorSchema } from '@canopy/core/ml';
import { calibrateNoiseMultiplier, RdpAccountant } from '@canopy/core/protocol';
import { BadInputError } from '@canopy/core/util';
import { intArg, numberArg } from '../args.js';
import { createOutput } from '../output.js';
import { modelArg, readModelArg, type ModelArg } from './modelFile.js';

const MODELS = ['logreg', 'mlp', '2nn', 'cnn', 'mcmahan-cnn'] as const;
const PARTITIONS = ['iid', 'dirichlet', 'shards', 'quantity'] as const;
const AGGREGATORS = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'median', 'trimmed-mean', 'krum'] as const;
const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

interface FedAvgFlags {
  dataset: string;
  dataDir?: string;
  labelColumn: string;
  model: ModelArg;
  saveModel?: string;
  clients: number;
  fraction: number;
  partition: (typeof PARTITIONS)[number];
  alpha: number;
  classesPerClient: number;
  rounds: number;
  epochs: number;
  batch: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  mu: number;
  aggregator: (typeof AGGREGATORS)[number];
  serverLr?: number;
  serverMomentum?: number;
  beta1?: number;
  beta2?: number;
  tau?: number;
  trim?: number;
  seed: number;
  backend: (typeof BACKENDS)[number];
  targetAccuracy?: number;
  dpClip?: number;
  dpNoise?: number;
  dpEpsilon?: number;
  dpDelta: number;
  threads: number;
  json: boolean;
}

/** `canopy fedavg`: the in-process FedAvg reference run. */
export function fedavgCommand(): Command {
  return new Command('fedavg')
    .summary('run federated averaging in-process, with no network (the reference baseline)')
    .description(
      'Runs FedAvg in one process: clients train one after another on their partition of the data,\n' +
        'the server averages their parameters and evaluates the global model on the test split.\n' +
        'Every protocol run is compared against this baseline.',
    )
    .addOption(new Option('--dataset <name|file.csv>', 'mnist (embedded), fashion-mnist, or a CSV file').default('mnist'))
    .option('--data-dir <dir>', 'directory of the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)')
    .option('--label-column <name>', 'label column of a CSV dataset', 'label')
    .option('--model <kind|model.json>', `model: ${MODELS.join(', ')}, or a Keras / tfjs Layers model.json (docs/PROTOCOL.md §13.5)`, modelArg(MODELS), '2nn')
    .option('--save-model <file>', 'write the final parameters there (CNPY) and their model spec to <file>.spec.json, for `canopy model export`')
    .option('--clients <n>', 'number of clients', intArg(1, 100_000), 10)
    .option('--fraction <f>', 'fraction of clients sampled per round', numberArg(0, 1), 1)
    .addOption(new Option('--partition <kind>', 'how data is split among clients').choices(PARTITIONS).default('iid'))
    .option('--alpha <a>', 'Dirichlet concentration for --partition dirichlet|quantity', numberArg(0, 1e6), 0.5)
    .option('--classes-per-client <c>', 'classes per client for --partition shards', intArg(1, 1000), 2)
    .option('--rounds <n>', 'communication rounds', intArg(1, 100_000), 10)
    .option('--epochs <n>', 'local epochs per round', intArg(1, 1000), 1)
    .option('--batch <n>', 'local batch size', intArg(1, 65_536), 32)
    .addOption(new Option('--optimizer <kind>', 'local optimiser').choices(['sgd', 'adam'] as const).default('sgd'))
    .option('--lr <rate>', 'local learning rate', numberArg(0, 100), 0.05)
    .option('--momentum <m>', 'SGD momentum', numberArg(0, 1, { inclusiveMin: true }), 0)
    .option('--mu <mu>', "FedProx proximal term (0 = plain FedAvg)", numberArg(0, 1e6, { inclusiveMin: true }), 0)
    .addOption(new Option('--aggregator <kind>', 'server aggregator').choices(AGGREGATORS).default('fedavg'))
    .option('--server-lr <rate>', 'server learning rate of fedavgm, fedadam, fedyogi, fedadagrad (defaults: 1 for fedavgm, 0.01 for the adaptive ones)', numberArg(0, 1e6))
    .option('--server-momentum <m>', 'server momentum of fedavgm (default 0.9)', numberArg(0, 1, { inclusiveMin: true }))
    .option('--beta1 <b>', 'first-moment decay of fedadam, fedyogi (default 0.9)', numberArg(0, 1, { inclusiveMin: true }))
    .option('--beta2 <b>', 'second-moment decay of fedadam, fedyogi (default 0.99)', numberArg(0, 1, { inclusiveMin: true }))
    .option('--tau <t>', 'adaptivity of fedadam, fedyogi, fedadagrad (default 0.001)', numberArg(0, 1e6))
    .option('--trim <beta>', 'fraction trimmed at each end by trimmed-mean (default 0.1)', numberArg(0, 0.5, { inclusiveMin: true }))
    .option('--seed <s>', 'seed of every random choice', intArg(-(2 ** 31), 2 ** 31 - 1), 1)
    .addOption(new Option('--backend <name>', 'training backend').choices(BACKENDS).default('auto'))
    .option('--target-accuracy <acc>', 'stop once test accuracy reaches this (0-1)', numberArg(0, 1))
    .option('--dp-clip <C>', 'client-level DP-FedAvg: clip each update to L2 norm C (needs --dp-noise or --dp-epsilon)', numberArg(0, 1e6))
    .option('--dp-noise <sigma>', 'noise multiplier σ: Gaussian noise σC on the sum of clipped updates', numberArg(0, 1e6, { inclusiveMin: true }))
    .option('--dp-epsilon <eps>', 'the ε to spend over all rounds: the noise multiplier is calibrated to it (RDP accountant)', numberArg(0, 1e6))
    .option('--dp-delta <delta>', 'δ of the (ε, δ) guarantee', numberArg(0, 1), 1e-5)
    .option('--threads <n>', 'threads splitting each local batch on the fast training path; results are bit-identical for equal seeds and thread counts', intArg(1, 32), 1)
    .option('--json', 'print one JSON line per round; the last line is {rounds, accuracy, loss, wallSeconds, cpuSeconds, threads}', false)
    .action(async (flags: FedAvgFlags) => {
      await runFedAvgCommand(flags);
    });
}

/** The aggregator with the server hyper-parameters given; one the aggregator does not take is an error naming both. */
export function aggregatorFromFlags(flags: Pick<FedAvgFlags, 'aggregator' | 'serverLr' | 'serverMomentum' | 'beta1' | 'beta2' | 'tau' | 'trim'>): AggregatorSpec {
  const given: [flag: string, key: string, value: number | undefined][] = [
    ['--server-lr', 'serverLr', flags.serverLr],
    ['--server-momentum', 'momentum', flags.serverMomentum],
    ['--beta1', 'beta1', flags.beta1],
    ['--beta2', 'beta2', flags.beta2],
    ['--tau', 'tau', flags.tau],
    ['--trim', 'beta', flags.trim],
  ];
  const spec: Record<string, unknown> = { kind: flags.aggregator };
  for (const [flag, key, value] of given) {
    if (value === undefined) continue;
    const takers = AGGREGATORS.filter((k) => fieldsOf(k).includes(key));
    if (!takers.includes(flags.aggregator)) throw new BadInputError(`${flag} applies to --aggregator ${takers.join(', ')}, not ${flags.aggregator}`);
    spec[key] = value;
  }
  const parsed = AggregatorSchema.safeParse(spec);
  if (!parsed.success) throw new BadInputError(`--aggregator ${flags.aggregator}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data as AggregatorSpec;
}

/** The fields each aggregator takes, read from the manifest's own AggregatorSpec schema. */
const fieldsOf = (kind: string): readonly string[] => Object.keys(AggregatorSchema.options.find((o) => o.shape.kind.value === kind)?.shape ?? {});

/** The DP settings the flags ask for: σ given or calibrated to the ε, and the sampling rate the accountant uses. */
function dpFromFlags(flags: FedAvgFlags): { clip: number; noiseMultiplier: number; q: number } | undefined {
  const asked = flags.dpClip !== undefined || flags.dpNoise !== undefined || flags.dpEpsilon !== undefined;
  if (!asked) return undefined;
  if (flags.dpClip === undefined || (flags.dpNoise === undefined) === (flags.dpEpsilon === undefined)) {
    throw new BadInputError('differential privacy needs --dp-clip and exactly one of --dp-noise and --dp-epsilon');
  }
  if (flags.aggregator !== 'fedavg') throw new BadInputError(`differential privacy runs DP-FedAvg: use --aggregator fedavg, not ${flags.aggregator}`);
  // the baseline samples a fixed number each round; the accountant takes that fraction as a Poisson rate
  const q = Math.max(1, Math.round(flags.fraction * flags.clients)) / flags.clients;
  const noiseMultiplier = flags.dpNoise ?? calibrateNoiseMultiplier(flags.dpEpsilon!, flags.dpDelta, q, flags.rounds);
  return { clip: flags.dpClip, noiseMultiplier, q };
}

async function runFedAvgCommand(flags: FedAvgFlags): Promise<void> {
  const out = createOutput({ json: flags.json });
  const dp = dpFromFlags(flags);
  const accountant = new RdpAccountant();
  if (dp) out.say(`DP-FedAvg: clip ${dp.clip}, noise multiplier ${dp.noiseMultiplier.toFixed(4)}, sampling rate ${dp.q}, δ ${flags.dpDelta}`);
  const options: BaselineOptions = {
    dataset: datasetFromFlags(flags),
    // modelArg let only a built-in kind or a file through.
    model: (await readModelArg(flags.model)) as BaselineOptions['model'],
    clients: flags.clients,
    partition: partitionFromFlags(flags),
    rounds: flags.rounds,
    train: {
      optimizer: flags.optimizer === 'sgd' ? { kind: 'sgd', lr: flags.lr, momentum: flags.momentum } : { kind: 'adam', lr: flags.lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      epochs: flags.epochs,
      batchSize: flags.batch,
      mu: flags.mu,
      seed: flags.seed,
    },
    aggregator: aggregatorFromFlags(flags),
    clientFraction: flags.fraction,
    seed: flags.seed,
    backend: flags.backend,
    targetAccuracy: flags.targetAccuracy,
    threads: flags.threads,
    ...(dp ? { dp: { clip: dp.clip, noiseMultiplier: dp.noiseMultiplier } } : {}),
  };

  let progress: ReturnType<typeof out.progress> | undefined;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const cpuStart = process.cpuUsage();
  try {
    const result = await runFedAvgBaseline(options, {
      signal: abort.signal,
      onData: (data, backend) => {
        out.say(
          `FedAvg on ${data.name} (${data.train.count} train / ${data.test.count} test samples), model ${typeof flags.model === 'string' ? flags.model : flags.model.file}, ` +
            `${flags.clients} clients (${describePartition(options.partition)}), backend ${backend.name}${backend.simd ? ' (SIMD)' : ''}`,
        );
        if (typeof options.model !== 'string') {
          const graph = kerasGraph(modelSpecFor(options.model, data) as Extract<ModelSpec, { kind: 'keras' }>);
          out.say(`model ${(flags.model as { file: string }).file}: ${graph.layers.length} layers, ${graph.paramCount.toLocaleString('en')} parameters; it trains on tfjs (the fast engine covers the built-in models only)`);
        }
      },
      onProgress: (p) => {
        if (p.clientIndex === 0) progress = out.progress(`round ${p.round}/${flags.rounds}`, p.clientsThisRound);
        progress?.update(p.clientIndex, 'clients trained');
      },
      onRound: (r) => {
        progress?.update(r.participants, 'clients trained');
        progress?.stop();
        progress = undefined;
        const epsilon = dp ? accountant.compose(dp.q, dp.noiseMultiplier).epsilon(flags.dpDelta) : undefined;
        const spent = epsilon === undefined ? '' : `  ε ${epsilon.toFixed(3)} (δ ${flags.dpDelta}), ${Math.round((r.clippedFraction ?? 0) * 100)}% clipped`;
        out.say(`round ${String(r.round).padStart(3)}  accuracy ${(r.accuracy * 100).toFixed(2)}%  loss ${r.loss.toFixed(4)}  train loss ${r.trainLoss.toFixed(4)}  (${r.wallSeconds.toFixed(1)} s)${spent}`);
        out.record({ round: r.round, accuracy: r.accuracy, loss: r.loss, trainLoss: r.trainLoss, participants: r.participants, wallSeconds: round3(r.wallSeconds), ...(dp ? { epsilon, delta: flags.dpDelta, noiseMultiplier: dp.noiseMultiplier, clippedFraction: r.clippedFraction } : {}) });
      },
    });
    if (flags.saveModel !== undefined) {
      await writeFile(flags.saveModel, encodeParams(result.model, result.params));
      await writeFile(`${flags.saveModel}.spec.json`, `${JSON.stringify(result.model)}\n`);
      out.say(`final model: ${flags.saveModel} (spec ${flags.saveModel}.spec.json)`);
    }
    out.say(`final test accuracy ${(result.accuracy * 100).toFixed(2)}% after ${result.rounds} rounds, loss ${result.loss.toFixed(4)}, ${result.wallSeconds.toFixed(1)} s`);
    // CPU time of every thread of this process (training lanes included), as PyTorch's script reports it
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = round3((cpu.user + cpu.system) / 1e6);
    out.record({ rounds: result.rounds, accuracy: result.accuracy, loss: result.loss, wallSeconds: round3(result.wallSeconds), cpuSeconds, threads: flags.threads, ...(dp ? { epsilon: accountant.epsilon(flags.dpDelta), delta: flags.dpDelta, noiseMultiplier: dp.noiseMultiplier, clip: dp.clip, samplingRate: dp.q } : {}) });
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
}

function datasetFromFlags(flags: FedAvgFlags): DatasetSpec {
  if (flags.dataset === 'mnist') return { kind: 'mnist', testFraction: 0.2 };
  if (flags.dataset === 'fashion-mnist') return { kind: 'fashion-mnist', path: flags.dataDir ?? '/usr/share/datasets/fashion-mnist' };
  return { kind: 'csv', path: flags.dataset, labelColumn: flags.labelColumn, testFraction: 0.2 };
}

function partitionFromFlags(flags: FedAvgFlags): PartitionSpec {
  switch (flags.partition) {
    case 'iid':
      return { kind: 'iid' };
    case 'dirichlet':
      return { kind: 'dirichlet', alpha: flags.alpha };
    case 'quantity':
      return { kind: 'quantity', alpha: flags.alpha };
    case 'shards':
      return { kind: 'shards', classesPerClient: flags.classesPerClient };
  }
}

function describePartition(p: PartitionSpec): string {
  switch (p.kind) {
    case 'iid':
      return 'IID';
    case 'dirichlet':
      return `Dirichlet α=${p.alpha}`;
    case 'quantity':
      return `quantity skew α=${p.alpha}`;
    case 'shards':
      return `${p.classesPerClient} classes per client`;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
