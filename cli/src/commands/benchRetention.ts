import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '@canopy/core/protocol';
import { startMemoryCluster } from '@canopy/core/runtime';
import { syntheticCompute } from '@canopy/core/compute';
import { createLog } from '@canopy/core/util';

/** What `canopy bench retention` measured: each node's data dir, at its largest and at the end. */
export interface RetentionReport {
  readonly rounds: number;
  readonly keepRounds: number;
  readonly params: number;
  /** Bytes of one parameter blob. */
  readonly blobBytes: number;
  readonly wallSeconds: number;
  readonly stopReason: string;
  readonly nodes: Record<string, { maxBytes: number; endBytes: number }>;
  readonly maxNodeBytes: number;
}

/**
 * Runs a synthetic job of `rounds` rounds on 8 in-process nodes (a host, 3 workers, 4
 * clients) over the memory transport, each with its data dir on disk, and measures every
 * data dir after each round the root closes. Parameters are 2NN-sized (199,210) by default,
 * so a blob is the 2NN's ~800 KB.
 */
export async function benchRetention(o: { rounds: number; keepRounds: number; params: number }): Promise<RetentionReport> {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-bench-retention-'));
  const manifest = validateManifest({
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: 'retention',
    model: { kind: '2nn', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 1, batchSize: 32 },
    consensus: 'majority_2_3',
    stop: { rounds: o.rounds },
    dataset: { source: { kind: 'mnist' } },
    timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 60, quorum: 0.5 },
    cluster: { host: 'host', workers: ['w0', 'w1', 'w2'], clients: ['c0', 'c1', 'c2', 'c3'] },
  });
  const log = createLog('bench', process.env.CANOPY_LOG ?? 'warn');
  const started = Date.now();
  const cluster = await startMemoryCluster(manifest, {
    baseDir: dir,
    node: { consent: { kind: 'approve-all' }, retention: { keepRounds: o.keepRounds }, log },
    perNode: () => ({ compute: syntheticCompute({ params: o.params }) }),
  });
  const nodes: Record<string, { maxBytes: number; endBytes: number }> = {};
  const measure = async () => {
    for (const name of cluster.nodes.keys()) {
      const bytes = await dirBytes(join(dir, name));
      const n = (nodes[name] ??= { maxBytes: 0, endBytes: 0 });
      n.maxBytes = Math.max(n.maxBytes, bytes);
      n.endBytes = bytes;
    }
  };
  try {
    const host = cluster.nodes.get('host')!;
    let measuring = Promise.resolve();
    host.events.on('round:finished', () => {
      measuring = measuring.then(measure);
    });
    const finished = new Promise<string>((resolve) => host.events.on('job:finished', (d) => resolve(d.reason)));
    await cluster.submit();
    const stopReason = await finished;
    await measuring;
    // Members finish a moment after the host; the last sweep runs then.
    await new Promise((r) => setTimeout(r, 3000));
    await measure();
    return {
      rounds: o.rounds,
      keepRounds: o.keepRounds,
      params: o.params,
      blobBytes: 16 + 4 * o.params,
      wallSeconds: (Date.now() - started) / 1000,
      stopReason,
      nodes,
      maxNodeBytes: Math.max(...Object.values(nodes).map((n) => n.maxBytes)),
    };
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
