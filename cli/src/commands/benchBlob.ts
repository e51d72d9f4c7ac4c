import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createCanopyNode } from '@canopy/core/net';
import { fetchBlob, serveBlobs } from '@canopy/core/net';
import { BlobStore } from '@canopy/core/storage';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';

/** `canopy bench blob`: data-plane throughput between two libp2p nodes over TCP on 127.0.0.1. */
export function benchBlobCommand(): Command {
  return new Command('blob')
    .summary('blob transfer throughput over TCP loopback (MB/s)')
    .description('Two libp2p nodes in this process (Noise + yamux over TCP on 127.0.0.1): one serves a random blob, the other fetches and verifies it into its store.')
    .option('--mib <n>', 'blob size in MiB', intArg(1, 4096), 64)
    .option('--runs <n>', 'transfers to time (the best and the mean are reported)', intArg(1, 100), 3)
    .option('--json', 'print {mib, runs, bestMBps, meanMBps}', false)
    .action(async (flags: { mib: number; runs: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const dir = await mkdtemp(join(tmpdir(), 'canopy-bench-blob-'));
      const a = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
      const b = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
      try {
        const provider = new BlobStore(join(dir, 'provider'));
        await serveBlobs(a, provider);
        const ref = await provider.put(randomBytes(flags.mib * 2 ** 20));
        await b.dial(a.getMultiaddrs()[0]!);
        const speeds: number[] = [];
        for (let i = 0; i < flags.runs; i++) {
          const store = new BlobStore(join(dir, `fetcher-${i}`));
          const t0 = performance.now();
          await fetchBlob(b, store, ref, [a.peerId], { maxBytes: ref.size });
          const s = (performance.now() - t0) / 1000;
          speeds.push(ref.size / 1e6 / s);
          out.say(`run ${i + 1}: ${flags.mib} MiB in ${s.toFixed(2)} s = ${(ref.size / 1e6 / s).toFixed(0)} MB/s (verified)`);
        }
        const best = Math.max(...speeds);
        const mean = speeds.reduce((x, y) => x + y, 0) / speeds.length;
        out.say(`best ${best.toFixed(0)} MB/s, mean ${mean.toFixed(0)} MB/s`);
        out.record({ mib: flags.mib, runs: flags.runs, bestMBps: Math.round(best), meanMBps: Math.round(mean) });
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await rm(dir, { recursive: true, force: true });
      }
    });
}
