import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '@canopy/core/protocol';
import { CanopyNode, startMemoryCluster, type MemoryCluster } from '@canopy/core/runtime';
import { createLog, Rng } from '@canopy/core/util';

/** The faults one iteration does to the root host's disk while it is down. */
const FAULTS = ['none', 'truncate-newest-checkpoint', 'corrupt-all-checkpoints', 'corrupt-submission', 'flip-random-blob'] as const;
/** The faults one iteration does to a member's disk (client, worker, distributor) while it is down. */
const MEMBER_FAULTS = ['none', 'none', 'corrupt-journal', 'flip-random-blob'] as const;
type Fault = (typeof FAULTS)[number] | (typeof MEMBER_FAULTS)[number];
/** The nodes an iteration may stop: the root host, a client, the worker, the distributor (bob, the other client, watches the end). */
export const VICTIMS = ['host', 'alice', 'wk', 'dist'] as const;
type Victim = (typeof VICTIMS)[number];

/** One iteration: when the host was killed, what was damaged, and how the job ended. */
export interface KillCorruptRun {
  readonly run: number;
  readonly victim: Victim;
  readonly killAfterMs: number;
  readonly fault: Fault;
  /** Whether the host was still running the job when its moment came (else it had finished). */
  readonly killed: boolean;
  /** `finished` with the undisturbed final hash, `other-final` with another, `failed` with a stated reason, `stalled` with none. */
  readonly outcome: 'finished' | 'other-final' | 'failed' | 'stalled';
  readonly reason: string | null;
}

/** `canopy bench kill-corrupt`'s report. */
export interface KillCorruptReport {
  readonly runs: number;
  readonly seed: number;
  readonly undisturbedFinal: string;
  readonly counts: Record<KillCorruptRun['outcome'], number>;
  /** Runs in which the victim was stopped and damaged before the job ended. */
  readonly killed: number;
  /** Runs per victim, and how many of them ended with the undisturbed final model. */
  readonly byVictim: Record<string, { runs: number; killed: number; finished: number }>;
  readonly stalled: KillCorruptRun[];
  readonly wallSeconds: number;
}

const job = (rounds: number) =>
  validateManifest({
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: 'killcorrupt',
    model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
    consensus: 'single',
    stop: { rounds },
    dataset: { source: { kind: 'mnist' }, distributor: 'dist' },
    timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 20 },
    cluster: { host: 'host', workers: ['wk'], clients: ['alice', 'bob'] },
  });

/**
 * Runs an 8-round synthetic job on 5 in-process nodes (memory transport, data dirs on disk:
 * a root host, one worker, two clients, a distributor) `runs` times; each time one seeded
 * victim (the host, a client, the worker or the distributor) is stopped at a seeded random
 * moment, one seeded fault is done to its data dir (for members: none, a corrupt journal, a
 * flipped blob), and it is started again on it. Every run must end: with the undisturbed
 * run's final hash, or with a stated reason; a run that has not ended 90 s after the restart
 * counts as stalled. A victim is stopped in-process (its runner stops mid-step, nothing more
 * is written); test/e2e/memberRestore.test.ts kills real processes with SIGKILL.
 */
export async function benchKillCorrupt(o: { runs: number; seed: number }, onRun?: (r: KillCorruptRun) => void): Promise<KillCorruptReport> {
  const started = Date.now();
  const rng = Rng.fromSeed(o.seed);
  const undisturbed = await runOnce(undefined);
  const counts = { finished: 0, 'other-final': 0, failed: 0, stalled: 0 };
  const stalled: KillCorruptRun[] = [];
  const byVictim: KillCorruptReport['byVictim'] = {};
  let killed = 0;
  for (let run = 0; run < o.runs; run++) {
    const victim = VICTIMS[rng.int(VICTIMS.length)]!;
    const killAfterMs = 100 + rng.int(1500);
    const fault = victim === 'host' ? FAULTS[rng.int(FAULTS.length)]! : MEMBER_FAULTS[rng.int(MEMBER_FAULTS.length)]!;
    const r = await runOnce({ victim, killAfterMs, fault, pick: rng.float() });
    const outcome: KillCorruptRun['outcome'] = r.stalled ? 'stalled' : r.reason?.startsWith('failed') ? 'failed' : r.final === undisturbed.final ? 'finished' : 'other-final';
    const rec = { run, victim, killAfterMs, fault, killed: r.killed, outcome, reason: r.reason };
    counts[outcome]++;
    const v = (byVictim[victim] ??= { runs: 0, killed: 0, finished: 0 });
    v.runs++;
    if (r.killed) v.killed++;
    if (outcome === 'finished') v.finished++;
    if (r.killed) killed++;
    if (outcome === 'stalled') stalled.push(rec);
    onRun?.(rec);
  }
  return { runs: o.runs, seed: o.seed, undisturbedFinal: undisturbed.final ?? '', counts, killed, byVictim, stalled, wallSeconds: (Date.now() - started) / 1000 };
}

async function runOnce(kill: { victim: Victim; killAfterMs: number; fault: Fault; pick: number } | undefined): Promise<{ final: string | null; reason: string | null; stalled: boolean; killed: boolean }> {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-bench-kill-'));
  const log = createLog('bench', process.env.CANOPY_LOG ?? 'silent');
  let cluster: MemoryCluster | undefined;
  let restarted: CanopyNode | undefined;
  let killed = false;
  try {
    cluster = await startMemoryCluster(job(8), { baseDir: dir, node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log, machineSeed: (key) => key.length } });
    // A member's view of the end, never a victim: it outlives the others' restarts.
    const ended = cluster.nodes.get('bob')!.events.once('machine:finished');
    const rootId = await cluster.submit();
    if (kill) {
      const first = cluster.nodes.get(kill.victim)!;
      const finishedEarly = first.events.once('job:finished');
      const raced = await Promise.race([finishedEarly.then(() => true), sleep(kill.killAfterMs).then(() => false)]);
      if (!raced) {
        killed = true;
        await first.stop();
        await damage(join(dir, kill.victim), rootId, kill.fault, kill.pick);
        restarted = new CanopyNode(first.options);
        await restarted.start();
      }
    }
    const end = await Promise.race([ended, sleep(90_000).then(() => undefined)]);
    if (!end) return { final: null, reason: null, stalled: true, killed };
    return { final: end.final?.hash ?? null, reason: end.reason, stalled: false, killed };
  } finally {
    await cluster?.stop().catch(() => undefined);
    await restarted?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

async function damage(nodeDir: string, rootId: string, fault: Fault, pick: number): Promise<void> {
  const jobs = join(nodeDir, 'jobs');
  const cpDir = join(jobs, encodeURIComponent(`${rootId}:killcorrupt`).replace(/\./g, '%2E'));
  const checkpoints = (await readdir(cpDir).catch(() => [])).filter((f) => f.startsWith('checkpoint-')).sort();
  if (fault === 'truncate-newest-checkpoint' && checkpoints.length > 0) await truncate(join(cpDir, checkpoints.at(-1)!), 30);
  if (fault === 'corrupt-all-checkpoints') for (const f of checkpoints) await writeFile(join(cpDir, f), 'garbage');
  if (fault === 'corrupt-journal') for (const f of (await readdir(cpDir).catch(() => [])).filter((n) => n.startsWith('journal-'))) await writeFile(join(cpDir, f), 'garbage');
  const blobs = (await readdir(join(nodeDir, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => [])).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
  let target: string | undefined;
  if (fault === 'corrupt-submission') {
    const text = await readFile(join(jobs, rootId, 'runtime.json'), 'utf8').catch(() => '');
    const hash = /"hash":"([0-9a-f]{64})"/.exec(text)?.[1];
    target = blobs.find((b) => hash !== undefined && b.endsWith(hash));
  }
  if (fault === 'flip-random-blob' && blobs.length > 0) target = blobs[Math.floor(pick * blobs.length)];
  if (target) {
    const bytes = await readFile(target);
    if (bytes.length > 0) {
      bytes[Math.floor(pick * bytes.length)]! ^= 0x10;
      await writeFile(target, bytes);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
