import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The CLI as a user runs it: the compiled `canopy` in a separate process (npm test builds it first).
const bin = fileURLToPath(new URL('../bin/canopy.js', import.meta.url));
function canopy(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('canopy CLI', () => {
  it('explains itself', () => {
    const r = canopy('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fedavg/);
    expect(r.stdout).toMatch(/bench/);
    expect(canopy('fedavg', '--help').stdout).toMatch(/--partition <kind>/);
  });

  it.each<[string, string[], RegExp]>([
    ['a non-numeric count', ['fedavg', '--clients', 'many'], /--clients.*expected a whole number from 1 to 100000, found "many"/],
    ['an unknown model', ['fedavg', '--model', 'resnet'], /Allowed choices are logreg, mlp, 2nn, cnn, mcmahan-cnn/],
    ['an unknown command', ['fly'], /unknown command 'fly'/],
    ['a missing CSV file', ['fedavg', '--dataset', '/nonexistent/data.csv', '--rounds', '1'], /nonexistent\/data\.csv/],
    ['a missing Fashion-MNIST folder', ['fedavg', '--dataset', 'fashion-mnist', '--data-dir', '/nonexistent', '--rounds', '1'], /\/nonexistent/],
  ])('rejects %s with one clear line and no stack trace', (_name, args, message) => {
    const r = canopy(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('runs a short FedAvg and ends --json output with the summary line', () => {
    const r = canopy('fedavg', '--model', 'logreg', '--clients', '3', '--rounds', '2', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ round: 1 });
    const last = lines.at(-1)!;
    expect(Object.keys(last).sort()).toEqual(['accuracy', 'loss', 'rounds', 'wallSeconds']);
    expect(last.rounds).toBe(2);
    expect(last.accuracy).toBeGreaterThan(0.5);
  });

  it('benchmarks training on the backend asked for', () => {
    const r = canopy('bench', 'train', '--model', 'logreg', '--backend', 'cpu', '--seconds', '1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ model: 'logreg', backend: 'cpu', batch: 32 });
  });

  it('prints one JSON line per benchmark', () => {
    const r = canopy('bench', 'aggregate', '--clients', '4', '--params', '10000', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as Record<string, number>;
    expect(out).toMatchObject({ clients: 4, params: 10000 });
    expect(out.gbPerSec).toBeGreaterThan(0);
    expect(out.ratio).toBeCloseTo(out.gbPerSec! / out.memcpyGbPerSec!, 6);
  });
});
