import type { Impairment } from './netLab.js';
import type { Rec } from './netNode.js';
import type { Topology} from './topology.js';
import { roundSeconds } from './topology.js';

// The jobs test:net and bench:net run: each builds its topology on `t`, starts real
// `canopy node` processes, submits a job from a namespace of its own and waits for it.

/** Flags of every job member: synthetic compute with 100,000 parameters, a 400 KB update (over the 128 KiB a relay gives strangers). */
export const NODE_FLAGS = ['--approve-datasets', '--compute', 'synthetic', '--synthetic-params', '100000'];
export const JOB_MS = 420_000;
export const REACH_MS = 180_000;

/** What a job run measured. */
export interface JobRun {
  readonly rounds: Rec[];
  readonly roundSeconds: number[];
}

/** The last record with this message. */
export function last(records: readonly Rec[], msg: string): Rec | undefined {
  return records.filter((r) => r.msg === msg).at(-1);
}

/** A worker's blob traffic (from its last status line): bytes fetched over direct and relayed connections. */
export function blobTraffic(records: readonly Rec[]): { direct: number; relayed: number } {
  const s = last(records, 'node stopped') ?? last(records, 'status');
  return { direct: Number(s?.blobBytesDirect ?? 0), relayed: Number(s?.blobBytesRelayed ?? 0) };
}

/** How many aggregations a worker finished. */
export function aggregations(records: readonly Rec[]): number {
  return records.filter((r) => r.msg === 'task done' && r.task === 'aggregate').length;
}

/** The job of topology 2 with every node in one namespace on 127.0.0.1 (the loopback baseline). */
export async function loopbackJob(t: Topology): Promise<JobRun> {
  const site = await t.lab.loopback('lo');
  const names = ['host', 'w0', 'w1', 'w2', 'c0', 'c1'];
  for (const [i, n] of names.entries()) await t.node(n, site, 4001 + 2 * i);
  const host = t.get('host');
  // As canopy local runs a cluster on one machine: without gossipsub's penalty for many peers on one IP address.
  const flags = [...NODE_FLAGS, '--loopback-cluster', '--bootstrap', host.addr];
  await host.start([...NODE_FLAGS, '--loopback-cluster']);
  await Promise.all(names.slice(1).map((n) => t.get(n).start(flags)));
  // Members named with their loopback addresses, as canopy local writes them (no DHT without NAT traversal).
  const peers = Object.fromEntries(names.map((n) => [n, { peerId: t.get(n).peerId, addresses: [`/ip4/127.0.0.1/tcp/${t.get(n).port}`] }]));
  await t.submit(site, t.manifest(['w0', 'w1', 'w2'], ['c0', 'c1'], { peers }), host.addr);
  const rounds = await t.finished(JOB_MS);
  return { rounds, roundSeconds: roundSeconds(rounds) };
}

/**
 * Topology 2 (and 4 with `impair`): a public relay, host and two workers; one worker (w0) at
 * home A, the clients at home B, both homes behind masquerading routers.
 */
export async function twoHomesJob(t: Topology, impair?: Impairment): Promise<JobRun & { reachableThroughRelayMs: number[]; w0: Rec[] }> {
  const relay = await t.node('relay', await t.lab.publicHost('relay'));
  for (const n of ['host', 'w1', 'w2']) await t.node(n, await t.lab.publicHost(n));
  const homeA = await t.lab.home('ra', '192.168.1', impair);
  const homeB = await t.lab.home('rb', '192.168.2', impair);
  await t.node('w0', await t.lab.homeHost(homeA, 'w0'));
  for (const c of ['c0', 'c1']) await t.node(c, await t.lab.homeHost(homeB, c));
  const submitter = await t.lab.publicHost('sub');
  const network = await t.networkFile([relay]);
  // The relay takes part in no job: its owner vouches for this submitter's jobs.
  await relay.start(['--compute', 'synthetic', '--relay', 'on', '--network', network, '--relay-for-submitter', await t.submitterId()]);
  await Promise.all(['host', 'w1', 'w2', 'w0', 'c0', 'c1'].map((n) => t.get(n).start([...NODE_FLAGS, '--network', network])));
  // Nodes at home are reachable only through the relay; wait until they are, as a user would.
  const reached = await Promise.all(['w0', 'c0', 'c1'].map((n) => t.get(n).waitFor((r) => r.msg === 'reachability' && r.reachability === 'relayed', REACH_MS, 'reachable through a relay')));
  await t.submit(submitter, t.manifest(['w0', 'w1', 'w2'], ['c0', 'c1']), t.get('host').addr);
  const rounds = await t.finished(JOB_MS);
  await t.get('w0').stop();
  return { rounds, roundSeconds: roundSeconds(rounds), reachableThroughRelayMs: reached.map((r) => Number(r.sinceStartMs)), w0: t.get('w0').records };
}

