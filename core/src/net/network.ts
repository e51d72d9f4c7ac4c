import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { BadInputError } from '../util/errors.js';

/** Prefix of an invite link: `canopy://network/<base64url of the network's JSON>`. */
export const INVITE_PREFIX = 'canopy://network/';

/** A multiaddr that ends in `/p2p/<peer id>`, so a node can dial it and knows whom it reaches. */
const PeerAddress = z.string().superRefine((s, ctx) => {
  const problem = peerAddressProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A Canopy network: the peers a node dials to join it (`bootstrap`) and the relays that
 * nodes behind NAT reserve a slot on (`relays`; bootstrap peers that are public relay too).
 * It travels as a small YAML/JSON file or as an invite link (see docs/DEPLOY.md).
 */
export const Network = z.strictObject({
  name: z.string().min(1).max(200),
  bootstrap: z.array(PeerAddress).min(1).max(64),
  relays: z.array(PeerAddress).max(64).optional(),
});
export type Network = z.infer<typeof Network>;

/** How others can reach this node, as it knows it now. */
export const Reachability = z.strictObject({
  /**
   * `public`: others can dial it directly (AutoNAT confirmed an address); `relayed`: behind
   * NAT, reachable through a relay reservation; `unreachable`: AutoNAT found no dialable
   * address and there is no relay slot; `unknown`: not determined yet.
   */
  status: z.enum(['unknown', 'public', 'relayed', 'unreachable']),
  /** Peer ids of the relays this node holds a reservation on. */
  relays: z.array(z.string()),
  /** Addresses this node advertises to others (with /p2p/<peer id>). */
  addresses: z.array(z.string()),
});
export type Reachability = z.infer<typeof Reachability>;

/** A network file or invite link that cannot be used; the message says what and how to fix it. */
export class NetworkFileError extends BadInputError {}

/**
 * Reads a network from YAML or JSON text, or from an invite link
 * (`canopy://network/<base64url(JSON)>`). Throws {@link NetworkFileError} with a one-line
 * reason (which field, what is wrong) on anything else.
 */
export function parseNetwork(text: string, source = 'network'): Network {
  const trimmed = text.trim();
  if (trimmed === '') throw new NetworkFileError(`${source} is empty; expected a network file (name, bootstrap, relays) or an invite link ${INVITE_PREFIX}…`);
  let raw: unknown;
  if (trimmed.startsWith(INVITE_PREFIX)) {
    raw = decodeInvite(trimmed.slice(INVITE_PREFIX.length), source);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new NetworkFileError(`${source}: "${trimmed.slice(0, 40)}" is not a Canopy invite link; those start with ${INVITE_PREFIX}`);
  } else {
    const doc = parseDocument(trimmed);
    if (doc.errors.length > 0) throw new NetworkFileError(`${source} does not parse as YAML or JSON: ${doc.errors[0]!.message.split('\n')[0]}`);
    raw = doc.toJS();
  }
  const parsed = Network.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new NetworkFileError(`${source} is not a valid network: ${where}: ${issue.message}${parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : ''}`);
  }
  return parsed.data;
}

/** The invite link of a network: paste it into `canopy node --network` or the app. */
export function encodeInviteLink(n: Network): string {
  const checked = Network.parse(n);
  return INVITE_PREFIX + Buffer.from(JSON.stringify(checked), 'utf8').toString('base64url');
}

function decodeInvite(payload: string, source: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(payload)) throw new NetworkFileError(`${source}: the invite link is damaged (not base64url after ${INVITE_PREFIX}); ask for it again`);
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new NetworkFileError(`${source}: the invite link is damaged (its payload is not JSON); ask for it again`);
  }
}

/** Why `s` is not a dialable peer address, or undefined when it is one. */
export function peerAddressProblem(s: string): string | undefined {
  let ma;
  try {
    ma = multiaddr(s);
  } catch {
    return `"${s}" is not a multiaddr (e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…)`;
  }
  const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
  if (!id) return `"${s}" lacks /p2p/<peer id>; run canopy id on that machine to learn it`;
  try {
    peerIdFromString(id);
  } catch {
    return `"${s}": ${id} is not a peer id`;
  }
  return undefined;
}
