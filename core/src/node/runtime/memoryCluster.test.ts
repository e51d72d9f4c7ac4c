import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '../../protocol/manifest.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startMemoryCluster } from './memoryCluster.js';

describe('startMemoryCluster', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
  });

  it('names the node that failed to start and stops the ones that did', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-mc-'));
    dirs.push(dir);
    const manifest = validateManifest({
      apiVersion: 'canopy/v1',
      kind: 'Job',
      name: 'half-started',
      model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
      train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
      stop: { rounds: 1 },
      dataset: { source: { kind: 'mnist' } },
      cluster: { host: 'host', workers: ['host'], clients: ['alice', 'bob'] },
    });
    // Each node logs into its own list, so we can see which started and which stopped again.
    const said = new Map<string, string[]>();
    const logOf = (name: string) => {
      const lines: string[] = [];
      said.set(name, lines);
      return pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(String(JSON.parse(chunk.toString()).msg)), done()) }));
    };
    const failing = startMemoryCluster(manifest, {
      baseDir: dir,
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
