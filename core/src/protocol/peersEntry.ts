// What a data owner sends to a job's organiser: the manifest's `peers:` entry for their
// node. Shared by `canopy id` and the app's Node screen, so both print the same text.
// Pure string work (no multiaddr parsing), so the renderer can use it too.

/**
 * Whether another machine could dial this address: not loopback, not a wildcard, not a
 * port the node picks only when it starts (`/tcp/0`).
 */
export function isDialableElsewhere(address: string): boolean {
  if (/^\/ip4\/127\.|^\/ip6\/::1\/|^\/ip4\/0\.0\.0\.0\/|^\/ip6\/::\/|^\/dns4?\/localhost\//.test(address)) return false;
  return !/\/(tcp|udp)\/0(\/|$)/.test(address);
}

/** `address` ending in `/p2p/<peerId>`, as a manifest's `peers:` entry wants it. */
export function withPeerId(address: string, peerId: string): string {
  return address.endsWith(`/p2p/${peerId}`) ? address : `${address}/p2p/${peerId}`;
}

/**
 * The YAML of a `peers:` entry naming this node `name`: its peer id and the addresses others
 * could dial (loopback and not-yet-chosen ports left out). With no such address the entry
 * holds the peer id alone.
 */
export function formatPeersEntry(name: string, peerId: string, addresses: readonly string[]): string {
  const dialable = [...new Set(addresses.filter(isDialableElsewhere).map((a) => withPeerId(a, peerId)))];
  const lines = ['peers:', `  ${yamlKey(name)}:`, `    peerId: ${peerId}`];
  if (dialable.length > 0) lines.push('    addresses:', ...dialable.map((a) => `      - ${a}`));
  return `${lines.join('\n')}\n`;
}

// A member name is letters, digits and . _ : @ - (the manifest's rule); anything else, or a
// name YAML would read as something other than a string, is quoted.
function yamlKey(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9._@-]*$/.test(name) && !/^(true|false|yes|no|on|off|null|~)$/i.test(name) ? name : JSON.stringify(name);
}
