import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINISHED_LINGER_BEATS, buildJobTree, rolesOf, allMembers, type JobTree } from '@canopy/core/protocol';
import { createLog, type Log } from '@canopy/core/util';
import { decodeSyntheticParams, syntheticEvaluate } from '@canopy/core/ml';
import { ANNOUNCE_TOPIC, startMemoryCluster, type CanopyNode, type MemoryCluster } from '@canopy/core/runtime';
import { lyingCompute, syntheticCompute } from '@canopy/core/compute';
import type { RepetitionStopReason } from '../report/roundRecord.js';
import { lyingWorkers } from '../scenario/faults.js';
import type { Scenario } from '../scenario/scenario.js';
import { repetitionSeeds, scenarioManifest } from '../scenario/scenarioManifest.js';
import { machineSeed } from '../run/simShell.js';
import { classify, runBounds, type RepetitionHooks, type RepetitionResult } from '../run/repetition.js';
import { FidelityRecorder } from './fidelityRecorder.js';
import { assertFidelity } from './limits.js';

/** Hooks of one fidelity repetition: the modelled runner's, plus the nodes' log. */
export interface FidelityHooks extends RepetitionHooks {
  /** Where the nodes log (default: stderr at `CANOPY_LOG`, else `warn`). */
  readonly log?: Log;
}

/**
 * Runs repetition `repetition` of a scenario in fidelity mode: its manifest on one real
 * CanopyNode per member over @libp2p/memory in this process, with synthetic compute set up
 * from the scenario (the same arithmetic the modelled trainer does) and every machine's
 * random draws seeded as the modelled shell seeds them. Follows the job through the nodes'
 * events and returns what {@link runRepetition} returns, in wall-clock time: the job is
 * submitted at time 0, and `virtualSeconds` is the wall-clock time to the root's final state.
 * The nodes are stopped and their data directories removed whatever happens.
 */
export async function runFidelityRepetition(scenario: Scenario, repetition: number, hooks: FidelityHooks = {}): Promise<RepetitionResult> {
  assertFidelity(scenario);
  const training = scenario.training;
  if (training.mode !== 'synthetic') throw new Error('unreachable: fidelity mode checked the training mode');
  const wallStart = performance.now();
  const seeds = repetitionSeeds(scenario, repetition);
  const manifest = scenarioManifest(scenario, repetition);
  const tree = buildJobTree(manifest);
  const liars = lyingWorkers(manifest.cluster, scenario.faults.lyingWorkersPerCluster);
  const log = hooks.log ?? createLog('fidelity', process.env.CANOPY_LOG ?? 'warn');
  const baseDir = await mkdtemp(join(tmpdir(), 'canopy-fidelity-'));
  let cluster: MemoryCluster | undefined;
  let recorder: FidelityRecorder | undefined;
  let detach = () => undefined as void;
  try {
    cluster = await startMemoryCluster(manifest, {
      baseDir,
      node: { consent: { kind: 'approve-all' } },
      perNode: (name) => {
        // One backend per node, as on real peers: its aggregator state is its own.
        const compute = syntheticCompute({ params: training.params, learnRate: training.learnRate, samplesPerClient: training.samplesPerClient });
        const nodeLog = log.child({ node: name });
        return {
          compute: liars.has(name) ? lyingCompute(compute, { log: nodeLog }) : compute,
          // The modelled shell's seed for this member's machines, so both draw the same client samples.
          machineSeed: (key: string) => machineSeed(seeds.simulation, name, key),
          log: nodeLog,
        };
      },
    });
    const nodes = cluster.nodes;
    await connectAll(nodes, manifest.cluster.host, hooks.signal);
    let submittedAt = performance.now();
    const now = () => (performance.now() - submittedAt) / 1000;
    recorder = new FidelityRecorder({
      tree,
      repetition,
      nodes,
      now,
      wall: () => (performance.now() - wallStart) / 1000,
      observe: (hash) => observe(tree, nodes, hash, training.params, manifest.train.seed),
      emit: (r) => hooks.onRound?.(r),
    });
    detach = recorder.attach();
    const end = watchEnd(tree, nodes, recorder, scenario, hooks, now);
    submittedAt = performance.now();
    await cluster.submit();
    const how = await end;
    await recorder.flush();
    const rootDone = recorder.rootDone;
    const stop: { reason: RepetitionStopReason; detail: string } =
      how === 'aborted'
        ? { reason: 'aborted', detail: 'aborted by the user' }
        : rootDone !== null
          ? classify(rootDone.reason)
          : how === 'until'
            ? { reason: 'maxVirtualSeconds', detail: `no stop condition held within ${scenario.maxVirtualSeconds} seconds (fidelity mode: wall-clock)` }
            : { reason: 'stalled', detail: `no root round finished in ${Math.round(now())} seconds` };
    const finalHash = rootDone?.final ?? null;
    let bytesSent = 0;
    let messages = 0;
    for (const node of nodes.values()) {
      const s = node.stats();
      bytesSent += s.gossipBytesSent + s.blobBytesFetched;
      messages += s.messagesSent;
    }
    return {
      repetition,
      rounds: recorder.rounds,
      accuracy: recorder.last.accuracy,
      loss: recorder.last.loss,
      virtualSeconds: rootDone?.at ?? now(),
      wallSeconds: (performance.now() - wallStart) / 1000,
      bytesSent,
      messages,
      stopReason: stop.reason,
      detail: stop.detail,
      finalHash,
      agreeing: [...recorder.finals.values()].filter((h) => finalHash !== null && h === finalHash).length,
      members: memberMachines(tree),
      violations: recorder.violations,
      events: recorder.events,
    };
  } finally {
    detach();
    await cluster?.stop().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'a node did not stop cleanly'));
    await rm(baseDir, { recursive: true, force: true });
  }
}

/** How long {@link connectAll} waits for the nodes to know each other before submitting anyway. */
const CONNECT_TIMEOUT_MS = 60_000;

/**
 * Connects every node to every other and waits until the root host sees them all on the
 * announce topic, as long-running peers would be when a job arrives. Without it, the job's
 * first seconds are the connection storm of N nodes meeting in one event loop (every
 * runner dials every member), and hosts mark slow starters offline, excluding them from
 * the first round's sample: the run's answer would depend on timing. Bounded; a node
 * still unconnected then is left to the runners' own dialling.
 */
async function connectAll(nodes: ReadonlyMap<string, CanopyNode>, root: string, signal?: AbortSignal): Promise<void> {
  const list = [...nodes.values()];
  const dials: Promise<unknown>[] = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const addr = list[j]!.libp2p.getMultiaddrs()[0];
      if (addr) dials.push(list[i]!.libp2p.dial(addr, { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) }));
    }
  }
  await Promise.allSettled(dials);
  const pubsub = nodes.get(root)!.libp2p.services.pubsub;
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  while (pubsub.getSubscribers(ANNOUNCE_TOPIC).length < list.length - 1 && performance.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Resolves when the repetition is over: the root reached its final state and every client
 * and worker finished with it, or every node finished its machines, or the hosts' linger
 * time passed; or the scenario's time limit (`maxVirtualSeconds`, wall-clock here), a
 * stall, or an abort.
 */
function watchEnd(tree: JobTree, nodes: ReadonlyMap<string, CanopyNode>, recorder: FidelityRecorder, scenario: Scenario, hooks: RepetitionHooks, now: () => number): Promise<'done' | 'until' | 'stalled' | 'aborted'> {
  // The modelled runner's bounds: a root round may take every level's deadlines and retries in turn.
  const { beatMs, stallMs } = runBounds(tree);
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const offs: (() => void)[] = [];
    let lastProgress = performance.now();
    let lingerArmed = false;
    const unfinished = new Set(nodes.keys());
    const members = memberMachines(tree);
    const finish = (how: 'done' | 'until' | 'stalled' | 'aborted') => {
      timers.forEach(clearTimeout); // clears intervals too
      offs.forEach((off) => off());
      hooks.signal?.removeEventListener('abort', onAbort);
      resolve(how);
    };
    const onAbort = () => finish('aborted');
    if (hooks.signal?.aborted) return finish('aborted');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const checkDone = () => {
      if (recorder.rootDone === null) return;
      // Every client and worker holds the final model (hosts may still linger for stragglers' status).
      if (unfinished.size === 0 || recorder.finals.size >= members) return finish('done');
      if (!lingerArmed) {
        lingerArmed = true;
        // Members hear the final state within a beat or two; hosts linger at most this long.
        timers.push(setTimeout(() => finish('done'), (FINISHED_LINGER_BEATS + 2) * beatMs));
      }
    };
    recorder.onProgress = () => {
      lastProgress = performance.now();
      checkDone();
    };
    for (const [name, node] of nodes) {
      offs.push(
        node.events.on('job:finished', () => {
          unfinished.delete(name);
          checkDone();
        }),
        // The recorder saw it first (it subscribed first) and counted it in `finals`.
        node.events.on('machine:finished', () => checkDone()),
      );
    }
    if (scenario.maxVirtualSeconds !== undefined) timers.push(setTimeout(() => finish('until'), scenario.maxVirtualSeconds * 1000));
    timers.push(
      setInterval(() => {
        hooks.onTick?.(now());
        if (recorder.rootDone === null && performance.now() - lastProgress > stallMs) finish('stalled');
      }, 1000),
    );
  });
}

/**
 * The simulator's look at a global model, as the modelled synthetic trainer takes it: loss and
 * accuracy against the job's optimum. The blob is read from a node of the root cluster that
 * holds it (a root worker computed it before voting), waiting briefly if none has it yet.
 */
async function observe(tree: JobTree, nodes: ReadonlyMap<string, CanopyNode>, hash: string, params: number, seed: number): Promise<{ loss: number; accuracy: number } | null> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return null;
  const root = tree.jobs.get(tree.root)!;
  const holders = [root.host, ...root.workers].map((m) => nodes.get(m)).filter((n): n is CanopyNode => n !== undefined);
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const node of holders) {
      if (await node.store.blobs.has(hash)) return syntheticEvaluate(decodeSyntheticParams(await node.store.blobs.get(hash)), { params, seed });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** Client and worker machines of the tree: what `agreeing` counts out of. */
function memberMachines(tree: JobTree): number {
  let n = 0;
  for (const m of allMembers(tree)) n += rolesOf(tree, m).filter((r) => r.role === 'client' || r.role === 'worker').length;
  return n;
}
