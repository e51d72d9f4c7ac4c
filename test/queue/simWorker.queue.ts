import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, startRedis, stopProcess, type LocalRedis } from './redisServer.js';

// Acceptance of issue #20 with the real CLI: a real-training scenario on `canopy sim-worker`
// processes through a local redis-server ends with the final hash of the in-process run,
// also when a worker is killed mid-task; a task lost by more workers than the retries allow
// ends the run with an error naming it; and Redis going away ends the run with an error.

const CANOPY = fileURLToPath(new URL('../../cli/bin/canopy.js', import.meta.url));

const SCENARIO = `apiVersion: canopy/v1
kind: Scenario
name: queue-e2e
job:
  model: { kind: mlp, inputShape: [784], numClasses: 10 }
  train: { optimizer: { kind: sgd, lr: 0.05, momentum: 0.9 }, epochs: 8, batchSize: 32, seed: 1 }
  aggregator: { kind: fedavg }
  consensus: majority_2_3
  stop: { rounds: 3 }
  dataset: { source: { kind: mnist, testFraction: 0.2 }, partition: { kind: iid }, seed: 42 }
  timing: { roundDeadlineSeconds: 120, quorum: 1 }
  tree: { depth: 2, fanout: 2, clientsPerLeaf: 3, workersPerCluster: 3, levelTiming: [{ roundDeadlineSeconds: 240 }, { roundDeadlineSeconds: 120 }] }
training: { mode: real, workerThreads: 2 }
seed: 1
`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function canopy(args: readonly string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, [CANOPY, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

function finalHash(dir: string): string {
  const ends = readFileSync(join(dir, 'repetitions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { finalHash: string; queue?: { workers: unknown[]; retriedAfterLoss: number; tasks: number } });
  expect(ends).toHaveLength(1);
  return ends[0]!.finalHash;
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.runIf(redisAvailable())('canopy simulate --queue with canopy sim-worker processes', () => {
  let redis: LocalRedis;
  let dir: string;
  let scenario: string;
  let inProcess: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'canopy-queue-'));
    scenario = join(dir, 'scenario.yaml');
    writeFileSync(scenario, SCENARIO);
    const r = await canopy(['simulate', scenario, '--out', join(dir, 'in-process')]).done;
    expect(r.code, r.stderr).toBe(0);
    inProcess = finalHash(join(dir, 'in-process'));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopProcess(w)));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const startWorker = (env: NodeJS.ProcessEnv = {}) => {
    const w = canopy(['sim-worker', '--queue', redis.url], env);
    workers.push(w.child);
    return w;
  };

  it('two workers: the final hash is the in-process one, and the report says where tasks ran', async () => {
    const a = startWorker();
    const b = startWorker();
    const r = await canopy(['simulate', scenario, '--queue', redis.url, '--out', join(dir, 'two')]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(finalHash(join(dir, 'two'))).toBe(inProcess);
    const end = JSON.parse(readFileSync(join(dir, 'two', 'repetitions.jsonl'), 'utf8')) as { queue: { tasks: number; workers: Array<{ tasks: number }> } };
    expect(end.queue.tasks).toBeGreaterThan(20);
    expect(end.queue.workers.reduce((s, w) => s + w.tasks, 0)).toBe(end.queue.tasks);
    expect(r.stdout).toMatch(/queue: \d+ tasks on [12] worker\(s\)/);
    await Promise.all([stopProcess(a.child), stopProcess(b.child)]);
    expect((await a.done).code).toBe(0);
  });

  it.each([1, 4])('%i worker(s): the final hash is the in-process one', async (n) => {
    const started = Array.from({ length: n }, () => startWorker());
    const out = join(dir, `workers-${n}`);
    const r = await canopy(['simulate', scenario, '--queue', redis.url, '--out', out]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(finalHash(out)).toBe(inProcess);
    await Promise.all(started.map((w) => stopProcess(w.child)));
  });

  it('a worker killed mid-task: its task runs elsewhere and the run ends with the same hash', async () => {
    const victim = startWorker({ CANOPY_LOG: 'debug' });
    const other = startWorker();
    const run = canopy(['simulate', scenario, '--queue', redis.url, '--out', join(dir, 'killed')]);
    // Killed as it starts its third training task (8 epochs: hundreds of milliseconds), so it
    // holds the task's lock when it dies; the retry count below proves it did.
    await until('the victim to start training', () => (victim.stderr().match(/"kind":"train".*"msg":"task started"/g) ?? []).length >= 3, 240_000);
    victim.child.kill('SIGKILL');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(finalHash(join(dir, 'killed'))).toBe(inProcess);
    const end = JSON.parse(readFileSync(join(dir, 'killed', 'repetitions.jsonl'), 'utf8')) as { queue: { retriedAfterLoss: number } };
    expect(end.queue.retriedAfterLoss).toBeGreaterThanOrEqual(1);
    await stopProcess(other.child);
  });

  it('a task lost by three workers in turn ends the run with a clear error after two retries', async () => {
    const own = await startRedis();
    const out = join(dir, 'lost-thrice');
    // One client: its single training task of a round is the one every worker is killed in.
    const one = join(dir, 'one-client.yaml');
    writeFileSync(
      one,
      SCENARIO.replace('epochs: 8', 'epochs: 5').replace('tree: { depth: 2, fanout: 2, clientsPerLeaf: 3, workersPerCluster: 3, levelTiming: [{ roundDeadlineSeconds: 240 }, { roundDeadlineSeconds: 120 }] }', 'tree: { depth: 1, fanout: 1, clientsPerLeaf: 1, workersPerCluster: 1 }'),
    );
    const run = canopy(['simulate', one, '--queue', own.url, '--out', out]);
    try {
      for (let i = 1; i <= 3; i++) {
        const victim = canopy(['sim-worker', '--queue', own.url], { CANOPY_LOG: 'debug' });
        workers.push(victim.child);
        await until(`worker ${i} to start training`, () => /"kind":"train".*"msg":"task started"/.test(victim.stderr()), 120_000);
        victim.child.kill('SIGKILL');
        await victim.done;
      }
      // Live workers find lost tasks (BullMQ's stalled check): this one finds the third loss.
      const last = canopy(['sim-worker', '--queue', own.url]);
      workers.push(last.child);
      const r = await run.done;
      await stopProcess(last.child);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/canopy: the train task of \S+ failed on the queue: it was lost by 3 worker\(s\) that stopped answering \(at most 2 retries; see docs\/SIMULATOR\.md\)\n/);
      const failed = JSON.parse(readFileSync(join(out, 'failed.json'), 'utf8')) as { error: string; roundsRecorded: number };
      expect(failed.error).toMatch(/lost by 3 worker\(s\)/);
      expect(failed.roundsRecorded).toBe(0);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      await own.stop();
    }
  });

  it('Redis going away ends the run with a clear error and a non-zero exit; failed.json says how far it got', async () => {
    const own = await startRedis();
    const w = canopy(['sim-worker', '--queue', own.url]);
    workers.push(w.child);
    const out = join(dir, 'lost');
    const run = canopy(['simulate', scenario, '--queue', own.url, '--out', out]);
    await until('a first round', () => existsSync(join(out, 'rounds.jsonl')) && readFileSync(join(out, 'rounds.jsonl'), 'utf8').includes('"round":1'), 240_000);
    await own.stop();
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/canopy: lost Redis at redis:\/\/127\.0\.0\.1:\d+ for 10 s \(.*\) with \d+ task\(s\) unfinished\n/);
    const failed = JSON.parse(readFileSync(join(out, 'failed.json'), 'utf8')) as { code: string; roundsRecorded: number; lastRound: { round: number } };
    expect(failed.code).toBe('NETWORK');
    expect(failed.roundsRecorded).toBeGreaterThanOrEqual(1);
    expect(failed.lastRound.round).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const wr = await w.done;
    expect(wr.code).toBe(1);
    expect(wr.stderr).toMatch(/canopy: sim-worker .* lost Redis at redis:\/\/127\.0\.0\.1:\d+ for 30 s/);
  });
});
