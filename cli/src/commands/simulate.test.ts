import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    // Its parents outlast their sub-clusters' rounds: no timing warning.
    expect(r.stderr).not.toMatch(/warning/);
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

  it('warns, and still runs, when a parent waits no longer than its sub-clusters (the shipped scenario does not: above)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-cli-sim-'));
    // The same scenario without its per-level deadlines: every level inherits 60 s.
    const text = readFileSync(scenario, 'utf8');
    expect(text).toMatch(/\n {4}levelTiming: .*\n/);
    const flat = join(dir, 'flat.yaml');
    writeFileSync(flat, text.replace(/\n {4}levelTiming: .*\n/, '\n'));
    const r = canopy('simulate', flat, '--out', join(dir, 'b'), '--repetitions', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: timing: cluster small-synthetic waits 60 s per round, and 2 sub-clusters may take 60 s .* Give small-synthetic a roundDeadlineSeconds of 120 s or more/m);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rounds: 8 });
  });

  it('exits non-zero, after printing and saving its results, when a repetition does not reach a stop condition', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-cli-sim-'));
    // 8 rounds (about 9 virtual seconds) cannot finish in 3: the run is cut at maxVirtualSeconds.
    const cut = join(dir, 'cut.yaml');
    writeFileSync(cut, `${readFileSync(scenario, 'utf8')}\nmaxVirtualSeconds: 3\n`);
    const out = join(dir, 'run');
    const r = canopy('simulate', cut, '--out', out, '--repetitions', '1', '--json');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^canopy: job small-synthetic did not reach its stop condition: 1 of 1 repetitions ended without reaching a stop condition; repetition 1: maxVirtualSeconds \(no stop condition held within 3 virtual seconds\)$/m);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).rounds).toBeLessThan(8);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
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

  it('names at most five sites and refusals per step in words, however many clients refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-cli-sim-'));
    const data = fileURLToPath(new URL('../../../examples/artifacts/data/', import.meta.url));
    // 40 clients of about 35 rows each, none of which reaches a minimum group of 100.
    const file = join(dir, 'refusing.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: canopy/v1',
        'kind: Scenario',
        'name: refusing',
        'artifact:',
        '  privacy: { minGroupSize: 100 }',
        '  steps: [{ kind: count }]',
        '  tree: { depth: 2, fanout: 4, clientsPerLeaf: 10, workersPerCluster: 1 }',
        `data: { csv: [${[1, 2, 3, 4, 5].map((i) => JSON.stringify(`${data}site-${i}.csv`)).join(', ')}] }`,
        'devices: { profiles: [{ name: steady, share: 1, speed: 1, upMbps: 50, downMbps: 100, meanOfflineSeconds: 0, crashPerRound: 0, stragglerProbability: 0 }] }',
      ].join('\n'),
    );
    const r = canopy('simulate', file, '--out', join(dir, 'run'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 0 count: 0\n {2}from 0 sites\n( {2}c-\S+ refused: fewer than minGroupSize 100 rows in the current view\n){5} {2}… and 35 more refusals \(all of them are in summary\.json\)\n/);
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
