import { mkdtemp, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createCanopyNode, type CanopyLibp2p } from '@canopy/core/net';
import { fetchBlob, serveBlobs } from '@canopy/core/net';
import { BlobStore } from '@canopy/core/storage';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';

/** The baseline's protocol: bytes pushed as fast as the stack takes them, nothing else. */
const RAW_PROTOCOL = '/canopy-bench/raw/1.0.0';
const FRAME_BYTES = 1 << 20;

interface Speeds {
  bestMBps: number;
  meanMBps: number;
  runsMBps: number[];
  /** MB per second of this process's CPU time (both nodes, all threads): steadier on a busy machine. */
  meanMBpsPerCpu: number;
}

interface Run {
  MBps: number;
  MBpsPerCpu: number;
}

// Times one transfer of `bytes` bytes: wall clock, and this process's CPU time.
async function timed(bytes: number, transfer: () => Promise<void>): Promise<Run> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await transfer();
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { MBps: bytes / 1e6 / s, MBpsPerCpu: bytes / 1e6 / ((c.user + c.system) / 1e6) };
}

/**
 * `canopy bench blob`: the blob exchange against a raw libp2p stream, interleaved between the
 * same two nodes in this process (TCP on 127.0.0.1, Noise, yamux).
 */
export function benchBlobCommand(): Command {
  return new Command('blob')
    .summary('blob transfer throughput over TCP loopback against a raw libp2p stream (MB/s)')
    .description(
      'Two libp2p nodes in this process (Noise + yamux over TCP on 127.0.0.1). Each run times, in alternating order: ' +
        '(raw) the same bytes sent from memory over one stream in 1 MiB length-prefixed frames, sha256 computed as they arrive, nothing written; ' +
        '(blob) fetchBlob of the blob from the serving node into a fresh BlobStore: read from disk, sent, verified and written to disk. ' +
        'One untimed warm-up run of each comes first. ratio = blob mean / raw mean (wall clock); cpuRatio = the same per second of this process\'s CPU time; pairRatioMedian = the median over runs of blob ÷ raw within a run.',
    )
    .option('--mib <n>', 'blob size in MiB', intArg(1, 4096), 64)
    .option('--runs <n>', 'timed runs of each (the best and the mean are reported)', intArg(1, 100), 3)
    .option('--json', 'print {mib, runs, raw: {bestMBps, meanMBps, runsMBps}, blob: {…}, ratio, cpuRatio, pairRatioMedian, bestMBps, meanMBps, loadAverage}', false)
    .action(async (flags: { mib: number; runs: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const load0 = loadavg()[0]!;
      const dir = await mkdtemp(join(tmpdir(), 'canopy-bench-blob-'));
      const a = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
      const b = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
      try {
        const bytes = randomBytes(flags.mib * 2 ** 20);
        const provider = new BlobStore(join(dir, 'provider'));
        await serveBlobs(a, provider);
        await serveRaw(a, bytes);
        const ref = await provider.put(bytes);
        await b.dial(a.getMultiaddrs()[0]!);
        let n = 0;
        const raw = (): Promise<Run> =>
          timed(ref.size, async () => {
            const digest = await fetchRaw(b, a, ref.size);
            if (digest !== ref.hash) throw new Error(`raw stream delivered bytes hashing to ${digest}, expected ${ref.hash}`);
          });
        const blob = async (): Promise<Run> => {
          const store = new BlobStore(join(dir, `fetcher-${n++}`));
          const run = await timed(ref.size, async () => {
            await fetchBlob(b, store, ref, [a.peerId], { maxBytes: ref.size });
          });
          await rm(store.dir, { recursive: true, force: true });
          return run;
        };
        await raw();
        await blob();
        const rawRuns: Run[] = [];
        const blobRuns: Run[] = [];
        for (let i = 0; i < flags.runs; i++) {
          // Alternate which goes first so that neither always runs on a warmer (or busier) machine.
          if (i % 2 === 0) {
            rawRuns.push(await raw());
            blobRuns.push(await blob());
          } else {
            blobRuns.push(await blob());
            rawRuns.push(await raw());
          }
          out.say(`run ${i + 1}: raw stream ${rawRuns[i]!.MBps.toFixed(0)} MB/s, blob exchange ${blobRuns[i]!.MBps.toFixed(0)} MB/s (verified, on disk)`);
        }
        const r = summarize(rawRuns);
        const bl = summarize(blobRuns);
        const ratio = round2(bl.meanMBps / r.meanMBps);
        out.say(`raw: best ${r.bestMBps} MB/s, mean ${r.meanMBps} MB/s; blob: best ${bl.bestMBps} MB/s, mean ${bl.meanMBps} MB/s; ratio ${ratio}`);
        out.record({
          mib: flags.mib,
          runs: flags.runs,
          raw: r,
          blob: bl,
          ratio,
          cpuRatio: round2(bl.meanMBpsPerCpu / r.meanMBpsPerCpu),
          // Each run's two transfers ran back to back: their ratio is least disturbed by the load
          // of other processes, which changes from one run to the next.
          pairRatioMedian: round2(median(blobRuns.map((b, i) => b.MBps / rawRuns[i]!.MBps))),
          // The blob exchange's figures, under the names this benchmark has always printed.
          bestMBps: bl.bestMBps,
          meanMBps: bl.meanMBps,
          loadAverage: [round2(load0), round2(loadavg()[0]!)],
        });
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await rm(dir, { recursive: true, force: true });
      }
    });
}

function summarize(runs: Run[]): Speeds {
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
  const speeds = runs.map((r) => r.MBps);
  return {
    bestMBps: Math.round(Math.max(...speeds)),
    meanMBps: Math.round(mean(speeds)),
    runsMBps: speeds.map((s) => Math.round(s)),
    meanMBpsPerCpu: Math.round(mean(runs.map((r) => r.MBpsPerCpu))),
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

// The baseline's sender: on any stream, writes all of `bytes` as varint-length-prefixed frames
// of FRAME_BYTES, waiting for the stream to drain whenever it asks to, then closes.
async function serveRaw(node: CanopyLibp2p, bytes: Uint8Array): Promise<void> {
  await node.handle(RAW_PROTOCOL, async (stream) => {
    try {
      for (let at = 0; at < bytes.byteLength; at += FRAME_BYTES) {
        const frame = bytes.subarray(at, Math.min(at + FRAME_BYTES, bytes.byteLength));
        stream.send(varint(frame.byteLength));
        if (!stream.send(frame)) await stream.onDrain();
      }
      await stream.close();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

// The baseline's receiver: reads the frames as they arrive, hashing each payload byte once,
// and returns the digest of exactly `size` payload bytes.
async function fetchRaw(node: CanopyLibp2p, from: CanopyLibp2p, size: number): Promise<string> {
  const stream = await node.dialProtocol(from.peerId, RAW_PROTOCOL);
  const hash = createHash('sha256');
  let got = 0;
  let frameLeft = 0; // payload bytes left in the current frame
  let header: number[] = []; // varint bytes of the next frame's length, while incomplete
  for await (const data of stream) {
    for (const buf of data instanceof Uint8Array ? [data] : data) {
      let i = 0;
      while (i < buf.byteLength) {
        if (frameLeft === 0) {
          const byte = buf[i++]!;
          header.push(byte);
          if (byte & 0x80) continue;
          frameLeft = header.reduce((len, b, k) => len + (b & 0x7f) * 2 ** (7 * k), 0);
          header = [];
          if (frameLeft > FRAME_BYTES) throw new Error(`raw frame of ${frameLeft} bytes`);
          continue;
        }
        const take = Math.min(frameLeft, buf.byteLength - i);
        hash.update(buf.subarray(i, i + take));
        i += take;
        frameLeft -= take;
        got += take;
      }
    }
  }
  await stream.close();
  if (got !== size || frameLeft !== 0) throw new Error(`raw stream delivered ${got} of ${size} bytes`);
  return hash.digest('hex');
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}
