import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `canopy validate` and `--set` as a user runs them: the built CLI in its own process.
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
function canopy(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const shipped = ['jobs', 'scenarios', 'artifacts'].flatMap((d) => readdirSync(join(examples, d)).filter((f) => f.endsWith('.yaml')).map((f) => join(examples, d, f)));

describe('canopy validate', () => {
  it('accepts every shipped job, scenario and artifact, and summarizes each', () => {
    const r = canopy('validate', ...shipped, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; valid: boolean; kind: string; summary: { clients: number } });
    expect(lines.map((l) => l.file)).toEqual(shipped);
    expect(lines.every((l) => l.valid)).toBe(true);
    expect(new Set(lines.map((l) => l.kind))).toEqual(new Set(['Job', 'Scenario', 'Artifact']));
    expect(lines.find((l) => l.file.endsWith('scale-10k.yaml'))!.summary.clients).toBe(10_000);
  });

  it('applies --set before validating, and names the field a bad override breaks', () => {
    const job = join(examples, 'jobs', 'single-cluster.yaml');
    const ok = canopy('validate', job, '--set', 'stop.rounds=42', '--set', 'aggregator={kind: fedadam, serverLr: 0.05}');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid Job "mnist-single".*stops after rounds 42/);
    const bad = canopy('validate', job, '--set', 'stop.rounds=0');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/invalid: .*\n\s+- stop\.rounds: Too small/);
    expect(bad.stderr).toBe('canopy: 1 of 1 file invalid\n');
    const own = canopy('validate', job, '--set', 'cluster.clients[2]=laptop');
    expect(own.code).toBe(1);
    expect(own.stdout).toMatch(/- cluster\.clients: laptop hosts this cluster and may not also be one of its clients/);
    const scenario = canopy('validate', join(examples, 'scenarios', 'small-synthetic.yaml'), '--set', 'job.stop.rounds=3', '--json');
    expect(JSON.parse(scenario.stdout).summary.stop).toBe('rounds 3');
  });

  it('reports each bad file in one run and exits 1 if any is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-validate-'));
    try {
      writeFileSync(join(dir, 'other.yaml'), 'apiVersion: canopy/v1\nkind: Pipeline\n');
      writeFileSync(join(dir, 'notyaml.yaml'), Array.from({ length: 40 }, (_, i) => `line ${i}: [`).join('\n'));
      const r = canopy('validate', join(dir, 'other.yaml'), join(dir, 'notyaml.yaml'), join(dir, 'missing.yaml'), join(examples, 'jobs', 'single-cluster.yaml'));
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/other\.yaml: invalid: kind is "Pipeline"; expected Job, Artifact or Scenario/);
      expect(r.stdout).toMatch(/notyaml\.yaml: invalid: (.*\n){1,13}\s+… and \d+ more/);
      expect(r.stdout).toMatch(/missing\.yaml: invalid: cannot read the file .*ENOENT/);
      expect(r.stdout).toMatch(/single-cluster\.yaml: valid Job/);
      expect(r.stderr).toBe('canopy: 3 of 4 files invalid\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a malformed --set with one line, before reading anything', () => {
    const r = canopy('validate', 'whatever.yaml', '--set', 'stop.rounds');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe('canopy: --set stop.rounds: expected path.to.field=value, e.g. --set stop.rounds=20\n');
  });
});
