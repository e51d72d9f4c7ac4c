import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The protocol computes what the in-process reference computes: a real job, one OS process
// per node over TCP loopback with real tfjs training on the embedded MNIST, against
// `canopy fedavg` with the same data, seeds and rounds. In one cluster the aggregation is the
// same sum in the same order, so the two must agree exactly.
const bin = fileURLToPath(new URL('../../cli/bin/canopy.js', import.meta.url));
const canopy = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 240_000 });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;

const manifest = `apiVersion: canopy/v1
kind: Job
name: parity
model: { kind: logreg, inputShape: [784], numClasses: 10 }
train: { optimizer: { kind: sgd, lr: 0.05 }, epochs: 1, batchSize: 32, seed: 3 }
stop: { rounds: 2 }
dataset: { source: { kind: mnist }, partition: { kind: iid }, seed: 3, distributor: dist }
timing: { roundDeadlineSeconds: 120 }
allowModelDownload: true
cluster: { host: host, workers: [w0, w1, w2], clients: [c0, c1, c2] }
`;

describe('a real job against the in-process baseline', () => {
  it('reaches the same final accuracy and loss', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-parity-'));
    writeFileSync(join(dir, 'parity.yaml'), manifest);
    const job = canopy('local', join(dir, 'parity.yaml'), '--json', '--work-dir', join(dir, 'work'));
    expect(job.status, job.stderr.slice(-2000)).toBe(0);
    expect(job.stderr).not.toMatch(/could not fetch the final model/);
    const base = canopy('fedavg', '--model', 'logreg', '--clients', '3', '--rounds', '2', '--seed', '3', '--lr', '0.05', '--batch', '32', '--json');
    expect(base.status, base.stderr).toBe(0);
    const j = lastJson(job.stdout);
    const b = lastJson(base.stdout);
    expect(j.rounds).toBe(2);
    expect(j.accuracy).toBe(b.accuracy);
    expect(j.loss).toBeCloseTo(b.loss!, 6);
    // Seven node processes plus the baseline share two cores with the rest of the suite.
  }, 300_000);
});
