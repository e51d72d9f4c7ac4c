import type { Libp2p, PeerId } from '@libp2p/interface';

/** How often one peer's limited connections may be replaced. */
export const REPLACE_LIMITED_EVERY_MS = 10_000;

// When each peer's limited connections were last replaced, per node (bounded).
const replacedAt = new WeakMap<Libp2p, Map<string, number>>();

/**
 * Replaces a peer's connections when every one of them is limited: a relayed connection opened
 * under a relay's stranger limits (128 KiB, 2 minutes, before the relay knew the job) stays
 * limited, and is cut once its bytes are used up, gossip included. A fresh dial through the relay
 * gets an unlimited one once the relay knows both ends are members. At most every
 * {@link REPLACE_LIMITED_EVERY_MS} per peer; the dial is bounded to 10 s and its failure ignored
 * (whatever connection there is then is used).
 */
export async function replaceLimitedConnections(node: Libp2p, peer: PeerId, signal?: AbortSignal): Promise<void> {
  const conns = node.getConnections(peer);
  if (conns.length === 0 || conns.some((c) => c.limits === undefined)) return;
  let seen = replacedAt.get(node);
  if (!seen) replacedAt.set(node, (seen = new Map()));
  const key = peer.toString();
  const now = Date.now();
  if ((seen.get(key) ?? 0) > now - REPLACE_LIMITED_EVERY_MS) return;
  seen.set(key, now);
  if (seen.size > 1024) seen.delete(seen.keys().next().value!);
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  const timeout = AbortSignal.timeout(10_000);
  await node.dial(peer, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch(() => undefined);
}
