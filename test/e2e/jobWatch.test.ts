import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leafManifest, startTestCluster, type TestCluster } from './cluster.js';

// `canopy job watch|status` against real `canopy node` processes whose root host is killed
// (SIGKILL) mid-job and started again: watch says how long the root host has been silent,
// and that it is back; status says it cannot hear it; --timeout ends a watch with exit 124.
// The observers dial the host and a worker: the host to fetch the job's submission (an
// observer finds no other way to it), the worker to keep hearing the cluster while the
// host is down.

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'cli/bin/canopy.js');

/** A `canopy` process whose output is collected as it comes. */
interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** Resolves once stderr matches `re` (rejects after `ms`, with what it printed). */
  stderrMatch(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

function run(...args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Running = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    stderrMatch: (re, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = r.stderr.match(re);
          if (!m) return;
          child.stderr!.off('data', check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          child.stderr!.off('data', check);
          reject(new Error(`no ${re} on stderr within ${ms} ms; it printed:\n${r.stderr}`));
        }, ms);
        child.stderr!.on('data', check);
        check();
      }),
  };
  child.stdout!.on('data', (b: Buffer) => (r.stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (r.stderr += b.toString('utf8')));
  return r;
}

const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('e2e: canopy job watch and status when the root host goes silent', { timeout: 240_000 }, () => {
  let c: TestCluster;
  let rootId: string;
  let peers: string[];
  const running: Running[] = [];

  beforeAll(async () => {
    // Rounds of ~2 s and far more of them than the test lasts: the job is mid-way throughout.
    c = await startTestCluster(leafManifest({ clients: ['c0', 'c1'], workers: ['w0'], stop: { rounds: 500 } }), (name) =>
      name.startsWith('c') ? ['--approve-datasets', '--compute', 'synthetic', '--synthetic-train-ms', '1500'] : ['--approve-datasets', '--compute', 'synthetic'],
    );
    peers = ['--peer', c.plan.root.addr, c.plan.nodes.find((n) => n.name === 'w0')!.addr];
    rootId = await c.submit();
    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 1);
  }, 120_000);
  afterAll(async () => {
    for (const r of running) r.child.kill('SIGKILL');
    await c?.stop();
  });

  it('watch warns with the length of the silence when the root host dies, and says when it is back', async () => {
    const watch = run('job', 'watch', rootId, ...peers, '--timeout', '180');
    running.push(watch);
    // Following: its progress lines name the rounds.
    await watch.stderrMatch(/rounds \d+\/500 round \d+/);
    await c.kill('host');
    const [, seconds, round] = (await watch.stderrMatch(/warning: root host host \(12D3\w+\) not heard from for (\d+) s \(last seen at round (\d+), \w+\); it may have stopped, or this peer lost its way to it/))!;
    expect(Number(seconds)).toBeGreaterThanOrEqual(8);
    expect(Number(round)).toBeGreaterThanOrEqual(1);

    // Status cannot find the job at all now: the announcements stopped with the host.
    const status = canopy('job', 'status', rootId, ...peers, '--wait', '1');
    expect(status.status, status.stderr).toBe(1);
    expect(status.stderr).toMatch(new RegExp(`\ncanopy: no announcement of job ${rootId} reached this peer within 11 s: its root host has not been heard from\\. Check the name, and that the root host is running and reachable from --peer\\n$`));

    await c.restart('host');
    const [, back] = (await watch.stderrMatch(/root host host \(12D3\w+\) is heard from again, after (\d+) s of silence/))!;
    expect(Number(back)).toBeGreaterThanOrEqual(Number(seconds));
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(130);
  });

  it('status says when the root host was last heard, and watch --timeout gives up with exit status 124 saying where the job was', async () => {
    // Both at once: each spends most of its time waiting.
    const status = run('job', 'status', rootId, ...peers, '--json');
    const watch = run('job', 'watch', rootId, ...peers, '--timeout', '12');
    running.push(status, watch);
    expect(await status.exited, status.stderr).toBe(0);
    const record = JSON.parse(status.stdout.trim().split('\n').at(-1)!) as { rootHost: { member: string; peerId: string; lastHeardSecondsAgo: number; silent: boolean } };
    expect(record.rootHost).toEqual({ member: 'host', peerId: c.plan.root.peerId, lastHeardSecondsAgo: expect.any(Number) as number, silent: false });
    expect(record.rootHost.lastHeardSecondsAgo).toBeLessThan(4);
    expect(await watch.exited, watch.stderr).toBe(124);
    expect(watch.stderr).toMatch(new RegExp(`canopy: gave up watching job ${rootId} after --timeout 12 s: it was at round \\d+ of 500 \\(\\w+\\); its root host was last heard from \\d s ago\\n$`));
  });
});
