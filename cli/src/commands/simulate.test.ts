import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `canopy simulate` as a user runs it: the compiled CLI in its own process (npm test builds it first).
const bin = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const scenario = fileURLToPath(new URL('../../../examples/scenarios/small-synthetic.yaml', import.meta.url));
const realScenario = fileURLToPath(new URL('../../../examples/scenarios/default.yaml', import.meta.url));
const artifactScenario = fileURLToPath(new URL('../../../examples/scenarios/artifact-csv-stats.yaml', import.meta.url));
function canopy(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('canopy simulate', () => {
  it('ends --json output with the summary line and writes the run folder', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'canopy-cli-sim-')), 'run');
    const r = canopy('simulate', scenario, '--out', out, '--repetitions', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.length).toBe(9); // 8 rounds, then the summary
    expect(lines[0]).toMatchObject({ repetition: 0, round: 1 });
    const last = lines.at(-1)!;
    expect(Object.keys(last)).toEqual(['rounds', 'accuracy', 'loss', 'virtualSeconds', 'wallSeconds', 'peakRssMb', 'bytesSent', 'messages']);
    expect(last.rounds).toBe(8);
    expect(last.messages).toBeGreaterThan(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'scenario.yaml'))).toBe(true);
  });

  it("adds an artifact's result to the summary line, and says it in words without --json", () => {
    const out = join(mkdtempSync(join(tmpdir(), 'canopy-cli-sim-')), 'run');
    const r = canopy('simulate', artifactScenario, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rounds: number; result: { complete: boolean; steps: { kind: string; count?: number }[] } };
    expect(last.rounds).toBe(4);
    expect(last.result.complete).toBe(true);
    expect(last.result.steps.map((s) => s.kind)).toEqual(['count', 'stats', 'stats', 'histogram']);
    expect(last.result.steps[0]?.count).toBe(1068);
    const words = canopy('simulate', artifactScenario, '--out', out, '--overwrite');
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(/artifact artifact-csv-stats: complete\nstep 1 count "patients-40-plus": 1068\n/);
  });

  it.each<[string, string[], RegExp]>([
    ['an artifact scenario under --transport libp2p', ['simulate', artifactScenario, '--transport', 'libp2p'], /transport: artifact scenarios run on the modelled network only/],
    ['a missing scenario file', ['simulate', '/nonexistent/s.yaml'], /cannot read the scenario \/nonexistent\/s\.yaml/],
    ['a bad repetition count', ['simulate', scenario, '--repetitions', 'two'], /--repetitions.*expected a whole number/],
    ['an unknown transport', ['simulate', scenario, '--transport', 'tcp'], /--transport.*'tcp' is invalid.*modelled, libp2p/],
    ['real training under --transport libp2p', ['simulate', realScenario, '--transport', 'libp2p'], /cannot run with transport: libp2p \(fidelity mode\):\n\s+- training\.mode: .*found real/],
  ])('rejects %s with one clear line', (_name, args, message) => {
    const r = canopy(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });
});
