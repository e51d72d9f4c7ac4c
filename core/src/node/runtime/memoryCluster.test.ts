import { afterEach, describe, expect, it } from 'vitest';
import { validateManifest } from '../../protocol/manifest.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { smallJob, testClusters } from './testing.js';

describe('startMemoryCluster', () => {
  const clusters = testClusters('mc');
  afterEach(() => clusters.stopAll());

  it('names the node that failed to start and stops the ones that did', async () => {
    const manifest = validateManifest(smallJob('half-started', { stop: { rounds: 1 } }));
    // Each node logs into its own list, so we can see which started and which stopped again.
    const said = new Map<string, string[]>();
    const logOf = (name: string) => {
      const lines: string[] = [];
      said.set(name, lines);
      return pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(String(JSON.parse(chunk.toString()).msg)), done()) }));
    };
    const failing = clusters.start(manifest, {
      node: { compute: 'synthetic', consent: { kind: 'approve-all' } },
      // bob is given no memory transport, so it cannot listen on its /memory address.
      perNode: (name) => ({ log: logOf(name), ...(name === 'bob' ? { inMemory: false } : {}) }),
    });
    await expect(failing).rejects.toThrow(/node bob failed to start/);
    for (const name of ['host', 'alice']) {
      expect(said.get(name), name).toContain('node started');
      expect(said.get(name), name).toContain('node stopped');
    }
    expect(said.get('bob')).not.toContain('node started');
  }, 60_000);
});
