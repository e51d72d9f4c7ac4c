import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { PeerSpec } from '@canopy/core/protocol';

// `canopy id` as a user runs it (the compiled CLI in its own process), checked against what
// a real `canopy node` on the same data dir and --listen then says it listens on.

const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

interface IdRecord {
  peerId: string;
  dataDir: string;
  created: boolean;
  addresses: { address: string; from: string; portAtStart: boolean; loopback: boolean }[];
  peers: Record<string, { peerId: string; addresses?: string[] }>;
}
const idJson = (...args: string[]) => {
  const r = canopy('id', ...args, '--json');
  expect(r.status, r.stderr).toBe(0);
  return { record: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as IdRecord, stderr: r.stderr };
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `canopy node` and resolves with its "node started" record; stops it after. */
async function nodeStarted(args: string[]): Promise<{ peerId: string; addrs: string[] }> {
  const child = spawn(process.execPath, [bin, 'node', ...args, '--status-every', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "node started" within 60 s:\n${err}`)), 60_000);
      child.stderr!.on('data', (b: Buffer) => {
        err += b.toString('utf8');
        for (const line of err.split('\n')) {
          if (!line.includes('"node started"')) continue;
          clearTimeout(timer);
          resolve(JSON.parse(line) as { peerId: string; addrs: string[] });
        }
      });
      child.once('exit', (code) => reject(new Error(`canopy node exited (${code}) before it started:\n${err}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
}

describe('canopy id', { timeout: 300_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-id-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('creates the identity once, says so, and prints the same peer id every time', () => {
    const dataDir = join(dir, 'fresh');
    const first = idJson('--data-dir', dataDir);
    expect(first.record.peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(first.record.created).toBe(true);
    expect(first.stderr).toContain(`created a new identity in ${join(dataDir, 'peer-key')}`);
    const second = idJson('--data-dir', dataDir);
    expect(second.record).toMatchObject({ peerId: first.record.peerId, created: false });
    expect(second.stderr).toBe('');
  });

  it('prints what canopy node then listens on, with the same peer id, for a fixed port on every interface', async () => {
    const dataDir = join(dir, 'node');
    const port = await freePort();
    const listen = [`/ip4/0.0.0.0/tcp/${port}`, `/ip4/127.0.0.1/tcp/${port + 1}/ws`];
    const { record } = idJson('--data-dir', dataDir, '--listen', ...listen, '--name', 'alice');
    const started = await nodeStarted(['--data-dir', dataDir, '--listen', ...listen]);
    expect(started.peerId).toBe(record.peerId);
    expect(record.addresses.map((a) => a.address).sort()).toEqual(started.addrs.sort());
    expect(record.addresses.find((a) => a.address.startsWith('/ip4/127.0.0.1/tcp/' + String(port) + '/'))).toMatchObject({ loopback: true, portAtStart: false });
    // The peers: entry leaves out what only this machine can dial.
    const dialable = started.addrs.filter((a) => !a.startsWith('/ip4/127.'));
    expect(record.peers).toEqual({ alice: { peerId: record.peerId, ...(dialable.length > 0 ? { addresses: dialable } : {}) } });
  });

  it('prints a peers: entry a manifest accepts, and says when no address can be dialled from elsewhere', () => {
    const r = canopy('id', '--data-dir', join(dir, 'node'), '--name', 'east-c0');
    expect(r.status, r.stderr).toBe(0);
    const peerId = /^peer id +(\S+)$/m.exec(r.stdout)![1]!;
    // The default listens on 127.0.0.1 with ports chosen at start: nothing another machine can dial.
    expect(r.stdout).toMatch(/\/ip4\/127\.0\.0\.1\/tcp\/0\/p2p\/\S+ {2}\(port chosen when the node starts/);
    const yaml = r.stdout.slice(r.stdout.indexOf('peers:'), r.stdout.indexOf('\n\n', r.stdout.indexOf('peers:')));
    const doc = parseDocument(yaml).toJS() as { peers: Record<string, unknown> };
    expect(PeerSpec.parse(doc.peers['east-c0'])).toEqual({ peerId });
    expect(r.stdout).toContain('No address above can be dialled from another machine');
  });

  it.each<[string, string[], RegExp]>([
    ['a listen address that is not a multiaddr', ['--listen', 'tcp:4001'], /^canopy: --listen tcp:4001 is not a multiaddr \(expected e\.g\. \/ip4\/0\.0\.0\.0\/tcp\/4001\)\n$/],
    ['a name a manifest would refuse', ['--name', 'my node'], /^canopy: --name my node: letters, digits and \. _ : @ - only\n$/],
  ])('refuses %s with one line, creating nothing', (_what, args, message) => {
    const dataDir = join(dir, `refused-${args[0]}`);
    const r = canopy('id', '--data-dir', dataDir, ...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses a corrupt key file with one line saying what to do', async () => {
    const dataDir = join(dir, 'corrupt');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'peer-key'), 'not a key');
    const r = canopy('id', '--data-dir', dataDir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`canopy: ${join(dataDir, 'peer-key')} is not a valid libp2p private key; move it away to create a new identity (the node's peer id will change)\n`);
  });
});
