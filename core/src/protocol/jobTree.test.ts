import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { parseManifest } from './manifest.js';
import { allMembers, buildJobTree, jobTopic, rolesOf, type JobTree, type MemberRole } from './jobTree.js';
import { deriveJobSheet, jobSheetsFor } from './jobSheet.js';
import { treeManifest } from './test/fixtures.js';
import { timingWarnings } from './timingAdvice.js';

describe('job tree', () => {
  const t = buildJobTree(treeManifest([[2, 1], [3]], { workers: 2, timing: { quorum: 0.5 } }));

  it('names jobs J, J#0, J#0_1, ... (step 1)', () => {
    expect([...t.jobs.keys()]).toEqual(['J', 'J#0', 'J#0_0', 'J#0_1', 'J#1', 'J#1_0']);
    expect(t.leaves).toEqual(['J#0_0', 'J#0_1', 'J#1_0']);
  });

  it('makes each sub-job one client of its parent, spoken for by its host', () => {
    expect(t.jobs.get('J')!.clients.map((c) => [c.id, c.peer])).toEqual([
      ['J#0', 'host1'],
      ['J#1', 'host4'],
    ]);
  });

  it('inherits timing down the tree and numbers shards in tree order', () => {
    expect(t.jobs.get('J#0_1')!.timing.quorum).toBe(0.5);
    expect(t.shardIndex.get('c2')).toBe(2);
    expect(jobTopic(t.rootId, 'J#0')).toBe(`canopy/1/${t.rootId}/J#0`);
  });

  it('indexes every member\'s roles as a scan of the jobs would find them, in the same order', () => {
    // The definition the index replaces: one pass over the jobs per member.
    const scan = (tree: JobTree, member: string): MemberRole[] => {
      const out: MemberRole[] = [];
      for (const node of tree.jobs.values()) {
        if (node.host === member) out.push({ role: 'host', job: node.name });
        if (node.workers.includes(member)) out.push({ role: 'worker', job: node.name });
        if (node.leaf && node.clientById.has(member)) out.push({ role: 'client', job: node.name });
      }
      if (tree.distributor === member) out.push({ role: 'distributor', job: tree.root });
      return out;
    };
    // Members with several roles: the root's host also hosts a sub-job and works in one.
    const m = treeManifest([[2, 1], [3]], { workers: 2 });
    const node = m.cluster as unknown as { host: string; clusters: Array<{ host: string; workers: string[] }> };
    node.clusters[0]!.host = node.host;
    node.clusters[1]!.workers = [node.host, ...node.clusters[1]!.workers.slice(1)];
    for (const tree of [t, buildJobTree(m)]) {
      for (const member of [...allMembers(tree), 'stranger']) expect(rolesOf(tree, member), member).toEqual(scan(tree, member));
    }
    expect(rolesOf(buildJobTree(m), node.host).length).toBeGreaterThan(2);
    // A caller's copy: changing it does not change the index.
    rolesOf(t, 'host1').push({ role: 'client', job: 'J' });
    expect(rolesOf(t, 'host1')).toEqual([{ role: 'host', job: 'J#0' }]);
  });

  it('derives one job sheet per member role, and refuses roles a member does not have', () => {
    expect(jobSheetsFor(t, 'host1').map((s) => `${s.role}:${s.job}`)).toEqual(['host:J#0']);
    const sheet = deriveJobSheet(t, 'J#0', 'host', 'host1');
    expect(sheet.upstream).toMatchObject({ job: 'J', asClient: 'J#0', host: 'host0' });
    expect(deriveJobSheet(t, 'J#1_0', 'client', 'c5').dataset.shard).toEqual({ index: 5, of: 6 });
    expect(() => deriveJobSheet(t, 'J', 'client', 'c0')).toThrow(/not a client of leaf job/);
  });
});

describe('example manifests', () => {
  const dir = new URL('../../../examples/jobs/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it('ship a 3-level tree and mnist-2level', () => {
    expect(files).toContain('mnist-2level.yaml');
    expect(files.some((f) => f.includes('3level'))).toBe(true);
  });
  for (const f of files) {
    it(`${f} validates and builds a tree, with each parent outlasting its sub-clusters' rounds`, () => {
      const m = parseManifest(readFileSync(new URL(f, dir), 'utf8'), f);
      expect(buildJobTree(m).jobs.size, f).toBeGreaterThan(0);
      expect(timingWarnings(buildJobTree(m)), f).toEqual([]);
    });
  }
});
