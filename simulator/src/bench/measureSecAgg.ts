import { cpuUsage } from 'node:process';
import { defaultNeighbours, dequantise, derivedRandomness, quantisationScale, quantise, ringAdd, runLocalRound, thresholdFor, type DropPoint, type SecAggRound } from '@canopy/core/protocol';
import { Rng } from '@canopy/core/util';

// The cost of one SecAgg+ round against a plain round of the same cluster, in one process
// (issue #17's benchmark): payload bytes per client and compute time per party, every message
// built and passed as the bytes a network would carry. Plain: each client uploads its update as
// float32 and downloads the global model; the workers add float vectors. Secure: the same
// download, plus keys, sealed shares, the masked vector (uint32) and reveals; the workers add in
// the ring and remove the masks.

export interface SecAggBenchOptions {
  clients: number;
  /** Ring elements per update (parameters of the model). */
  params: number;
  /** Fraction of clients that drop out, and when. */
  dropFraction?: number;
  dropPoint?: DropPoint;
  /** k; default {@link defaultNeighbours}. */
  neighbours?: number;
  /** Threshold as a fraction of k (default 0.5). */
  thresholdFraction?: number;
  seed?: number;
}

/** One measurement: bytes and client times are means over the clients that took part in every step. */
export interface SecAggMeasurement {
  readonly clients: number;
  readonly params: number;
  readonly neighbours: number;
  readonly threshold: number;
  readonly dropped: number;
  readonly dropPoint: DropPoint;
  readonly secure: {
    readonly sentBytesPerClient: number;
    readonly receivedBytesPerClient: number;
    readonly clientMsMean: number;
    readonly clientMsMax: number;
    readonly serverMs: number;
    readonly wallSeconds: number;
    readonly cpuSeconds: number;
  };
  readonly plain: {
    readonly sentBytesPerClient: number;
    readonly receivedBytesPerClient: number;
    readonly serverMs: number;
  };
  /** secure / plain: upload only, and upload plus download. */
  readonly ratioSent: number;
  readonly ratioTotal: number;
  /** The unmasked ring sum equals the ring sum of the survivors' quantised updates. */
  readonly exact: boolean;
  /** Largest |dequantised secure sum − float sum| over the coordinates. */
  readonly maxAbsError: number;
}

/** Runs one secure round and the plain baseline on the same updates, and measures both. */
export async function measureSecAgg(o: SecAggBenchOptions): Promise<SecAggMeasurement> {
  const n = o.clients;
  const L = o.params;
  const rng = Rng.fromSeed(o.seed ?? 1);
  const members = Array.from({ length: n }, (_, i) => `client-${String(i).padStart(5, '0')}`);
  const k = o.neighbours ?? defaultNeighbours(n);
  const round: SecAggRound = { context: `bench|1`, neighbours: k, threshold: thresholdFor(Math.min(k, n - 1), o.thresholdFraction ?? 0.5), graphSeed: o.seed ?? 1, length: L };
  // updates in [-1, 1]; the scale keeps a sum of n of them inside the ring
  const updates = members.map(() => Float32Array.from({ length: L }, () => rng.float() * 2 - 1));
  const scale = quantisationScale(n);
  const dropPoint = o.dropPoint ?? 'beforeMask';
  const drops = new Map<string, DropPoint>(rng.sample(n, Math.floor((o.dropFraction ?? 0) * n)).map((i) => [members[i]!, dropPoint]));

  // plain: the workers' float sum of every update that arrives
  const arrives = (m: string): boolean => !drops.has(m) || dropPoint === 'beforeReveal';
  const p0 = performance.now();
  const plainSum = new Float64Array(L);
  members.forEach((m, i) => {
    if (!arrives(m)) return;
    const u = updates[i]!;
    for (let j = 0; j < L; j++) plainSum[j]! += u[j]!;
  });
  const plainMs = performance.now() - p0;

  const quantiseMs = new Map<string, number>();
  const inputs = new Map(
    members.map((m, i) => {
      const t0 = performance.now();
      const q = quantise(updates[i]!, scale, 1);
      quantiseMs.set(m, performance.now() - t0);
      return [m, q];
    }),
  );
  const cpu0 = cpuUsage();
  const w0 = performance.now();
  const res = await runLocalRound(round, inputs, { randomness: (m) => derivedRandomness(`bench-${o.seed ?? 1}`, m), drops, clock: () => performance.now() });
  const wallSeconds = (performance.now() - w0) / 1000;
  const cpu = cpuUsage(cpu0);
  if ('error' in res.outcome) throw res.outcome.error;
  const d0 = performance.now();
  const secureSum = dequantise(res.outcome.sum, scale);
  const serverMs = res.ms.server + (performance.now() - d0);

  const expected = new Uint32Array(L);
  for (const m of res.u3) ringAdd(expected, inputs.get(m)!);
  let exact = true;
  for (let j = 0; j < L; j++) if (expected[j] !== res.outcome.sum[j]) exact = false;
  let maxAbsError = 0;
  for (let j = 0; j < L; j++) maxAbsError = Math.max(maxAbsError, Math.abs(secureSum[j]! - plainSum[j]!));

  // each client also downloads the global model, in both kinds of round
  const model = 4 * L;
  const takers = members.filter((m) => !drops.has(m));
  const mean = (f: (m: string) => number): number => takers.reduce((s, m) => s + f(m), 0) / takers.length;
  const sent = mean((m) => res.bytes.get(m)!.sent);
  const received = mean((m) => res.bytes.get(m)!.received) + model;
  const clientMs = takers.map((m) => res.ms.clients.get(m)! + quantiseMs.get(m)!);
  return {
    clients: n,
    params: L,
    neighbours: Math.min(k % 2 === 0 ? k : k + 1, n - 1),
    threshold: round.threshold,
    dropped: drops.size,
    dropPoint,
    secure: {
      sentBytesPerClient: Math.round(sent),
      receivedBytesPerClient: Math.round(received),
      clientMsMean: clientMs.reduce((s, x) => s + x, 0) / clientMs.length,
      clientMsMax: Math.max(...clientMs),
      serverMs,
      wallSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    },
    plain: { sentBytesPerClient: model, receivedBytesPerClient: model, serverMs: plainMs },
    ratioSent: sent / model,
    ratioTotal: (sent + received) / (2 * model),
    exact,
    maxAbsError,
  };
}
