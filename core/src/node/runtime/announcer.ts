import { GossipChannel } from '../../net/gossipChannel.js';
import type { CanopyLibp2p } from '../../net/createNode.js';
import { Announce, ANNOUNCE_TOPIC } from './submission.js';

/** Options of {@link openAnnounceChannel}. */
export interface AnnounceChannelInit {
  readonly libp2p: CanopyLibp2p;
  readonly onAnnounce: (announce: Announce, from: string) => void | Promise<void>;
  readonly onReject?: (reason: string, from: string) => void;
}

/**
 * The well-known announce topic. An announcement is accepted only if it decodes and its
 * `host` is the gossip signer (REJECT otherwise: no honest peer announces for another);
 * whether that host is the job's root host is checked once the submission is fetched.
 */
export function openAnnounceChannel(init: AnnounceChannelInit): GossipChannel<Announce> {
  const ch = new GossipChannel<Announce>({
    pubsub: init.libp2p.services.pubsub,
    topic: ANNOUNCE_TOPIC,
    maxQueue: 256,
    validate: (from, data) => {
      if (data.byteLength > 16 * 1024) return { result: 'reject', reason: 'announcement too large' };
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
      } catch {
        return { result: 'reject', reason: 'announcement is not JSON' };
      }
      const parsed = Announce.safeParse(value);
      if (!parsed.success) return { result: 'reject', reason: `malformed announcement: ${parsed.error.issues[0]?.message ?? ''}` };
      if (parsed.data.host !== from) return { result: 'reject', reason: 'announcement host is not the signer' };
      return { result: 'accept', reason: 'ok', message: parsed.data };
    },
    onMessage: (a, from) => init.onAnnounce(a, from),
    onVerdict: (verdict, reason, from) => {
      if (verdict === 'reject') init.onReject?.(reason, from);
    },
  });
  ch.start();
  return ch;
}

/** Encodes an announcement for the wire. */
export function encodeAnnounce(a: Announce): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(a));
}
