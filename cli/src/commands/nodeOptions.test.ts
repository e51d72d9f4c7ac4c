import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetsFromFlags } from './nodeOptions.js';

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
