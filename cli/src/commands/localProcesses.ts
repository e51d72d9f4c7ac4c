import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalNodePlan } from '@canopy/core/runtime';

/** The `canopy` executable, so children run the same build as the parent. */
export const CANOPY_BIN = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));

/** A structured log line a child wrote. */
export type LogRecord = Record<string, unknown> & { msg?: string; time?: number; level?: number };

/** A `canopy node` child process and what it reported. */
export interface NodeProcess {
  readonly plan: LocalNodePlan;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves when the node logged "node started"; rejects if it exits first. */
  readonly started: Promise<void>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** The final "node stopped" record (traffic and memory), once it stopped cleanly. */
  stats?: LogRecord;
  readonly tasks: LogRecord[];
  readonly rounds: LogRecord[];
  readonly errors: LogRecord[];
}

/** Options for each child. */
export interface SpawnOptions {
  readonly extraArgs?: readonly string[];
  readonly logDir: string;
}

/** Starts one `canopy node` process for a planned node; its stderr goes to `<logDir>/<name>.log`. */
export async function spawnNode(plan: LocalNodePlan, bootstrap: readonly string[], opts: SpawnOptions): Promise<NodeProcess> {
  await mkdir(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${plan.name}.log`);
  const args = [CANOPY_BIN, 'node', '--data-dir', plan.dataDir, '--listen', plan.listen, '--loopback-cluster', '--status-every', '0', ...(bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : []), ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CANOPY_LOG: process.env.CANOPY_NODE_LOG ?? 'info' } });
  const file: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const proc: NodeProcess = {
    plan,
    child,
    logFile,
    tasks: [],
    rounds: [],
    errors: [],
    started: undefined as unknown as Promise<void>,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))),
  };
  let onStarted: () => void = () => undefined;
  (proc as { started: Promise<void> }).started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    void proc.exited.then((code) => reject(new Error(`node ${plan.name} exited (${code}) before it started; see ${logFile}`)));
  });
  proc.started.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => file.write(chunk));
  onLogRecords(child.stderr!, (rec) => {
    if (rec.msg === 'node started') onStarted();
    else if (rec.msg === 'node stopped') proc.stats = rec;
    else if (rec.msg === 'task done') proc.tasks.push(rec);
    else if (rec.msg === 'round finished') proc.rounds.push(rec);
    if ((rec.level ?? 0) >= 50 && proc.errors.length < 100) proc.errors.push(rec);
  });
  void proc.exited.then(() => file.end());
  return proc;
}

/** Stops children with SIGTERM (they log their stats), then SIGKILL whatever is left after `graceMs`. */
export async function stopNodes(procs: readonly NodeProcess[], graceMs = 15_000): Promise<void> {
  const alive = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  for (const p of alive) p.child.kill('SIGTERM');
  const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
  await Promise.race([Promise.all(alive.map((p) => p.exited)), timer]);
  for (const p of alive) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(alive.map((p) => p.exited));
}

/** Kills children at once, synchronously (process exit). */
export function killNodesNow(procs: readonly NodeProcess[]): void {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

/** Calls `each` with every JSON log record a node writes to `stream`, one per line (other lines are skipped). */
export function onLogRecords(stream: NodeJS.ReadableStream, each: (rec: LogRecord) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const rec = parseLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (rec) each(rec);
    }
  });
}

function parseLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined;
  }
}
