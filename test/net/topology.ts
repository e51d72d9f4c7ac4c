import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafManifest } from '../e2e/cluster.js';
import { loadOrCreateIdentity } from '../../core/src/net/identity.js';
import type { ManifestInput } from '../../core/src/protocol/manifest.js';
import { NetLab, type Site } from './netLab.js';
import { NetNode, canopyIn, type Rec } from './netNode.js';

/** Job settings every topology runs: a real job with synthetic compute and a model too big for default relay limits. */
export const ROUNDS = 3;

/**
 * One topology under test: its namespaces, its nodes, a scratch directory, and what it
 * takes to run a job on it. `close()` stops every process and removes every namespace and
 * file, whether the test passed or not.
 */
export class Topology {
  readonly nodes = new Map<string, NetNode>();
  private closed = false;

  private constructor(
    readonly lab: NetLab,
    readonly dir: string,
  ) {}

  static async create(tag: string, publicPrefix?: string): Promise<Topology> {
    await NetLab.sweepStale();
    const lab = await NetLab.create(tag, publicPrefix);
    const dir = await mkdtemp(join(tmpdir(), `canopy-net-${tag}-`));
    const t = new Topology(lab, dir);
    process.once('exit', () => t.killNow());
    return t;
  }

  /** Prepares a node (identity made, not started) at `site`. */
  async node(name: string, site: Site, port?: number): Promise<NetNode> {
    const n = await NetNode.prepare(name, site, this.dir, port);
    this.nodes.set(name, n);
    return n;
  }

  get(name: string): NetNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Writes a network file with these bootstrap nodes and relays; returns its path. */
  async networkFile(bootstrap: readonly NetNode[], relays: readonly NetNode[] = []): Promise<string> {
    const file = join(this.dir, 'network.json');
    await writeFile(file, JSON.stringify({ name: 'test', bootstrap: bootstrap.map((n) => n.addr), ...(relays.length > 0 ? { relays: relays.map((n) => n.addr) } : {}) }));
    return file;
  }

  /** The job's manifest: members named by peer id alone (no addresses). */
  manifest(workers: readonly string[], clients: readonly string[], over: Partial<ManifestInput> = {}): ManifestInput {
    const names = ['host', ...workers, ...clients];
    return leafManifest({
      workers: [...workers],
      clients: [...clients],
      // 101,770 parameters: a 400 KB update, over the 128 KiB a relay gives strangers.
      model: { kind: 'mlp', inputShape: [784], numClasses: 10, hidden: [128] },
      stop: { rounds: ROUNDS },
      timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 60, quorum: 1 },
      peers: Object.fromEntries(names.map((n) => [n, { peerId: this.get(n).peerId }])),
      ...over,
    } as Partial<ManifestInput> & { workers: string[]; clients: string[] });
  }

  /** The peer id of the submitter key this topology signs with. */
  async submitterId(): Promise<string> {
    return (await loadOrCreateIdentity(join(this.dir, 'submitter'))).peerId;
  }

  /** Signs and submits the manifest from `from` (a namespace of its own) to `hostAddr`; returns the submitter's peer id line. */
  async submit(from: Site, manifest: ManifestInput, hostAddr: string): Promise<string> {
    const file = join(this.dir, 'manifest.json');
    await writeFile(file, JSON.stringify(manifest));
    return canopyIn(from, ['job', 'submit', file, '--peer', hostAddr, '--key-dir', join(this.dir, 'submitter')]);
  }

  /** Waits until the host finished the root job; returns the host's round records. */
  async finished(timeoutMs: number): Promise<Rec[]> {
    const host = this.get('host');
    const done = await host.waitFor((r) => r.msg === 'machine finished' && r.role === 'host' && r.job === 'e2e', timeoutMs, 'job finished');
    if (!String(done.reason).startsWith('rounds')) throw new Error(`the job stopped for "${String(done.reason)}", not after its rounds; see ${host.logFile}`);
    return host.records.filter((r) => r.msg === 'round finished' && r.job === 'e2e');
  }

  /** Stops every node, deletes every namespace and the scratch directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    await this.lab.destroy();
    if (!process.env.CANOPY_NET_KEEP) await rm(this.dir, { recursive: true, force: true });
  }

  private killNow(): void {
    for (const n of this.nodes.values()) n.killNow();
  }
}

/** Seconds between the host's consecutive round records (and from the first to the job's start). */
export function roundSeconds(rounds: readonly Rec[]): number[] {
  const times = rounds.map((r) => Number(r.time));
  return times.slice(1).map((t, i) => (t - times[i]!) / 1000);
}
