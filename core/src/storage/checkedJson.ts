import { sha256Text } from '../util/hash.js';

// The node store's JSON files (runtime records, role state, checkpoints, receipts) carry the
// sha256 of their body on a first line, so a read notices a truncated file or flipped bytes
// instead of acting on them:
//
//   #canopy-sha256 <64 hex digits of the body's UTF-8 bytes>\n<JSON body>
//
// A file without that line (written before it existed) is accepted if it parses as JSON.

const HEADER = '#canopy-sha256 ';

/** A value as a checked JSON file's text. */
export function encodeCheckedJson(value: unknown, { pretty = false }: { pretty?: boolean } = {}): string {
  const body = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  return `${HEADER}${sha256Text(body)}\n${body}`;
}

/** A checked JSON file's value, or what is wrong with it. */
export function decodeCheckedJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  let body = text;
  if (text.startsWith(HEADER)) {
    const nl = text.indexOf('\n');
    if (nl < 0) return { ok: false, problem: 'it is truncated (nothing after its checksum line)' };
    const want = text.slice(HEADER.length, nl);
    body = text.slice(nl + 1);
    if (!/^[0-9a-f]{64}$/.test(want)) return { ok: false, problem: 'its checksum line is damaged' };
    const got = sha256Text(body);
    if (got !== want) return { ok: false, problem: `its content hashes to ${got.slice(0, 12)}…, not the ${want.slice(0, 12)}… written with it: truncated or changed` };
  } else if (text.startsWith('#')) {
    return { ok: false, problem: HEADER.startsWith(text) ? 'it is truncated (within its checksum line)' : 'its checksum line is damaged' };
  }
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false, problem: text.length === 0 ? 'it is empty' : 'it is not valid JSON' };
  }
}
