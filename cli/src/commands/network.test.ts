import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNetwork } from '@canopy/core/net';

// `canopy network link` as a user runs it (the compiled CLI in its own process).
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
const BOOT = '/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7';

describe('canopy network link', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-network-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the invite link of a network file, which reads back as the same network', async () => {
    const file = join(dir, 'network.yaml');
    await writeFile(file, `name: lab\nbootstrap:\n  - ${BOOT}\nrelays:\n  - ${BOOT}\n`);
    const r = canopy('network', 'link', file);
    expect(r.status, r.stderr).toBe(0);
    const link = r.stdout.trim();
    expect(link).toMatch(/^canopy:\/\/network\//);
    expect(parseNetwork(link)).toEqual({ name: 'lab', bootstrap: [BOOT], relays: [BOOT] });
  });

  it.each([
    ['a missing file', ['missing.yaml'], /cannot read the file \(ENOENT\)/],
    ['a file with no bootstrap', ['bad.yaml'], /bootstrap/],
  ])('refuses %s in one line with exit code 1', async (_what, args, pattern) => {
    await writeFile(join(dir, 'bad.yaml'), 'name: lab\n');
    const r = canopy('network', 'link', ...args.map((a) => join(dir, a)));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });
});
