import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeInviteLink } from '@canopy/core/net';
import { datasetsFromFlags, loadNetwork } from './nodeOptions.js';

const dir = mkdtempSync(join(tmpdir(), 'canopy-ds-'));
const csv = join(dir, 'p.csv');
writeFileSync(csv, 'a,b\n1,2\n');

describe('--dataset name=file', () => {
  it('registers named files, as absolute paths', async () => {
    expect(await datasetsFromFlags([`patients=${csv}`, `other.v2=${csv}`])).toEqual(new Map([['patients', csv], ['other.v2', csv]]));
    expect(await datasetsFromFlags(undefined)).toEqual(new Map());
  });

  const bad: [string, string[], RegExp][] = [
    ['no =', ['patients'], /--dataset patients: expected <name>=<file\.csv>/],
    ['an empty name', [`=${csv}`], /expected <name>=<file\.csv>/],
    ['a bad name', [`pa tients=${csv}`], /the name made of letters/],
    ['a name twice', [`p=${csv}`, `p=${csv}`], /the name "p" is given twice/],
    ['a missing file', ['p=/no/such.csv'], /--dataset p=\/no\/such\.csv: cannot read the file \(ENOENT\)/],
  ];
  for (const [name, flags, error] of bad) it(`refuses ${name}`, async () => expect(datasetsFromFlags(flags)).rejects.toThrow(error));
});

describe('--network file|link', () => {
  const boot = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
  const file = join(dir, 'net.yaml');
  writeFileSync(file, `name: lab\nbootstrap: [${boot}]\n`);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'name: lab\nbootstrap: [/ip4/1.2.3.4/tcp/1]\n');

  it('reads a network file and an invite link alike', async () => {
    expect(await loadNetwork(file)).toEqual({ name: 'lab', bootstrap: [boot] });
    expect(await loadNetwork(encodeInviteLink({ name: 'lab', bootstrap: [boot] }))).toEqual({ name: 'lab', bootstrap: [boot] });
  });
  it('names a missing file', async () => expect(loadNetwork('/no/such/net.yaml')).rejects.toThrow(/--network \/no\/such\/net\.yaml: cannot read the file \(ENOENT\)/));
  it('names the file and the field of a broken network', async () => expect(loadNetwork(broken)).rejects.toThrow(/broken\.yaml is not a valid network: bootstrap\.0: .* lacks \/p2p/));
});
