import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsentLedger, decideConsent, loadConsentPolicy, type ConsentMode, type ConsentRequest } from './consent.js';
import { NodeStore } from '../storage/nodeStore.js';

const HASH = 'a'.repeat(64);
const request: ConsentRequest = {
  job: 'mnist#0',
  rootJob: 'mnist',
  submitter: 'alice',
  dataset: { name: 'mnist chunk 3', hash: HASH, size: 1000, distributor: 'dist', purpose: 'training' },
};
const policy = (approve: Partial<{ jobs: string[]; submitters: string[]; datasets: string[] }>): ConsentMode => ({
  kind: 'policy',
  source: 'policy.yaml',
  policy: { approve: { jobs: [], submitters: [], datasets: [], ...approve } },
});

describe('decideConsent', () => {
  it.each<[string, ConsentMode, 'approved' | 'refused']>([
    ['approve-all flag', { kind: 'approve-all' }, 'approved'],
    ['no policy at all', { kind: 'none' }, 'refused'],
    ['empty policy', policy({}), 'refused'],
    ['root job listed', policy({ jobs: ['mnist'] }), 'approved'],
    ['sub-job listed', policy({ jobs: ['mnist#0'] }), 'approved'],
    ['other job listed', policy({ jobs: ['cifar'] }), 'refused'],
    ['submitter listed', policy({ submitters: ['alice'] }), 'approved'],
    ['other submitter', policy({ submitters: ['mallory'] }), 'refused'],
    ['dataset hash listed', policy({ datasets: [HASH] }), 'approved'],
    ['other dataset', policy({ datasets: ['b'.repeat(64)] }), 'refused'],
  ])('%s → %s', (_name, mode, expected) => {
    const d = decideConsent(mode, request);
    expect(d.decision).toBe(expected);
    expect(d.reason.length).toBeGreaterThan(10);
  });
});

describe('consent policy files and receipts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-consent-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid policy and names the field of an invalid one', async () => {
    await writeFile(join(dir, 'ok.yaml'), `approve:\n  jobs: [mnist]\n  datasets: ["${HASH}"]\n`);
    const mode = await loadConsentPolicy(join(dir, 'ok.yaml'));
    expect(decideConsent(mode, request).decision).toBe('approved');
    await writeFile(join(dir, 'bad.yaml'), `approve:\n  datasets: [nothex]\n  colour: blue\n`);
    await expect(loadConsentPolicy(join(dir, 'bad.yaml'))).rejects.toThrow(/approve\.datasets\[0\]: a sha256 hex digest/);
    await expect(loadConsentPolicy(join(dir, 'bad.yaml'))).rejects.toThrow(/colour/);
    await expect(loadConsentPolicy(join(dir, 'missing.yaml'))).rejects.toThrow(/ENOENT/);
  });

  it('records decisions as receipts that survive a restart, and revocation supersedes approval', async () => {
    const ledger = new ConsentLedger(new NodeStore(dir));
    expect(await ledger.isApproved('mnist#0', HASH)).toBe(false);
    await ledger.record(request, 'approved', 'owner', 'clicked approve');
    expect(await ledger.isApproved('mnist#0', HASH)).toBe(true);
    const reopened = new ConsentLedger(new NodeStore(dir));
    const revoked = await reopened.revoke('mnist#0', HASH);
    expect(revoked?.decision).toBe('revoked');
    expect(await reopened.isApproved('mnist#0', HASH)).toBe(false);
    expect((await reopened.list()).map((r) => r.decision)).toEqual(['approved', 'revoked']);
    expect(await reopened.revoke('mnist#0', HASH)).toBeUndefined();
  });
});
