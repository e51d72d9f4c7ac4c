import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanopyNode, type CanopyLibp2p } from '@canopy/core/net';
import { loadOrCreateIdentity } from '@canopy/core/net';
import { BlobPlane, JobObserver, multiaddr } from '@canopy/core/runtime';
import { BlobStore } from '@canopy/core/storage';
import { CanopyError, ErrorCode, createLog, type Log } from '@canopy/core/util';

/** A short-lived peer the CLI uses to talk to a cluster: submit, observe, download. */
export interface ClientPeer {
  readonly libp2p: CanopyLibp2p;
  readonly blobs: BlobPlane;
  readonly observer: JobObserver;
  readonly log: Log;
  stop(): Promise<void>;
}

/**
 * Starts a peer (with the identity in `keyDir`, or a throwaway one) and connects it to the
 * given multiaddrs; fails with a clear message when none of them answers.
 */
export async function startClientPeer(peers: readonly string[], { keyDir, loopbackCluster = false, connectTimeoutMs = 20_000 }: { keyDir?: string; loopbackCluster?: boolean; connectTimeoutMs?: number } = {}): Promise<ClientPeer> {
  if (peers.length === 0) throw new CanopyError(ErrorCode.BadInput, 'no peer to connect to: pass --peer <multiaddr with /p2p/<peer id>> (a node prints its addresses in its "node started" log line)');
  const addrs = peers.map((p) => {
    try {
      return multiaddr(p);
    } catch {
      throw new CanopyError(ErrorCode.BadInput, `--peer ${p} is not a multiaddr (expected e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...)`);
    }
  });
  const log = createLog('cli', process.env.CANOPY_LOG ?? 'warn');
  const scratch = await mkdtemp(join(tmpdir(), 'canopy-cli-'));
  const privateKey = keyDir ? (await loadOrCreateIdentity(keyDir)).privateKey : undefined;
  const libp2p = await createCanopyNode({ ...(privateKey ? { privateKey } : {}), listen: ['/ip4/127.0.0.1/tcp/0'], loopbackCluster });
  const blobs = new BlobPlane(libp2p, new BlobStore(scratch), log);
  await blobs.start();
  const errors: string[] = [];
  let connected = 0;
  // A node busy starting (many processes on few cores) can take a while to answer: retry.
  const deadline = Date.now() + connectTimeoutMs;
  while (connected === 0 && Date.now() < deadline) {
    errors.length = 0;
    await Promise.all(
      addrs.map((a) =>
        libp2p.dial(a, { signal: AbortSignal.timeout(Math.max(1000, Math.min(15_000, deadline - Date.now()))) }).then(
          () => connected++,
          (err: Error) => errors.push(`${a.toString()}: ${err.message}`),
        ),
      ),
    );
    if (connected === 0) await new Promise((r) => setTimeout(r, 1000));
  }
  const observer = new JobObserver(libp2p, blobs, log);
  const stop = async () => {
    observer.stop();
    await libp2p.stop();
    await rm(scratch, { recursive: true, force: true });
  };
  if (connected === 0) {
    await stop();
    throw new CanopyError(ErrorCode.Network, `could not connect to any peer: ${errors.join('; ')}. Is the node running, and is the address right?`);
  }
  return { libp2p, blobs, observer, log, stop };
}

/** Peers from `--peer` flags or the CANOPY_PEER environment variable (comma-separated). */
export function peersFrom(flag: readonly string[] | undefined): string[] {
  if (flag && flag.length > 0) return [...flag];
  return (process.env.CANOPY_PEER ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
