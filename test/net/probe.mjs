// A libp2p node on Canopy's stack (createCanopyNode: TCP, Noise, yamux, circuit relay v2,
// AutoNAT v2, DCUtR, the blob exchange) for the network benchmarks, run inside a namespace
// by bench.netbench.ts. One JSON object per line on stdout; runs until its work is done
// (dialer) or it is killed (relay, target). Usage: node probe.mjs '<json options>'.
//   {mode:'relay', key}                           a dedicated relay carrying anyone without limits
//   {mode:'target', key, relay, mib}              reserve a slot on `relay`, serve one random blob
//   {mode:'punch', key, target, tries, waitMs}    dial `target` through the relay `tries` times,
//                                                 each time waiting for DCUtR to open a direct connection
//   {mode:'fetch', key, target, hash, runs}       fetch the blob from `target` `runs` times, MB/s each
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { createCanopyNode, fetchBlob, serveBlobs } from '@canopy/core/net';
import { BlobStore } from '@canopy/core/storage';

const opts = JSON.parse(process.argv[2] ?? '{}');
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const started = performance.now();
const privateKey = opts.key ? privateKeyFromProtobuf(Buffer.from(opts.key, 'base64')) : undefined;
const isCircuit = (c) => c.remoteAddr.toString().includes('/p2p-circuit');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = await mkdtemp(join(tmpdir(), `canopy-probe-${opts.mode}-`));
process.once('SIGTERM', () => void rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));

const node = await createCanopyNode({
  ...(privateKey ? { privateKey } : {}),
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  nat: { relayServer: opts.mode === 'relay' ? 'on' : 'off', upnp: false, relayPolicy: { unlimited: () => true } },
});

try {
  if (opts.mode === 'relay') {
    say({ ready: true, peerId: node.peerId.toString() });
    await new Promise(() => undefined);
  } else if (opts.mode === 'target') {
    const store = new BlobStore(join(dir, 'blobs'));
    await serveBlobs(node, store);
    const ref = await store.put(randomBytes(opts.mib * 2 ** 20));
    await node.dial(multiaddr(opts.relay));
    const deadline = Date.now() + 120_000;
    while (!node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))) {
      if (Date.now() > deadline) throw new Error('no relay reservation within 120 s');
      await sleep(100);
    }
    say({ ready: true, peerId: node.peerId.toString(), reachableThroughRelayMs: Math.round(performance.now() - started), hash: ref.hash, size: ref.size });
    await new Promise(() => undefined);
  } else if (opts.mode === 'punch') {
    const target = multiaddr(opts.target);
    const id = peerIdFromString(target.getComponents().findLast((c) => c.name === 'p2p').value);
    const tries = [];
    for (let i = 0; i < opts.tries; i++) {
      await Promise.all(node.getConnections(id).map((c) => c.close().catch(() => undefined)));
      await sleep(500);
      const t0 = performance.now();
      try {
        await node.dial(target, { signal: AbortSignal.timeout(20_000) });
      } catch (err) {
        tries.push({ relayed: false, direct: false, err: err.message.split('\n')[0] });
        continue;
      }
      let direct = false;
      while (performance.now() - t0 < opts.waitMs) {
        if (node.getConnections(id).some((c) => !isCircuit(c))) {
          direct = true;
          break;
        }
        await sleep(100);
      }
      tries.push({ relayed: true, direct, ms: Math.round(performance.now() - t0) });
    }
    say({ tries: tries.length, relayed: tries.filter((t) => t.relayed).length, holePunched: tries.filter((t) => t.direct).length, detail: tries });
  } else if (opts.mode === 'fetch') {
    const target = multiaddr(opts.target);
    const id = peerIdFromString(target.getComponents().findLast((c) => c.name === 'p2p').value);
    await node.dial(target, { signal: AbortSignal.timeout(20_000) });
    const speeds = [];
    for (let i = 0; i < opts.runs; i++) {
      const store = new BlobStore(join(dir, `fetch-${i}`));
      const t0 = performance.now();
      const got = await fetchBlob(node, store, { hash: opts.hash }, [id], { maxBytes: 2 ** 31 });
      const s = (performance.now() - t0) / 1000;
      speeds.push(got.size / 1e6 / s);
      await rm(join(dir, `fetch-${i}`), { recursive: true, force: true });
    }
    const relayed = node.getConnections(id).every(isCircuit);
    say({ relayed, runs: speeds.length, MBps: speeds.map((v) => Math.round(v * 10) / 10) });
  } else {
    throw new Error(`unknown mode ${opts.mode}`);
  }
} catch (err) {
  say({ error: err.message.split('\n')[0] });
  process.exitCode = 1;
} finally {
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
