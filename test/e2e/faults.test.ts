import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCanopyNode, type CanopyLibp2p } from '../../core/src/net/createNode.js';
import { encodeMessage, jobTopic, type Message } from '../../core/src/protocol/index.js';
import { multiaddr } from '@multiformats/multiaddr';
import { closedRounds, leafManifest, startTestCluster, type TestCluster } from './cluster.js';

// One job among real OS processes with every misbehaviour the protocol must absorb at once:
// a client killed mid-round, a worker voting wrong aggregates, a client that refuses
// consent, and a stranger publishing forged, malformed, oversized and replayed (captured,
// genuine) messages on the job's topic. The job must still finish every round.
describe('e2e: faults during a job (separate processes, synthetic compute)', () => {
  let c: TestCluster;
  let rogue: CanopyLibp2p;
  let rootId: string;
  const rogueSent: string[] = [];

  beforeAll(async () => {
    c = await startTestCluster(leafManifest({ distributor: 'dist' }), (name) => {
      const base = ['--compute', 'synthetic'];
      if (name === 'c3') return [...base, '--status-every', '0']; // no consent flag: refuses
      if (name === 'w2') return [...base, '--approve-datasets', '--fault', 'lie-aggregate'];
      // Clients train for a while, so a kill lands mid-round.
      if (name.startsWith('c')) return [...base, '--approve-datasets', '--synthetic-train-ms', '1500'];
      return [...base, '--approve-datasets'];
    });
    rootId = await c.submit();
    // Round 1 closed: kill c2 while round 2 trains.
    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 1);
    await c.kill('c2');

    // A stranger joins the job's topic and publishes junk that looks like protocol traffic.
    rogue = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    await rogue.dial(multiaddr(c.plan.root.addr));
    const topic = jobTopic(rootId, 'e2e');
    // It records a genuine, host-signed state snapshot to replay later, byte for byte.
    let captured: Uint8Array | undefined;
    rogue.services.pubsub.addEventListener('message', (evt) => {
      const m = evt.detail;
      if (captured || m.topic !== topic) return;
      try {
        if ((JSON.parse(new TextDecoder().decode(m.data)) as { type?: string }).type === 'state') captured = m.data;
      } catch {
        // not ours to judge
      }
    });
    rogue.services.pubsub.subscribe(topic);
    const me = rogue.peerId.toString();
    const base = { v: 1, root: rootId, job: 'e2e', round: 2, seq: Date.now() } as const;
    const hb = (sender: string, member: string): Message => ({ ...base, type: 'heartbeat', sender, member, role: 'client', payload: { status: 2, acked: 2, sheetHash: '0'.repeat(64), refused: false, samples: 10 } }) as Message;
    const fakeState = { ...base, type: 'state', sender: 'host', member: 'host', role: 'host', payload: {} };
    const junk: [string, Uint8Array][] = [
      ['non-member', encodeMessage(hb(me, me))],
      ['forged sender', encodeMessage(hb(c.plan.nodes.find((n) => n.name === 'c0')!.peerId, 'c0'))],
      ['forged host state', new TextEncoder().encode(JSON.stringify(fakeState))],
      ['malformed', new TextEncoder().encode('{"v":1,"type":"submit",')],
      ['oversized', new Uint8Array(300 * 1024).fill(0x20)],
      ['wrong round submit', encodeMessage({ ...base, round: 0, type: 'submit', sender: me, member: me, role: 'client', payload: { ref: { hash: 'a'.repeat(64), size: 1 }, base: 'b'.repeat(64), samples: 1, eval: { loss: 1, accuracy: 0, samples: 0 }, train: { loss: 1, accuracy: 0 } } } as Message)],
    ];
    for (let tries = 0; rogue.services.pubsub.getSubscribers(topic).length === 0 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 100));
    for (let tries = 0; !captured && tries < 300; tries++) await new Promise((r) => setTimeout(r, 100));
    expect(captured, 'the stranger saw no state snapshot to replay').toBeDefined();
    // First: each rejection lowers the stranger's peer score, and once it is graylisted the
    // host drops its messages before validating them, so later junk may never be judged.
    junk.unshift(['replayed host state', captured!]);
    for (const [what, bytes] of junk) {
      await rogue.services.pubsub.publish(topic, bytes).catch(() => undefined);
      rogueSent.push(what);
    }
    await c.waitFor('host', (r) => r.msg === 'machine finished' && r.role === 'host', 180_000);
  }, 300_000);

  afterAll(async () => {
    await rogue?.stop();
    await c?.stop();
  });

  it('finishes every round although a client was killed mid-round (the quorum carries it)', () => {
    expect(closedRounds(c)).toEqual([1, 2, 3, 4]);
    const rounds = c.records('host').filter((r) => r.msg === 'round finished');
    // c3 refused and c2 died: later rounds close with the two clients left.
    expect(Number(rounds.at(-1)!.clients), JSON.stringify(rounds.at(-1))).toBe(2);
  });

  it('outvotes the lying worker and excludes it', () => {
    const faults = c.records('host').filter((r) => r.msg === 'metric workerFault');
    expect(faults.length).toBeGreaterThanOrEqual(2);
    expect(faults.every((r) => r.worker === 'w2' || JSON.stringify(r).includes('w2')), JSON.stringify(faults)).toBe(true);
    expect(c.records('host').some((r) => r.msg === 'metric workerExcluded')).toBe(true);
  });

  it('rejects a stranger\'s messages without crashing or changing anything', () => {
    expect(rogueSent).toHaveLength(7);
    const rejected = c.records('host').filter((r) => r.msg === 'gossip message rejected');
    const reasons = rejected.map((r) => String(r.reason));
    expect(reasons.some((x) => /not a client/.test(x)), reasons.join('\n')).toBe(true);
    // The forged heartbeat and the replayed snapshot both claim a sender that did not sign them.
    expect(reasons.filter((x) => /sender is not the signer/.test(x)).length, reasons.join('\n')).toBeGreaterThanOrEqual(2);
    expect(reasons.some((x) => /malformed/.test(x)), reasons.join('\n')).toBe(true);
    expect(rejected.every((r) => r.from === rogue.peerId.toString())).toBe(true);
    expect(c.procs.get('host')!.child.exitCode).toBeNull();
  });

  it('a client that refuses consent fetches no dataset bytes, and records the refusal', async () => {
    const c3 = c.plan.nodes.find((n) => n.name === 'c3')!;
    expect(c.records('c3').some((r) => r.msg === 'consent decided' && r.decision === 'refused')).toBe(true);
    expect(c.records('c3').some((r) => r.msg === 'dataset loaded')).toBe(false);
    const receipts = await readdir(join(c3.dataDir, 'receipts'));
    const texts = await Promise.all(receipts.map((f) => readFile(join(c3.dataDir, 'receipts', f), 'utf8')));
    expect(texts.some((t) => t.includes('"refused"'))).toBe(true);
    // Its blob store holds no dataset chunk (nor the distributor's index).
    const blobs = (await readdir(join(c3.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => [])).filter((d) => d.isFile());
    for (const d of blobs) {
      const f = join(d.parentPath, d.name);
      const text = (await readFile(f)).toString('utf8');
      expect(text.includes('"shard"') || text.includes('"samples"'), `blob ${f} of c3`).toBe(false);
    }
    // And the clients that consented did load their chunks from the distributor.
    expect(c.records('c0').some((r) => r.msg === 'dataset loaded')).toBe(true);
  });
});
