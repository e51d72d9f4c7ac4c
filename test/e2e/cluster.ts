import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest, type ManifestInput } from '../../core/src/protocol/manifest.js';
import { planLocalCluster, type LocalClusterPlan } from '../../core/src/node/runtime/localCluster.js';
import { spawnNode, stopNodes, killNodesNow, type LogRecord, type NodeProcess } from '../../cli/src/commands/localProcesses.js';
import { submitManifestFile } from '../../cli/src/commands/job.js';
import { writeFile } from 'node:fs/promises';

// A cluster of real `canopy node` OS processes on 127.0.0.1 for end-to-end tests: the
// same planning and process handling `canopy local` uses, with hooks to kill, restart
// and misconfigure individual nodes. Tests wait on log lines, never on sleeps.

/** A running test cluster. */
export interface TestCluster {
  readonly plan: LocalClusterPlan;
  readonly dir: string;
  readonly procs: Map<string, NodeProcess>;
  /** Signs and submits the manifest to the root host; resolves with the root id. */
  submit(): Promise<string>;
  /** Every log record a node wrote so far (across restarts). */
  records(name: string): LogRecord[];
  /** Resolves with the first record of `name` matching `match` (already written or future). */
  waitFor(name: string, match: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  kill(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Extra `canopy node` flags per node name (default: synthetic compute, --approve-datasets). */
export type NodeArgs = (name: string) => string[];

/** Hooks around a test cluster's life: before its first node starts, and after its last one stopped (before its folder goes). */
export interface ClusterHooks {
  readonly beforeLaunch?: (plan: LocalClusterPlan) => Promise<void>;
  readonly afterStop?: () => Promise<void>;
}

/** Plans and starts one process per node of `manifest`. */
export async function startTestCluster(manifest: ManifestInput, args: NodeArgs = () => ['--approve-datasets', '--compute', 'synthetic'], hooks: ClusterHooks = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-e2e-'));
  const plan = await planLocalCluster(validateManifest(manifest), dir);
  await hooks.beforeLaunch?.(plan);
  const logDir = join(dir, 'logs');
  const procs = new Map<string, NodeProcess>();
  const history = new Map<string, LogRecord[]>();
  const waiters = new Set<() => void>();
  const launch = async (name: string) => {
    const node = plan.nodes.find((n) => n.name === name)!;
    const p = await spawnNode(node, node === plan.root ? [] : [plan.root.addr], { logDir, extraArgs: args(name) });
    // Mirror the child's parsed records into a per-node history tests can search.
    p.child.stderr!.on('data', (chunk: Buffer) => {
      const list = history.get(name) ?? history.set(name, []).get(name)!;
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          list.push(JSON.parse(line) as LogRecord);
        } catch {
          // A line split across chunks: the log file has it whole; tests match whole records.
        }
      }
      for (const w of [...waiters]) w();
    });
    procs.set(name, p);
    return p;
  };
  const onExit = () => killNodesNow([...procs.values()]);
  process.on('exit', onExit);
  await launch(plan.root.name);
  await procs.get(plan.root.name)!.started;
  for (const n of plan.nodes) if (n !== plan.root) await launch(n.name);
  await Promise.all([...procs.values()].map((p) => p.started));
  const records = (name: string) => history.get(name) ?? [];
  return {
    plan,
    dir,
    procs,
    records,
    submit: async () => {
      const file = join(dir, 'manifest.json');
      await writeFile(file, JSON.stringify(plan.manifest));
      return (await submitManifestFile(file, { peer: [plan.root.addr], keyDir: join(dir, 'submitter'), loopbackCluster: true })).rootId;
    },
    waitFor: (name, match, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = records(name).find(match);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a log record of ${name}; its log: ${procs.get(name)?.logFile}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    kill: async (name) => {
      const p = procs.get(name)!;
      p.child.kill('SIGKILL');
      await p.exited;
    },
    restart: async (name) => {
      const p = await launch(name);
      await p.started;
    },
    stop: async () => {
      await stopNodes([...procs.values()], 5000);
      process.off('exit', onExit);
      await hooks.afterStop?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A leaf-cluster manifest for protocol tests: fast heartbeats, synthetic-friendly. */
export function leafManifest(over: Partial<ManifestInput> & { clients?: string[]; workers?: string[]; distributor?: string } = {}): ManifestInput {
  const { clients = ['c0', 'c1', 'c2', 'c3'], workers = ['w0', 'w1', 'w2'], distributor, ...rest } = over;
  return {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: 'e2e',
    model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
    consensus: 'majority_2_3',
    stop: { rounds: 4 },
    dataset: { source: { kind: 'mnist' }, ...(distributor ? { distributor } : {}) },
    timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 30, quorum: 0.5 },
    allowModelDownload: true,
    cluster: { host: 'host', workers, clients },
    ...rest,
  } as ManifestInput;
}

/** Root rounds the host closed, in the order it logged them. */
export function closedRounds(c: TestCluster, job = 'e2e'): number[] {
  return c.records('host').filter((r) => r.msg === 'round finished' && r.job === job).map((r) => Number(r.round));
}
