import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../core/src/net/identity.js';
import { CANOPY_BIN, onLogRecords } from '../../cli/src/commands/localProcesses.js';
import type { Site } from './netLab.js';

/** A structured log record a node wrote. */
export type Rec = Record<string, unknown> & { msg?: string; time?: number; level?: number };

/**
 * A real `canopy node` process inside a network namespace (`ip netns exec`), its identity
 * made beforehand so the test knows its peer id, its log kept in memory and in a file.
 */
export class NetNode {
  readonly records: Rec[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly name: string,
    readonly site: Site,
    readonly dataDir: string,
    readonly peerId: string,
    readonly logFile: string,
    readonly port: number,
  ) {}

  /** Prepares a node's data directory and identity. */
  static async prepare(name: string, site: Site, dir: string, port = 4001): Promise<NetNode> {
    const dataDir = join(dir, name);
    const { peerId } = await loadOrCreateIdentity(dataDir);
    return new NetNode(name, site, dataDir, peerId, join(dir, `${name}.log`), port);
  }

  /** Its TCP address with /p2p/<peer id>. */
  get addr(): string {
    return `/ip4/${this.site.ip}/tcp/${this.port}/p2p/${this.peerId}`;
  }

  /** Starts `canopy node` with these extra flags; resolves once it logged "node started". */
  async start(args: readonly string[]): Promise<void> {
    const argv = ['netns', 'exec', this.site.ns, process.execPath, CANOPY_BIN, 'node', '--data-dir', this.dataDir, '--port', String(this.port), '--status-every', '2', ...args];
    const child = spawn('ip', argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CANOPY_LOG: 'info' } });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    const file = createWriteStream(this.logFile, { flags: 'a' });
    child.stderr!.on('data', (chunk: Buffer) => file.write(chunk));
    onLogRecords(child.stderr!, (rec) => {
      this.records.push(rec);
      for (const w of [...this.waiters]) w();
    });
    void this.exited.then(() => {
      file.end();
      for (const w of [...this.waiters]) w();
    });
    // Generous: on a loaded machine a node's start (module loading) has taken over a minute.
    await this.waitFor((r) => r.msg === 'node started', 180_000, 'node started');
  }

  /** The first record matching `match`, waiting up to `timeoutMs`; rejects naming the log file. */
  waitFor(match: (r: Rec) => boolean, timeoutMs: number, what: string): Promise<Rec> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.records.find(match);
        if (hit) {
          done();
          resolve(hit);
        } else if (this.child && this.child.exitCode !== null) {
          done();
          reject(new Error(`${this.name} exited (${this.child.exitCode}) before "${what}"; see ${this.logFile}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no "${what}" within ${timeoutMs / 1000} s; see ${this.logFile}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  /** Kills the process at once (a crashed machine). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGKILL');
    await this.exited;
  }

  /** Kills synchronously (process exit handler). */
  killNow(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Runs a `canopy` command in a namespace; resolves with stdout, rejects with its stderr's last line. */
export function canopyIn(site: Site, args: readonly string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', site.ns, process.execPath, CANOPY_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`canopy ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim().split('\n').pop()}`));
    });
  });
}
