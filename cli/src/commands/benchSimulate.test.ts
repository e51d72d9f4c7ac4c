import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `canopy bench simulate` and `canopy bench pool` as a user runs them (compiled CLI, own
// process). The scale scenarios take minutes, so the size runs use a small scenario saved
// under a scale name; the numbers are not checked, only that they are measured and printed.
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const small = fileURLToPath(new URL('../../../examples/scenarios/small-synthetic.yaml', import.meta.url));
function canopy(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('canopy bench simulate', () => {
  it('measures each size in its own process and prints a JSON line per size, then the machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-sim-'));
    copyFileSync(small, join(dir, 'scale-1k.yaml'));
    const r = canopy('bench', 'simulate', '--sizes', '1k', '--scenarios', dir, '--rounds', '2', '--runs', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    const size = lines[0]!;
    expect(size).toMatchObject({ bench: 'simulate', scenario: 'small-synthetic', clients: 8, rounds: 2, runs: 2 });
    for (const k of ['wallSecondsPerRound', 'wallSecondsPerRoundMedian', 'peakRssMb', 'eventsPerSecond', 'events', 'cpuSecondsPerRound']) {
      expect(size[k], k).toBeGreaterThan(0);
    }
    expect(size.wallSecondsPerRound as number).toBeLessThanOrEqual(size.wallSecondsPerRoundMedian as number);
    expect(size.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(size.allRuns).toHaveLength(2);
    expect(lines[1]).toMatchObject({ bench: 'simulate', machine: { cpus: expect.any(Number) as number } });
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown size', ['bench', 'simulate', '--sizes', '2k'], /--sizes: unknown size "2k"/],
    ['a folder without the scale scenarios', ['bench', 'simulate', '--sizes', '1k', '--scenarios', '/nonexistent'], /--scenarios: .*scale-1k\.yaml does not exist/],
    ['a synthetic scenario for the pool', ['bench', 'pool', '--scenario', small], /--scenario: .* trains in mode synthetic/],
    ['a bad thread count', ['bench', 'pool', '--threads', '0'], /--threads.*expected a whole number from 1/],
    ['--threads on a synthetic simulation', ['simulate', small, '--threads', '2'], /--threads: .* trains in mode synthetic; .*training\.aggregateThreads/],
  ])('rejects %s with one clear line', (_name, args, message) => {
    const r = canopy(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });
});
