import { afterEach, describe, expect, it } from 'vitest';
import { validateManifest } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import type { ConsentRequest } from '../consent.js';
import type { JobInvitation } from './canopyNode.js';
import type { CanopyNodeEvents } from './events.js';
import { RUNTIME_RECORD, type RuntimeRecord } from './jobRunner.js';
import type { MemoryCluster } from './memoryCluster.js';
import { smallJob, testClusters } from './testing.js';

// The hooks the desktop app uses, on real runtime nodes over the memory transport: the owner
// of member `a` is asked about the job sheet and the download, and can withdraw.
const manifest = validateManifest(
  smallJob('owner-hooks', {
    stop: { rounds: 3 },
    dataset: { source: { kind: 'mnist' }, distributor: 'h' },
    timing: { heartbeatSeconds: 1, quorum: 0.5, roundDeadlineSeconds: 60 },
    cluster: { host: 'h', workers: ['h'], clients: ['a', 'b', 'c'] },
  }),
  'test manifest',
);

interface Owner {
  readonly invitations: JobInvitation[];
  readonly requests: ConsentRequest[];
  accept: boolean;
  approve: boolean;
}

describe('the owner hooks of a node', () => {
  const clusters = testClusters('owner');
  afterEach(() => clusters.stopAll());

  async function start(owner: Owner): Promise<MemoryCluster> {
    return clusters.start(manifest, {
      node: { compute: 'synthetic', syntheticTrainMs: 200, consent: { kind: 'approve-all' }, log: createLog('node', 'silent') },
      perNode: (name) =>
        name !== 'a'
          ? {}
          : {
              invite: async (inv) => (owner.invitations.push(inv), owner.accept),
              consent: { kind: 'ask', ask: async (req) => (owner.requests.push(req), { given: owner.approve }) },
            },
    });
  }

  it('offers the job sheet, asks before the download with the chunk’s real size, and records the answer', async () => {
    const owner: Owner = { invitations: [], requests: [], accept: true, approve: true };
    const c = await start(owner);
    const a = c.nodes.get('a')!;
    const recorded: CanopyNodeEvents['consent:recorded'][] = [];
    a.events.on('consent:recorded', (r) => recorded.push(r));
    const sent: CanopyNodeEvents['outbox:sent'][] = [];
    a.events.on('outbox:sent', (o) => sent.push(o));
    const rootId = await c.submit();
    await a.events.once('job:finished', (d) => d.rootId === rootId);

    expect(owner.invitations).toEqual([expect.objectContaining({ rootId, job: 'owner-hooks', role: 'client', rounds: 3, model: manifest.model, dataset: expect.objectContaining({ distributor: c.nodes.get('h')!.peerId, shard: { index: 0, of: 3 } }) })]);
    expect(owner.requests).toHaveLength(1);
    // The size is that of the chunk the distributor stored for `a`, which `a` then fetched.
    const size = owner.requests[0]!.dataset.size;
    expect(size).toBeGreaterThan(0);
    expect(a.stats().blobBytesFetched).toBeGreaterThanOrEqual(size);
    expect(recorded.map((r) => [r.receipt.decision, r.receipt.by])).toEqual([['approved', 'owner']]);
    // Every round's parameters left the machine, named by hash, to the host and its workers.
    const submits = sent.filter((o) => o.type === 'submit');
    expect(new Set(submits.map((o) => o.round))).toEqual(new Set([1, 2, 3]));
    for (const o of submits) expect(o.blobs, `round ${o.round}`).toHaveLength(1);
    expect(submits[0]!.recipients).toContain('h');
  }, 120_000);

  it('joins nothing the owner declines', async () => {
    const owner: Owner = { invitations: [], requests: [], accept: false, approve: true };
    const c = await start(owner);
    const rootId = await c.submit();
    await c.nodes.get('b')!.events.once('job:finished', (d) => d.rootId === rootId);
    expect(owner.invitations).toHaveLength(1);
    expect(c.nodes.get('a')!.runner(rootId)).toBeUndefined();
    expect(owner.requests).toEqual([]);
    // It fetched the signed submission, to show its owner the job sheet, and nothing else.
    const record = await c.nodes.get('h')!.store.loadState<RuntimeRecord>(rootId, RUNTIME_RECORD);
    expect(c.nodes.get('a')!.stats().blobBytesFetched).toBe(record!.submission.size);
  }, 120_000);

  it('withdraws a member whose owner revoked consent: it goes silent, and the job goes on without it', async () => {
    const owner: Owner = { invitations: [], requests: [], accept: true, approve: true };
    const c = await start(owner);
    const a = c.nodes.get('a')!;
    const rootId = await c.submit();
    await c.nodes.get('h')!.events.once('round:finished', (d) => d.rootId === rootId && d.round === 1);
    const withdrawn = a.events.once('job:withdrawn', (d) => d.rootId === rootId);
    expect(a.withdraw(rootId, 'owner-hooks', 'the owner revoked consent')).toBe(true);
    expect(await withdrawn).toMatchObject({ job: 'owner-hooks', reason: 'the owner revoked consent' });
    const after: string[] = [];
    a.events.on('outbox:sent', (o) => after.push(o.type));
    const offline = c.nodes.get('h')!.events.once('metric', (d) => d.rootId === rootId && d.name === 'memberOffline' && d.values.member === 'a');
    await c.nodes.get('b')!.events.once('job:finished', (d) => d.rootId === rootId);
    await offline;
    expect(after).toEqual([]);
    expect(a.runner(rootId)!.isWithdrawn('owner-hooks')).toBe(true);
    expect(a.withdraw(rootId, 'owner-hooks', 'again')).toBe(false);
  }, 120_000);
});
