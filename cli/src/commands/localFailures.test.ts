import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Issue #14's table, row "a client's dataset path missing": `canopy local` with real node
// processes ends promptly with the members' reasons and a non-zero exit, and keeps the logs.
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));

describe('canopy local on a job that cannot run', () => {
  it('ends a job whose clients cannot load their data with their reasons, exit 1, and the logs kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-local-fail-'));
    try {
      const manifest = join(dir, 'missing.yaml');
      writeFileSync(
        manifest,
        [
          'apiVersion: canopy/v1',
          'kind: Job',
          'name: missing-data',
          'model: { kind: logreg, inputShape: [4], numClasses: 2 }',
          'train: { optimizer: { kind: sgd, lr: 0.1 }, epochs: 1, batchSize: 8 }',
          'consensus: single',
          'stop: { rounds: 2 }',
          'timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 20 }',
          `dataset: { source: { kind: csv, path: ${join(dir, 'nowhere.csv')}, labelColumn: y } }`,
          'cluster: { host: laptop, workers: [laptop], clients: [alice, bob] }',
          '',
        ].join('\n'),
      );
      const work = join(dir, 'work');
      const started = Date.now();
      const r = spawnSync(process.execPath, [bin, 'local', manifest, '--work-dir', work, '--timeout', '600'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, FORCE_COLOR: '0' } });
      const seconds = (Date.now() - started) / 1000;
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/job missing-data-\w+: failed: setup: a member could not load its data; members failed: data x\d \((alice|bob): .*nowhere\.csv/);
      expect(r.stderr).toMatch(/^canopy: job missing-data-\w+ did not reach its stop condition: failed: setup: .*nowhere\.csv/m);
      expect(r.stderr).not.toMatch(/could not fetch the final model/);
      expect(r.stderr).toMatch(/canopy local: the run failed; node logs kept in .*work\/logs/);
      expect(readdirSync(join(work, 'logs')).sort()).toEqual(['alice.log', 'bob.log', 'laptop.log']);
      // Well before --timeout: three failed loads a second apart, plus starting the processes.
      expect(seconds).toBeLessThan(240);
      expect(existsSync(join(work, 'manifest.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 320_000);
});
