import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parseManifest } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import { smallJob, testClusters } from './testing.js';

// Whole jobs among real runtime nodes (real libp2p, gossipsub, blob exchange, stores) in
// one process over the memory transport.
describe('runtime over the memory transport', () => {
  const clusters = testClusters('rt');
  afterEach(() => clusters.stopAll());

  it('runs the 2-level example to the end with synthetic compute; every member ends with the same final hash', async () => {
    const text = await readFile(new URL('../../../../examples/jobs/mnist-2level.yaml', import.meta.url), 'utf8');
    const manifest = parseManifest(text.replace('heartbeatSeconds: 5', 'heartbeatSeconds: 1').replace('rounds: 5', 'rounds: 3'));
    const cluster = await clusters.start(manifest, { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'warn') } });
    const rootNode = cluster.nodes.get('root-host')!;
    const finished = new Map<string, string | null>();
    const rounds: number[] = [];
    for (const [name, node] of cluster.nodes) {
      node.events.on('machine:finished', (d) => finished.set(`${name}/${d.role}:${d.job}`, d.final?.hash ?? null));
    }
    rootNode.events.on('round:finished', (d) => {
      if (d.job === 'mnist-2level') rounds.push(d.round);
    });
    // §11: a host names only parameter blobs it already holds, so a first request to it never gets not_found.
    const named: Promise<string | null>[] = [];
    for (const name of ['root-host', 'east-host', 'west-host']) {
      const node = cluster.nodes.get(name)!;
      node.events.on('host:gossiped', (d) => {
        if (d.named) named.push(node.blobs.store.has(d.named.hash).then((has) => (has ? null : `${name} named ${d.type} ${d.named!.hash.slice(0, 12)} of round ${d.round} before holding it`)));
      });
    }
    const rootId = await cluster.submit();
    await rootNode.events.once('job:finished', (d) => d.rootId === rootId);
    const notHeld = (await Promise.all(named)).filter((x) => x !== null);
    expect(named.length).toBeGreaterThan(10);
    expect(notHeld).toEqual([]);
    expect(rounds).toEqual([1, 2, 3]);
    // Every client and worker finishes (hosts linger until members report status 5).
    const memberFinals = [...finished.entries()].filter(([k]) => /\/(client|worker):/.test(k));
    expect(memberFinals.length).toBe(6 + 9);
    const finals = new Set(memberFinals.map(([, h]) => h));
    expect(finals.size, JSON.stringify([...finished])).toBe(1);
    expect([...finals][0]).toMatch(/^[0-9a-f]{64}$/);
    const host = rootNode.runner(rootId)!.rootHostState()!;
    expect(host.processStage).toBe(3);
    expect(host.stopReason).toMatch(/rounds: 3/);
  }, 120_000);

  it("refuses a job whose manifest names the other parameter format, saying which and how to run it; takes one that names the node's own", async () => {
    const wrong = await clusters.start(smallJob('fmt-wrong', { parameterFormat: 'cnpy' }), { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    await expect(wrong.submit()).rejects.toThrow(/uses parameter format cnpy, but this node's compute \(synthetic\) writes cnsy; run it with --compute ml/);
    const right = await clusters.start(smallJob('fmt-right', { parameterFormat: 'cnsy' }), { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    const rootId = await right.submit();
    await right.nodes.get('host')!.events.once('job:finished', (d) => d.rootId === rootId);
  }, 120_000);

  it('ends the job with the reason when the distributor cannot load its dataset, instead of leaving clients waiting', async () => {
    const text = await readFile(new URL('../../../../examples/jobs/mnist-2level.yaml', import.meta.url), 'utf8');
    const manifest = parseManifest(text.replace('heartbeatSeconds: 5', 'heartbeatSeconds: 1').replace('{ kind: mnist, testFraction: 0.2 }', "{ kind: fashion-mnist, path: '/nonexistent/fashion-mnist' }"));
    expect(manifest.dataset.source).toEqual({ kind: 'fashion-mnist', path: '/nonexistent/fashion-mnist' });
    // Real compute, so preparing reads the (missing) files; no member trains, so no compute thread starts.
    const cluster = await clusters.start(manifest, { node: { compute: 'ml', consent: { kind: 'approve-all' }, log: createLog('node', 'error') } });
    const rootNode = cluster.nodes.get('root-host')!;
    const reasons = new Map<string, string>();
    for (const [name, node] of cluster.nodes) node.events.on('machine:finished', (d) => reasons.set(`${name}/${d.role}:${d.job}`, d.reason));
    const rootId = await cluster.submit();
    const done = await rootNode.events.once('job:finished', (d) => d.rootId === rootId);
    expect(done.reason).toMatch(/^dataset unavailable: .*\/nonexistent\/fashion-mnist/);
    expect(done.final).toBeNull();
    // The reason reaches the clients too: each finishes with it (through its sub-job's stop).
    const clientReasons = [...reasons.entries()].filter(([k]) => /\/client:/.test(k));
    expect(clientReasons.length, JSON.stringify([...reasons])).toBe(6);
    for (const [k, r] of clientReasons) expect(r, k).toMatch(/dataset unavailable/);
  }, 60_000);
});

describe('runtime with real training', () => {
  const clusters = testClusters('rt');
  afterEach(() => clusters.stopAll());

  it('trains the single-cluster example on compute threads; accuracy rises and the host serves the final model', async () => {
    const text = await readFile(new URL('../../../../examples/jobs/single-cluster.yaml', import.meta.url), 'utf8');
    const manifest = parseManifest(`${text.replace('rounds: 3', 'rounds: 2')}\ntiming: { heartbeatSeconds: 1 }\n`);
    const cluster = await clusters.start(manifest, { node: { compute: 'ml', backend: 'wasm', consent: { kind: 'approve-all' }, log: createLog('node', 'warn') } });
    const host = cluster.nodes.get('laptop')!;
    const accuracies: number[] = [];
    host.events.on('round:finished', (d) => accuracies.push(Number(d.values.accuracy)));
    const rootId = await cluster.submit();
    const done = await host.events.once('job:finished', (d) => d.rootId === rootId);
    expect(accuracies).toHaveLength(2);
    // Round 1 evaluates the untrained model (about 10 %); round 2 the model after one round of training.
    expect(accuracies[1]!, JSON.stringify(accuracies)).toBeGreaterThan(Math.max(0.5, accuracies[0]!));
    expect(done.final).not.toBeNull();
    expect(await host.store.blobs.has(done.final!.hash)).toBe(true);
  }, 180_000);
});
