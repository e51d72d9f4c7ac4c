import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parseManifest } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import { testClusters } from './testing.js';

// PROTOCOL.md §6.14 among real runtime nodes (libp2p, gossipsub, blob exchange) in one process:
// each leaf's workers open the noise key the host sealed to them, add the same noise, and
// agree by hash; the leaf hosts report ε every round.
describe('a DP job over the memory transport', () => {
  const clusters = testClusters('dp');
  afterEach(() => clusters.stopAll());

  it('runs the DP example to the end with synthetic compute: one final hash, no worker dissent, ε per leaf round', async () => {
    const text = await readFile(new URL('../../../../examples/jobs/mnist-2level-dp.yaml', import.meta.url), 'utf8');
    const manifest = parseManifest(text.replace('heartbeatSeconds: 5', 'heartbeatSeconds: 1').replace('rounds: 5', 'rounds: 2'));
    const cluster = await clusters.start(manifest, { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'warn') } });
    const finished = new Map<string, string | null>();
    const leafRounds: { job: string; round: number; epsilon: unknown }[] = [];
    const dissent: string[] = [];
    for (const [name, node] of cluster.nodes) {
      node.events.on('machine:finished', (d) => finished.set(`${name}/${d.role}:${d.job}`, d.final?.hash ?? null));
      node.events.on('round:finished', (d) => {
        if (d.job !== 'mnist-2level-dp') leafRounds.push({ job: d.job, round: d.round, epsilon: d.values.epsilon });
      });
      node.events.on('metric', (d) => {
        if (d.name === 'workerFault' || d.name === 'consensusFailed') dissent.push(`${d.job} round ${d.round}: ${d.name} ${JSON.stringify(d.values)}`);
      });
    }
    const rootNode = cluster.nodes.get('root-host')!;
    const rootId = await cluster.submit();
    await rootNode.events.once('job:finished', (d) => d.rootId === rootId);
    expect(dissent).toEqual([]);
    // A member that fell behind under load may finish a moment after the root host does.
    const members = () => [...finished.keys()].filter((k) => /\/(client|worker):/.test(k)).length;
    for (let waited = 0; members() < 15 && waited < 60_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
    const memberFinals = [...finished.entries()].filter(([k]) => /\/(client|worker):/.test(k));
    expect(memberFinals.length).toBe(6 + 9);
    expect(new Set(memberFinals.map(([, h]) => h)).size, JSON.stringify([...finished])).toBe(1);
    // Each leaf ran 2 rounds, ε rising (q = 1, σ = 0.002: huge, but finite and rising).
    for (const job of ['mnist-2level-dp#0', 'mnist-2level-dp#1']) {
      const eps = leafRounds.filter((r) => r.job === job).map((r) => r.epsilon as number);
      expect(eps, job).toHaveLength(2);
      expect(eps[0]!, job).toBeGreaterThan(0);
      expect(eps[1]!, job).toBeGreaterThan(eps[0]!);
    }
    const host = rootNode.runner(rootId)!.rootHostState()!;
    expect(host.stopReason).toMatch(/rounds: 2/);
  }, 300_000);
});
