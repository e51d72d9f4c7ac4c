import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs a command, throwing one line with the command and its stderr on failure. */
export async function sh(cmd: string, args: readonly string[], input?: string): Promise<string> {
  try {
    if (input !== undefined) {
      return await new Promise<string>((resolve, reject) => {
        const child = execFile(cmd, [...args], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
        child.stdin!.end(input);
      });
    }
    return (await run(cmd, [...args], { timeout: 20_000 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

/** Why namespaces cannot be made here (not root, no `ip`/`nft`), or undefined when they can. */
export async function whyNoNamespaces(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  for (const tool of ['ip', 'nft', 'tc', 'ethtool', 'python3']) {
    try {
      await run('which', [tool]);
    } catch {
      return `${tool} is missing (apt-get install -y iproute2 nftables ethtool python3)`;
    }
  }
  return undefined;
}

/** A node's place in a topology: its namespace and its address there. */
export interface Site {
  readonly ns: string;
  readonly ip: string;
}

/** How a home's access link is impaired, as netem on its router's WAN would do (this kernel has no netem). */
export interface Impairment {
  /** Delay added to every frame leaving the home, in ms. */
  readonly delayMs: number;
  /** Fraction of frames leaving the home that are dropped. */
  readonly loss: number;
  /** Uplink rate in Mbit/s (tbf on the router's WAN). */
  readonly uplinkMbit: number;
}

const WIRE = fileURLToPath(new URL('./wire.py', import.meta.url));

/** A home: a router doing masquerade between its LAN and the public network. */
export interface Home {
  readonly router: string;
  readonly wanIp: string;
  readonly lanPrefix: string;
  hosts: number;
}

/** The public network's prefix: not a private range, so libp2p and AutoNAT treat it as public; it exists only inside these namespaces. */
export const PUBLIC_PREFIX = '11.0.0';

/**
 * Linux network namespaces for one test topology, all named `cnp-<pid>-<tag>-…`: a public
 * network (a bridge in its own namespace), public hosts on it, and homes whose routers
 * masquerade with nftables. Nothing is made in the root namespace: every veth pair is created
 * from inside a namespace. `destroy()` deletes every namespace it made (their links and rules
 * go with them); `sweepStale()` removes those of runs whose process is gone.
 */
export class NetLab {
  private readonly made: string[] = [];
  private readonly wires: ChildProcess[] = [];
  private readonly prefix: string;
  private readonly inet: string;
  private nextPublic = 10;
  private nextRouter = 200;
  private link = 0;

  private constructor(
    tag: string,
    private readonly publicPrefix: string,
  ) {
    this.prefix = `cnp-${process.pid}-${tag}-`;
    this.inet = `${this.prefix}inet`;
  }

  /** Makes the shared network (`publicPrefix.0/24`, default the public {@link PUBLIC_PREFIX}). */
  static async create(tag: string, publicPrefix = PUBLIC_PREFIX): Promise<NetLab> {
    const lab = new NetLab(tag, publicPrefix);
    // Namespaces outlive the process that made them: remove them however the run ends.
    process.once('exit', () => lab.destroyNow());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        lab.destroyNow();
        process.exit(1);
      });
    }
    try {
      await lab.namespace('inet');
      await sh('ip', ['-n', lab.inet, 'link', 'add', 'br0', 'type', 'bridge']);
      await sh('ip', ['-n', lab.inet, 'link', 'set', 'br0', 'up']);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Deletes namespaces `cnp-<pid>-…` left by test processes that no longer run. */
  static async sweepStale(): Promise<void> {
    const list = await sh('ip', ['netns', 'list']).catch(() => '');
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const m = /^cnp-(\d+)-/.exec(name);
      if (!m) continue;
      let alive = true;
      try {
        process.kill(Number(m[1]), 0);
      } catch {
        alive = false;
      }
      if (!alive) await sh('ip', ['netns', 'del', name]).catch(() => undefined);
    }
  }

  /** Every namespace this lab made (for checks and cleanup). */
  get namespaces(): readonly string[] {
    return this.made;
  }

  /** A namespace of its own with only its loopback interface (every node in it on 127.0.0.1). */
  async loopback(name: string): Promise<Site> {
    return { ns: await this.namespace(name), ip: '127.0.0.1' };
  }

  /** A host on the public network. */
  async publicHost(name: string): Promise<Site> {
    const ns = await this.namespace(name);
    const ip = `${this.publicPrefix}.${this.nextPublic++}`;
    await this.plug(this.inet, 'br0', ns, `${ip}/24`);
    return { ns, ip };
  }

  /**
   * A home: its router's WAN side on the public network, its LAN `lanPrefix.0/24` behind
   * masquerade. With `impair`, the WAN reaches the public network through a wire namespace
   * whose forwarder (wire.py) delays and drops frames leaving the home, and tbf limits the uplink.
   */
  async home(name: string, lanPrefix: string, impair?: Impairment): Promise<Home> {
    const router = await this.namespace(name);
    const wanIp = `${this.publicPrefix}.${this.nextRouter++}`;
    if (impair) await this.impairedWan(name, router, `${wanIp}/24`, impair);
    else await this.plug(this.inet, 'br0', router, `${wanIp}/24`, 'wan');
    await sh('ip', ['-n', router, 'link', 'add', 'lan', 'type', 'bridge']);
    await sh('ip', ['-n', router, 'addr', 'add', `${lanPrefix}.1/24`, 'dev', 'lan']);
    await sh('ip', ['-n', router, 'link', 'set', 'lan', 'up']);
    await sh('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // A home router: masquerade what leaves through the WAN, let replies back in, nothing else.
    await sh('ip', ['netns', 'exec', router, 'nft', '-f', '-'], [
      'table ip nat {',
      '  chain postrouting { type nat hook postrouting priority srcnat; oifname "wan" masquerade; }',
      '}',
      'table ip filter {',
      '  chain forward { type filter hook forward priority filter; policy drop;',
      '    iifname "lan" oifname "wan" accept',
      '    ct state established,related accept',
      '  }',
      '}',
    ].join('\n'));
    return { router, wanIp, lanPrefix, hosts: 10 };
  }

  /** A host on a home's LAN, routed through its router. */
  async homeHost(home: Home, name: string): Promise<Site> {
    const ns = await this.namespace(name);
    const ip = `${home.lanPrefix}.${home.hosts++}`;
    await this.plug(home.router, 'lan', ns, `${ip}/24`);
    await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${home.lanPrefix}.1`]);
    return { ns, ip };
  }

  // router:wan <-> wire:wa  [wire.py: delay and loss wa->wb]  wire:wb <-> inet:br0. Offloads off
  // on every end, so the kernel hands the forwarder frames of at most the MTU with their
  // checksums filled in (a veth leaves them to the receiver, which a copied frame cannot be).
  private async impairedWan(name: string, router: string, cidr: string, impair: Impairment): Promise<void> {
    const wire = await this.namespace(`${name}-wire`);
    await sh('ip', ['-n', router, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', 'wa', 'netns', wire]);
    const side = `v${this.link++}`;
    await sh('ip', ['-n', this.inet, 'link', 'add', side, 'type', 'veth', 'peer', 'name', 'wb', 'netns', wire]);
    await sh('ip', ['-n', this.inet, 'link', 'set', side, 'master', 'br0', 'up']);
    for (const [ns, dev] of [[router, 'wan'], [this.inet, side], [wire, 'wa'], [wire, 'wb']] as const) {
      await sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      await sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    await sh('ip', ['-n', router, 'addr', 'add', cidr, 'dev', 'wan']);
    const proc = spawn('ip', ['netns', 'exec', wire, 'python3', WIRE, '--a', 'wa', '--b', 'wb', '--delay-ms', String(impair.delayMs), '--loss', String(impair.loss), '--max-seconds', '3600'], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.wires.push(proc);
    await sh('ip', ['netns', 'exec', router, 'tc', 'qdisc', 'add', 'dev', 'wan', 'root', 'tbf', 'rate', `${impair.uplinkMbit}mbit`, 'burst', '32kbit', 'latency', '400ms']);
  }

  /** Deletes every namespace this lab made; links, addresses and nftables rules go with them. */
  async destroy(): Promise<void> {
    for (const w of this.wires.splice(0)) w.kill('SIGKILL');
    for (const ns of this.made.splice(0).reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
  }

  /** The same, synchronously (a process exiting on an error). */
  destroyNow(): void {
    for (const w of this.wires.splice(0)) w.kill('SIGKILL');
    for (const ns of this.made.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  private async namespace(name: string): Promise<string> {
    const ns = `${this.prefix}${name}`;
    await sh('ip', ['netns', 'add', ns]);
    this.made.push(ns);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  // A veth pair made inside `bridgeNs`: one end on its bridge, the other moved into `ns` as
  // `ifname` with address `cidr`.
  private async plug(bridgeNs: string, bridge: string, ns: string, cidr: string, ifname = 'eth0'): Promise<void> {
    const side = `v${this.link++}`;
    await sh('ip', ['-n', bridgeNs, 'link', 'add', side, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    await sh('ip', ['-n', bridgeNs, 'link', 'set', side, 'master', bridge, 'up']);
    await sh('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
    await sh('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
  }
}
