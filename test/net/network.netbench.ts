import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { NetLab, whyNoNamespaces, type Site } from './netLab.js';
import { Topology } from './topology.js';
import { loopbackJob, twoHomesJob } from './scenarios.js';

// `npm run bench:net`: the network figures of docs/DEPLOY.md, as JSON (one line per figure and
// a summary in CANOPY_BENCH_OUT, default bench-net.json). Needs root, like test:net.
//  - time from start to "reachable through a relay" behind NAT (probe nodes at home B);
//  - DCUtR hole punching between home A and home B over a relayed connection, 20 tries;
//  - 64 MiB blob throughput over a direct connection and over a relayed one;
//  - per-round time of the same job on loopback and in topologies 2 and 4.

const why = await whyNoNamespaces();
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
const results: Record<string, unknown> = {};
const report = (name: string, value: unknown) => {
  results[name] = value;
  console.log(JSON.stringify({ [name]: value }));
};

afterAll(async () => {
  if (Object.keys(results).length > 0) await writeFile(process.env.CANOPY_BENCH_OUT ?? 'bench-net.json', `${JSON.stringify(results, null, 2)}\n`);
});

/** A probe process in a namespace; resolves with its first JSON line. */
class Probe {
  readonly lines: Record<string, unknown>[] = [];
  private constructor(readonly proc: ChildProcess) {}

  static start(site: Site, opts: Record<string, unknown>): Probe {
    const proc = spawn('ip', ['netns', 'exec', site.ns, process.execPath, PROBE, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const p = new Probe(proc);
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) p.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    return p;
  }

  /** The first line it prints (its result), failing on an `error` line, an exit or `ms`. */
  async result(ms: number): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    while (this.lines.length === 0) {
      if (this.proc.exitCode !== null) throw new Error(`probe exited ${this.proc.exitCode} without a result`);
      if (Date.now() - t0 > ms) throw new Error(`probe gave no result within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = this.lines[0]!;
    if (r.error) throw new Error(`probe: ${String(r.error)}`);
    return r;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

async function key(): Promise<{ key: string; id: string }> {
  const k = await generateKeyPair('Ed25519');
  return { key: Buffer.from(privateKeyToProtobuf(k)).toString('base64'), id: peerIdFromPrivateKey(k).toString() };
}

it.skipIf(why !== undefined)('probes: reachability through a relay, hole punching, blob throughput direct and relayed', async () => {
  const lab = await NetLab.create('bench');
  const probes: Probe[] = [];
  const start = (site: Site, opts: Record<string, unknown>) => {
    const p = Probe.start(site, opts);
    probes.push(p);
    return p;
  };
  try {
    const relayKey = await key();
    const relaySite = await lab.publicHost('relay');
    const relayAddr = `/ip4/${relaySite.ip}/tcp/4001/p2p/${relayKey.id}`;
    await start(relaySite, { mode: 'relay', key: relayKey.key }).result(60_000);
    const homeA = await lab.home('ra', '192.168.1');
    const homeB = await lab.home('rb', '192.168.2');

    // Reachable through the relay: five nodes at home B, one after the other.
    const reach: number[] = [];
    for (let i = 0; i < 5; i++) {
      const k = await key();
      const p = start(await lab.homeHost(homeB, `r${i}`), { mode: 'target', key: k.key, relay: relayAddr, mib: 1 });
      reach.push(Number((await p.result(150_000)).reachableThroughRelayMs));
      p.kill();
    }
    report('reachableThroughRelayMs', { samples: reach, median: [...reach].sort((a, b) => a - b)[2] });

    // The blob provider at home B, and one on the public network.
    const b = await key();
    const target = await start(await lab.homeHost(homeB, 'b'), { mode: 'target', key: b.key, relay: relayAddr, mib: 64 }).result(150_000);
    const pub = await key();
    const pubSite = await lab.publicHost('pb');
    const pubTarget = await start(pubSite, { mode: 'target', key: pub.key, relay: relayAddr, mib: 64 }).result(150_000);
    const circuit = `${relayAddr}/p2p-circuit/p2p/${b.id}`;

    const punch = await start(await lab.homeHost(homeA, 'a'), { mode: 'punch', key: (await key()).key, target: circuit, tries: 20, waitMs: 10_000 }).result(900_000);
    report('holePunch', { topology: 'home A to home B (masquerade), relayed connection then DCUtR', tries: punch.tries, relayed: punch.relayed, holePunched: punch.holePunched, successRate: Number(punch.holePunched) / Number(punch.tries) });

    const relayed = await start(await lab.homeHost(homeA, 'a2'), { mode: 'fetch', key: (await key()).key, target: circuit, hash: target.hash, runs: 3 }).result(900_000);
    const direct = await start(await lab.publicHost('pa'), { mode: 'fetch', key: (await key()).key, target: `/ip4/${pubSite.ip}/tcp/4001/p2p/${pub.id}`, hash: pubTarget.hash, runs: 3 }).result(900_000);
    expect(relayed.relayed, 'the home-to-home fetch went through the relay').toBe(true);
    expect(direct.relayed, 'the public-to-public fetch was direct').toBe(false);
    report('blob64MiB', { directMBps: direct.MBps, relayedMBps: relayed.MBps });
  } finally {
    for (const p of probes) p.kill();
    await lab.destroy();
  }
});

it.skipIf(why !== undefined)('per-round time of one job: loopback, topology 2, topology 4', async () => {
  const perRound: Record<string, number[]> = {};
  for (const [name, run] of [
    ['loopback', (t: Topology) => loopbackJob(t)],
    ['topology2', (t: Topology) => twoHomesJob(t)],
    ['topology4', (t: Topology) => twoHomesJob(t, { delayMs: 80, loss: 0.02, uplinkMbit: 20 })],
  ] as const) {
    const t = await Topology.create(`b${name.slice(-1)}`);
    try {
      perRound[name] = (await run(t)).roundSeconds;
    } finally {
      await t.close();
    }
  }
  report('roundSeconds', perRound);
});
