import { z } from 'zod';
import { ClusterSpec, Manifest } from '@canopy/core/protocol';
import { DEFAULT_PROFILES, DeviceProfile } from '../engine/devices.js';
import { NetworkSpec } from '../engine/network.js';
import { FaultSpec } from './faults.js';
import { TreeSpec } from './tree.js';
import { ScenarioArtifact } from './scenarioArtifact.js';
import { ScenarioData } from './scenarioTable.js';
import { SYNTHETIC_DEFAULTS as CORE_SYNTHETIC } from '@canopy/core/ml';
import { parseQueueUrl } from '../queue/queueProtocol.js';

// A scenario file (issue #5) is a job manifest plus what the simulator needs to play it:
//
//   apiVersion: canopy/v1
//   kind: Scenario
//   name: small-synthetic          # also the job's name unless job.name is given
//   job:                           # a manifest's fields, without apiVersion/kind, and with
//     model: ...                   #   either `cluster` (as in manifests) or `tree` (generated)
//     tree: { depth: 2, fanout: 2, clientsPerLeaf: 4, workersPerCluster: 3 }
//   training: { mode: synthetic, params: 10000 }     # or { mode: real, workerThreads: 2, queue: redis://host:6379 }
//   devices: { profiles: [...], hostProfile: workstation }
//   network: { latency: { kind: lognormal, medianMs: 30, sigma: 0.5 } }
//   faults: { clientCrashPerRound: 0.2, lyingWorkersPerCluster: 1 }
//   repetitions: 3
//   seed: 7
//   transport: modelled            # or libp2p: real nodes over @libp2p/memory (fidelity mode)
//
// Or, instead of `job`, an `artifact` (an artifact manifest's fields with a `tree` or
// `cluster`) and its `data` (CSV rows dealt to the leaf clients); see scenarioArtifact.ts.
//
// Choices: `workerThreads` sits in the `real` training mode, the only one it applies to, and
// `aggregateThreads` in the `synthetic` one;
// stop conditions are the manifest's own `job.stop`, applied per repetition.

/** Synthetic training's defaults: per-sample cost is the 2NN's on the reference machine (6,700 samples/s). */
export const SYNTHETIC_DEFAULTS = { samplesPerClient: CORE_SYNTHETIC.samplesPerClient, secondsPerSample: 1 / 6700, learnRate: CORE_SYNTHETIC.learnRate } as const;

const AGGREGATE_THREADS_ERROR = 'expected `auto` or a whole number of threads from 0 to 64';

function validQueueUrl(text: string): boolean {
  try {
    parseQueueUrl(text);
    return true;
  } catch {
    return false;
  }
}

/** How clients train: for real, with tfjs on real data, or synthetically, with cheap arithmetic on P parameters. */
export const TrainingSpec = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      mode: z.literal('real'),
      /** Size of the pool of worker threads that run tfjs training; default: one per core. */
      workerThreads: z.number().int().min(1).max(256).optional(),
      /**
       * redis://HOST:PORT: run the compute tasks on `canopy sim-worker` processes through a
       * BullMQ queue in that Redis instead of threads here (docs/SIMULATOR.md, "Compute on other machines").
       */
      queue: z
        .string()
        .refine((u) => validQueueUrl(u), { error: 'expected redis://HOST:PORT (no password; see docs/SIMULATOR.md)' })
        .optional(),
    }),
    z.strictObject({
      mode: z.literal('synthetic'),
      /** Parameters per model: the length of every vector clients train and workers aggregate. */
      params: z.number().int().min(1).max(100_000_000),
      /** Samples each client holds; weights its submission and sets its compute time. */
      samplesPerClient: z.number().int().min(1).default(SYNTHETIC_DEFAULTS.samplesPerClient),
      /** Virtual seconds one sample-epoch costs a device of speed 1. */
      secondsPerSample: z.number().positive().default(SYNTHETIC_DEFAULTS.secondsPerSample),
      /** Step size of the synthetic update, which pulls parameters toward the optimum. */
      learnRate: z.number().gt(0).max(1).default(SYNTHETIC_DEFAULTS.learnRate),
      /**
       * Threads that rebuild client updates and aggregate them while the main thread runs
       * protocol events: 0 keeps aggregation in the main thread; `auto` (default) uses one
       * with a second core and at least 4,096 parameters. Results are the same either way.
       */
      aggregateThreads: z
        .union([z.literal('auto'), z.number().int().min(0, { error: AGGREGATE_THREADS_ERROR }).max(64, { error: AGGREGATE_THREADS_ERROR })], { error: AGGREGATE_THREADS_ERROR })
        .default('auto'),
    }),
  ],
  { error: 'expected `mode: real` or `mode: synthetic`' },
);
export type TrainingSpec = z.infer<typeof TrainingSpec>;

/** The devices nodes run on. Hosts and workers may be pinned to one profile (edge servers, say). */
export const DevicesSpec = z
  .strictObject({
    profiles: z.array(DeviceProfile).min(1).default(() => DEFAULT_PROFILES.map((p) => ({ ...p }))),
    /** Every host gets this profile instead of a draw by share. */
    hostProfile: z.string().min(1).optional(),
    /** Every worker gets this profile instead of a draw by share. */
    workerProfile: z.string().min(1).optional(),
  })
  .superRefine((d, ctx) => {
    const names = new Set<string>();
    d.profiles.forEach((p, i) => {
      if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'name'], message: `profile ${p.name} is defined twice` });
      names.add(p.name);
    });
    for (const key of ['hostProfile', 'workerProfile'] as const) {
      const name = d[key];
      if (name !== undefined && !names.has(name)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `expected one of the profiles (${[...names].join(', ')})` });
      }
    }
  });
export type DevicesSpec = z.infer<typeof DevicesSpec>;

/**
 * What carries the protocol's messages: the modelled network in virtual time (the default,
 * for any N), or real libp2p nodes over `@libp2p/memory` in this process, in wall-clock time
 * (fidelity mode, for small N; see docs/SIMULATOR.md, "Fidelity mode").
 */
export const Transport = z.enum(['modelled', 'libp2p']);
export type Transport = z.infer<typeof Transport>;

/** The job of a scenario: a manifest's fields, with `cluster` or a generated `tree`. */
export const ScenarioJob = Manifest.omit({ apiVersion: true, kind: true, name: true, cluster: true })
  .extend({
    /** The job's name; default: the scenario's name. */
    name: Manifest.shape.name.optional(),
    cluster: ClusterSpec.optional(),
    tree: TreeSpec.optional(),
  })
  .superRefine((j, ctx) => {
    if ((j.cluster === undefined) === (j.tree === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of `cluster` (listed nodes) or `tree` (generated)' });
    }
  });
export type ScenarioJob = z.infer<typeof ScenarioJob>;

/** A complete scenario. */
export const Scenario = z.strictObject({
  apiVersion: z.literal('canopy/v1'),
  kind: z.literal('Scenario'),
  name: Manifest.shape.name,
  description: z.string().max(2000).optional(),
  job: ScenarioJob.optional(),
  /** Instead of `job`: an artifact, compiled into the job (docs/SIMULATOR.md, "Artifacts"). */
  artifact: ScenarioArtifact.optional(),
  /** An artifact's tables: CSV rows dealt to the virtual leaf clients. */
  data: ScenarioData.optional(),
  training: TrainingSpec.default({ mode: 'real' }),
  devices: DevicesSpec.default(() => ({ profiles: DEFAULT_PROFILES.map((p) => ({ ...p })) })),
  network: NetworkSpec.default(() => NetworkSpec.parse({})),
  faults: FaultSpec.default(() => FaultSpec.parse({})),
  /** Independent runs of the whole job; repetition r uses the seeds of {@link repetitionSeeds}. */
  repetitions: z.number().int().min(1).max(1000).default(1),
  /** Seed of the simulation's randomness: profiles, latencies, sampling, faults. */
  seed: z.number().int().default(0),
  /** A repetition that has not stopped by this virtual time is ended (stop reason `maxVirtualSeconds`). */
  maxVirtualSeconds: z.number().positive().optional(),
  /** `modelled` (default) or `libp2p` (fidelity mode: real nodes, wall-clock time). */
  transport: Transport.default('modelled'),
});
/** A validated scenario: an artifact's is compiled into its `job`, and its data paths are absolute. */
export type Scenario = Omit<z.infer<typeof Scenario>, 'job'> & { readonly job: ScenarioJob };
/** A scenario as written, before defaults. */
export type ScenarioInput = z.input<typeof Scenario>;
