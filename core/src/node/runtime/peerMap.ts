import type { Manifest, MemberId } from '../../protocol/manifest.js';
import { ManifestError } from '../../util/errors.js';

/**
 * The manifest's `peers:` map in both directions. Members are named in the manifest (node
 * names such as `east-c0`); on the wire the signer is a libp2p peer id. A name without a
 * `peers` entry is taken to be a peer id itself, so a manifest may also list peer ids directly.
 */
export class PeerMap {
  private readonly toPeer = new Map<MemberId, string>();
  private readonly toMember = new Map<string, MemberId>();
  private readonly addrs = new Map<MemberId, readonly string[]>();

  constructor(manifest: Manifest, source = 'manifest') {
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(manifest.peers ?? {})) {
      const peer = spec.peerId ?? name;
      const other = this.toMember.get(peer);
      // One peer speaking as two names would make the signer ambiguous (envelope rule E6).
      if (other !== undefined && other !== name) problems.push(`peers.${name}: peer id ${peer} is already used by ${other}; give each node its own identity`);
      this.toPeer.set(name, peer);
      this.toMember.set(peer, name);
      if (spec.addresses) this.addrs.set(name, spec.addresses);
    }
    if (problems.length > 0) throw new ManifestError(source, problems);
  }

  /** The libp2p peer id of a member. */
  peerOf(member: MemberId): string {
    return this.toPeer.get(member) ?? member;
  }

  /** The member a peer id speaks as (the peer id itself when unmapped). */
  memberOf(peerId: string): MemberId {
    return this.toMember.get(peerId) ?? peerId;
  }

  /** Known multiaddrs of a member (without /p2p). */
  addresses(member: MemberId): readonly string[] {
    return this.addrs.get(member) ?? [];
  }
}
