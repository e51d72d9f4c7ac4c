import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { parseManifest } from './manifest.js';
import { buildJobTree, jobTopic } from './jobTree.js';
import { deriveJobSheet, jobSheetsFor } from './jobSheet.js';
import { treeManifest } from './test/fixtures.js';

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
    it(`${f} validates and builds a tree`, () => {
      const m = parseManifest(readFileSync(new URL(f, dir), 'utf8'), f);
      expect(buildJobTree(m).jobs.size, f).toBeGreaterThan(0);
    });
  }
});
