import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Log } from '../../util/log.js';
import type { CanopyNode } from '../runtime/canopyNode.js';
import type { ConsentReceipt } from '../consent.js';
import { ConsentLedger } from '../consent.js';
import type { BackendChoice, BackendStatus, LogEntry, OutboxEntry, PeerInfo, TrainingJob } from './contract.js';
import type { OwnerRelay } from './ownerRelay.js';
import { probeBackends, type GpuWindowReport } from './probeBackends.js';
import { selectBackend } from './selectBackend.js';
import { startupBackend } from './appSettings.js';
import type { NodePort, NodePortEvents } from './nodePort.js';
import { TypedEmitter } from '../runtime/events.js';

/** A logger whose lines also reach the app's Logs screen; pass `log` to the CanopyNode. */
export interface AppLog {
  readonly log: Log;
  on(listener: (line: Omit<LogEntry, 'seq'>) => void): () => void;
}

const levels: Record<number, LogEntry['level']> = { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };

/** Creates a pino logger that writes JSON lines to stderr (as the CLI's does) and to the app. */
export function createAppLog(level = process.env.CANOPY_LOG ?? 'info', echo = true): AppLog {
  const emitter = new TypedEmitter<{ line: Omit<LogEntry, 'seq'> }>();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (echo) process.stderr.write(chunk);
      try {
        const { level: n, time, msg, ...fields } = JSON.parse(String(chunk)) as { level: number; time: number; msg?: string } & Record<string, unknown>;
        emitter.emit('line', { at: new Date(time).toISOString(), level: levels[n] ?? 'info', msg: msg ?? '', fields });
      } catch {
        /* a line pino did not write as JSON: nothing to show */
      }
      done();
    },
  });
  return { log: pino({ name: 'node', level, base: undefined }, stream), on: (l) => emitter.on('line', l) };
}

/** Options of {@link canopyNodePort}. */
export interface CanopyNodePortInit {
  readonly version?: string;
  /**
   * The relay whose `consent` and `invite` the node was built with: the app's dialogs then
   * answer for the owner. Without it the node decides by its consent mode and joins every job
   * that names it, and the Invitations screen and the consent dialog stay empty.
   */
  readonly owner?: OwnerRelay;
  /** The logger given to the node, so its lines reach the Logs screen. */
  readonly appLog?: AppLog;
  /** The owner's backend pin the node was started for (kept in the app's settings); default: the node's backend option. */
  readonly pinned?: BackendChoice;
  /** How often job states are sampled from the node's machines. Default 250 ms. */
  readonly pollMs?: number;
  /** What the desktop app's GPU window reported (WebGPU, WebGL), or why there is none. */
  readonly gpuWindow?: GpuWindowReport;
}

/**
 * Adapts the libp2p runtime's {@link CanopyNode} to the {@link NodePort} the app API needs.
 * What the runtime reports as events is forwarded; where it only keeps state (a member's
 * view of its job: stages, round, the last round's metrics), the state is sampled while jobs
 * run and changes are emitted.
 */
export function canopyNodePort(node: CanopyNode, init: CanopyNodePortInit = {}): NodePort & { close(): void } {
  const events = new TypedEmitter<NodePortEvents>();
  const ledger = new ConsentLedger(node.store);
  const lastJob = new Map<string, string>();
  const lastMetric = new Map<string, string>();
  const offs: (() => void)[] = [];
  if (init.appLog) offs.push(init.appLog.on((line) => events.emit('log', line)));

  let pinned: BackendChoice = init.pinned ?? node.options.backend ?? 'auto';
  const candidates = probeBackends(init.gpuWindow);
  let measured: { backend: string; samplesPerSec: number } | undefined;
  let gpu = true;
  const sample = (): void => {
    for (const status of node.jobs()) {
      const runner = node.runner(status.rootId);
      if (!runner) continue;
      for (const m of runner.machineStates()) {
        const s = m.state;
        if (s.role !== 'client' && s.role !== 'worker') continue;
        const host = s.host;
        const job: TrainingJob = {
          rootId: status.rootId,
          job: s.job,
          role: s.role,
          stages: host ? [{ job: s.job, clientStage: host.clientStage, workerStage: host.workerStage, processStage: host.processStage }] : [],
          round: s.hostRound,
          rounds: s.sheet.stop.rounds,
          status: runner.isWithdrawn(s.job) ? 'withdrawn' : memberStatus(s.status, s.done, host?.processStage ?? 0, s.role, s.refused),
          ...memberReason(runner.isWithdrawn(s.job), s.refused, s.stopReason),
        };
        const key = `${status.rootId}/${s.job}/${s.role}`;
        const text = JSON.stringify(job);
        if (lastJob.get(key) !== text) {
          lastJob.set(key, text);
          events.emit('job:update', job);
        }
        const metrics = host?.metrics;
        // The host sets its metrics when it closes a round's training (stage 2): in stages 2
        // and 3 they are this round's, while the next round trains (stage 1) the previous one's.
        const round = host && host.processStage >= 2 ? s.hostRound : s.hostRound - 1;
        if (metrics && round >= 1) {
          const mKey = `${status.rootId}/${s.job}`;
          const mText = `${round}:${metrics.loss}:${metrics.accuracy}`;
          if (lastMetric.get(mKey) !== mText) {
            lastMetric.set(mKey, mText);
            events.emit('round:metrics', { rootId: status.rootId, job: s.job, round, loss: metrics.loss, accuracy: metrics.accuracy, samples: metrics.samples, at: new Date().toISOString() });
          }
        }
      }
    }
  };
  const timer = setInterval(sample, init.pollMs ?? 250);
  timer.unref();
  offs.push(
    node.events.on('job:started', sample),
    node.events.on('machine:finished', sample),
    node.events.on('job:withdrawn', sample),
    node.events.on('task:done', sample),
    // Decisions the runtime recorded: by policy or flag, or a refusal when nobody answered.
    // (The app records and reports the owner's answers itself.)
    node.events.on('consent:recorded', ({ receipt }) => events.emit('consent:recorded', receipt)),
    node.events.on('train:progress', (p) => events.emit('train:progress', p)),
    node.events.on('outbox:sent', (o) => {
      // Heartbeats say only "alive" and a status; the outbox lists what carries content.
      if (o.type === 'heartbeat') return;
      const blobBytes = o.blobs.reduce((sum, b) => sum + b.size, 0);
      events.emit('outbox:sent', { at: new Date().toISOString(), rootId: o.rootId, job: o.job, round: o.round, kind: outboxKind(o.type), bytes: o.bytes + blobBytes, hashes: o.blobs.map((b) => b.hash), recipients: o.recipients });
    }),
    node.events.on('owner:activity', ({ ownerActive }) => events.emit('owner:activity', { ownerActive })),
    node.events.on('backend:measured', (m) => {
      measured = m;
      events.emit('backend:change', backend());
    }),
  );
  const onPeers = () => events.emit('peers:change', undefined);
  node.libp2p.addEventListener('peer:connect', onPeers);
  node.libp2p.addEventListener('peer:disconnect', onPeers);
  // A relay slot taken or an address confirmed changes what the node advertises.
  node.libp2p.addEventListener('self:peer:update', onPeers);

  const backend = (): BackendStatus => {
    if (node.options.compute === 'synthetic') return { active: 'synthetic', pinned, candidates, reason: 'this node computes with synthetic arithmetic (a test cluster)' };
    // tfjs names the native backends 'tensorflow'; say which package it is.
    const configured = node.options.backend ?? 'auto';
    const chosen = selectBackend(candidates, pinned, gpu);
    const running = measured ? (measured.backend === 'tensorflow' ? (candidates[0]!.available ? 'tfjs-node-gpu' : 'tfjs-node') : measured.backend) : chosen.active;
    const pending = startupBackend(pinned) !== configured ? `the pin applies from the node's next start (it now runs with '${configured}')` : undefined;
    const reason = [chosen.reason, pending].filter(Boolean).join('; ');
    return { active: running, pinned, candidates, ...(measured ? { samplesPerSec: measured.samplesPerSec } : {}), ...(reason ? { reason } : {}) };
  };

  return {
    get peerId() {
      return node.peerId;
    },
    version: init.version ?? '0.1.0',
    running: () => true,
    ownerActive: () => node.ownerActive,
    addresses: () => node.multiaddrs(),
    reachability: () => node.reachability(),
    joinNetwork: (network) => node.joinNetwork(network),
    peers: (): PeerInfo[] => {
      const byPeer = new Map<string, string[]>();
      for (const c of node.libp2p.getConnections()) byPeer.set(c.remotePeer.toString(), [...(byPeer.get(c.remotePeer.toString()) ?? []), c.remoteAddr.toString()]);
      return [...byPeer].map(([peerId, addresses]) => ({ peerId, addresses }));
    },
    on: (event, listener) => events.on(event, listener),
    setInvitationHandler: (handler) => init.owner?.setInvitationHandler(handler),
    setConsentHandler: (handler) => init.owner?.setConsentHandler(handler),
    receipts: (): Promise<ConsentReceipt[]> => ledger.list(),
    recordConsent: (request, decision, reason) => ledger.record(request, decision, 'owner', reason),
    withdraw: async (rootId, job, reason) => {
      node.withdraw(rootId, job, reason);
      sample();
    },
    // Threads are fixed when the compute pool starts; the GPU switch steers the choice shown.
    setLimits: async (limits) => {
      gpu = limits.gpu;
      events.emit('backend:change', backend());
    },
    setBackend: async (choice) => {
      pinned = choice;
      const status = backend();
      events.emit('backend:change', status);
      return status;
    },
    backend,
    close() {
      clearInterval(timer);
      for (const off of offs) off();
      node.libp2p.removeEventListener('peer:connect', onPeers);
      node.libp2p.removeEventListener('peer:disconnect', onPeers);
      node.libp2p.removeEventListener('self:peer:update', onPeers);
    },
  };
}

function memberStatus(status: number, done: boolean, processStage: number, role: 'client' | 'worker', refused: boolean): TrainingJob['status'] {
  if (refused) return 'withdrawn';
  if (done || processStage === 3) return 'finished';
  if (status < 2) return status === 0 ? 'joining' : 'waiting-consent';
  if (status === 3) return role === 'client' ? 'training' : 'aggregating';
  if (status === 4) return 'submitted';
  return processStage === 0 ? 'loading-data' : 'waiting';
}

function outboxKind(type: string): OutboxEntry['kind'] {
  if (type === 'submit' || type === 'init-params') return 'parameters';
  if (type === 'aggregate') return 'aggregate';
  if (type === 'ack') return 'ack';
  return 'message';
}

function memberReason(withdrawn: boolean, refused: boolean, stopReason: string | null): { reason?: string } {
  if (withdrawn) return { reason: 'you revoked consent; this node left the job' };
  if (refused) return { reason: 'you declined its dataset; this node does not train in it' };
  return stopReason ? { reason: stopReason } : {};
}
