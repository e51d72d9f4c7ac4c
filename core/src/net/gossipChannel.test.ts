import { afterEach, describe, expect, it } from 'vitest';
import { createCanopyNode, type CanopyLibp2p } from './createNode.js';
import { GossipChannel, MAX_GOSSIP_BYTES } from './gossipChannel.js';
import { jobTopic } from '../spec/topics.js';
import type { Verdict } from '../spec/verdict.js';

// Three real libp2p nodes over TCP loopback in one process.
describe('GossipChannel', () => {
  const nodes: CanopyLibp2p[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  async function trio() {
    const made = await Promise.all([0, 1, 2].map(() => createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })));
    nodes.push(...made);
    const [a, b, c] = made as [CanopyLibp2p, CanopyLibp2p, CanopyLibp2p];
    await b.dial(a.getMultiaddrs()[0]!);
    await c.dial(a.getMultiaddrs()[0]!);
    return { a, b, c };
  }

  // Accepts JSON {n: number} from members only; anything else is rejected or ignored.
  function channel(node: CanopyLibp2p, members: Set<string>, got: Array<{ n: number; from: string }>, verdicts: string[] = []) {
    const ch = new GossipChannel<{ n: number }>({
      pubsub: node.services.pubsub,
      topic: jobTopic('job1', 'job1#0'),
      validate: (from, data): Verdict<{ n: number }> => {
        if (!members.has(from)) return { result: 'reject', reason: 'not a member' };
        let v: unknown;
        try {
          v = JSON.parse(new TextDecoder().decode(data));
        } catch {
          return { result: 'reject', reason: 'not JSON' };
        }
        if (typeof (v as { n?: unknown }).n !== 'number') return { result: 'reject', reason: 'bad shape' };
        if ((v as { n: number }).n < 0) return { result: 'ignore', reason: 'stale' };
        return { result: 'accept', reason: 'ok', message: v as { n: number } };
      },
      onMessage: (value, from) => {
        got.push({ ...value, from });
      },
      onVerdict: (v, reason) => verdicts.push(`${v}:${reason}`),
    });
    ch.start();
    return ch;
  }

  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  // Generous: under a loaded test run gossipsub's mesh can take several heartbeats to form.
  const until = async (cond: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('publish waits for subscribers, then delivers through the validator', async () => {
    const { a, b, c } = await trio();
    const members = new Set([a, b, c].map((n) => n.peerId.toString()));
    const gotB: Array<{ n: number; from: string }> = [];
    const gotC: Array<{ n: number; from: string }> = [];
    const chA = channel(a, members, []);
    channel(b, members, gotB);
    channel(c, members, gotC);
    // Published straight after subscribing: must not throw NoPeersSubscribedToTopic or be lost.
    const sent = await chA.publish(enc({ n: 1 }));
    expect(sent).toBeGreaterThan(0);
    // A peer whose subscription A had not yet seen gets the message through gossipsub's
    // heartbeat gossip (IHAVE/IWANT, every second), so allow several heartbeats on a busy machine.
    await until(() => gotB.length === 1 && gotC.length === 1, 20_000);
    expect(gotB[0]).toEqual({ n: 1, from: a.peerId.toString() });
  });

  it('rejects non-members and malformed messages, ignores stale ones, and delivers none of them', async () => {
    const { a, b, c } = await trio();
    const members = new Set([a, b].map((n) => n.peerId.toString())); // c is not a member
    const gotB: Array<{ n: number; from: string }> = [];
    const verdictsB: string[] = [];
    const verdictsA: string[] = [];
    channel(a, members, [], verdictsA);
    channel(b, members, gotB, verdictsB);
    const chC = channel(c, new Set([c.peerId.toString()]), []);
    const chA2 = new GossipChannel<unknown>({ pubsub: a.services.pubsub, topic: jobTopic('job1', 'other'), validate: () => ({ result: 'accept', reason: 'ok', message: 1 }), onMessage: () => undefined });
    chA2.start();
    await until(() => chC.subscribers().length > 0);
    await chC.publish(enc({ n: 5 })); // from a non-member
    await until(() => verdictsA.some((v) => v === 'reject:not a member'));
    // a member sending garbage and a stale message, via node a's raw pubsub
    await a.services.pubsub.publish(jobTopic('job1', 'job1#0'), new TextEncoder().encode('{not json'));
    await a.services.pubsub.publish(jobTopic('job1', 'job1#0'), enc({ n: -1 }));
    await a.services.pubsub.publish(jobTopic('job1', 'job1#0'), enc({ n: 7 }));
    await until(() => gotB.length === 1);
    expect(gotB).toEqual([{ n: 7, from: a.peerId.toString() }]);
    expect(verdictsB).toEqual(expect.arrayContaining(['reject:not JSON', 'ignore:stale']));
  });

  it('refuses to gossip a payload that belongs in a blob', async () => {
    const { a } = await trio();
    const ch = channel(a, new Set(), []);
    await expect(ch.publish(new Uint8Array(MAX_GOSSIP_BYTES + 1))).rejects.toThrow(/send large payloads as blobs/);
  });

  it('gives up waiting for subscribers after the timeout without throwing', async () => {
    const node = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(node);
    const ch = channel(node, new Set(), []);
    expect(await ch.publish(enc({ n: 1 }), { timeoutMs: 200 })).toBe(0);
  });
});
