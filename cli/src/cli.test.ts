import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    ['an unknown model', ['fedavg', '--model', 'resnet'], /'resnet' is neither a built-in model \(logreg, mlp, 2nn, cnn, mcmahan-cnn\) nor a model.json file/],
    ['an unknown command', ['fly'], /unknown command 'fly'/],
    ['a missing CSV file', ['fedavg', '--dataset', '/nonexistent/data.csv', '--rounds', '1'], /nonexistent\/data\.csv/],
    ['a missing Fashion-MNIST folder', ['fedavg', '--dataset', 'fashion-mnist', '--data-dir', '/nonexistent', '--rounds', '1'], /\/nonexistent/],
    ['a --listen that is not a multiaddr', ['node', '--listen', 'garbage', '--data-dir', '/nonexistent-canopy'], /^canopy: --listen garbage: not a multiaddr .*expected e\.g\. \/ip4\/127\.0\.0\.1\/tcp\/4001\n$/],
    ['a --bootstrap that is not a multiaddr', ['node', '--bootstrap', '/ip4/1.2.3', '--data-dir', '/nonexistent-canopy'], /^canopy: --bootstrap \/ip4\/1\.2\.3: not a multiaddr/],
    ['DP flags without a noise setting', ['fedavg', '--dp-clip', '1'], /^canopy: differential privacy needs --dp-clip and exactly one of --dp-noise and --dp-epsilon\n$/],
    ['a server hyper-parameter the aggregator does not take', ['fedavg', '--server-lr', '0.5'], /^canopy: --server-lr applies to --aggregator fedavgm, fedadam, fedyogi, fedadagrad, not fedavg\n$/],
    ['DP with a robust aggregator', ['fedavg', '--dp-clip', '1', '--dp-noise', '1', '--aggregator', 'median'], /use --aggregator fedavg, not median/],
    ['a secure-aggregation bench of 2 clients', ['bench', 'secagg', '--clients', '2'], /--clients takes integers of at least 3/],
    ['a data dir that is a file', ['node', '--data-dir', '/dev/null', '--listen', '/ip4/127.0.0.1/tcp/0', '--status-every', '0'], /^canopy: cannot start the node: .*ENOTDIR.*\n$/],
  ])('rejects %s with one clear line and no stack trace', (_name, args, message) => {
    const r = canopy(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('rejects a manifest nested thousands deep, or an alias bomb, with one ManifestError and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-cli-manifest-'));
    try {
      const deep = join(dir, 'deep.yaml');
      writeFileSync(deep, `apiVersion: canopy/v1\nkind: Job\nname: x\ncluster: ${'{clusters: ['.repeat(5000)}{}${']}'.repeat(5000)}\n`);
      const bomb = join(dir, 'bomb.yaml');
      writeFileSync(bomb, ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n'));
      const cases = [
        [['local', deep], /line 4 nests brackets more than 64 deep/],
        [['job', 'submit', bomb, '--peer', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDYDQCR4EYDbpBYgEwTsJuW8Pe6jcKhp6z3CQAt9xD66P'], /YAML aliases: .*at most 100 alias expansions/],
      ] as const;
      for (const [args, message] of cases) {
        {
          const r = canopy(...args);
          expect(r.code, args.join(' ')).toBe(1);
          expect(r.stderr, args.join(' ')).toMatch(/^canopy: .* is not a valid manifest:\n/);
          expect(r.stderr, args.join(' ')).toMatch(message);
          expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at .*\.js:\d+/);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a short FedAvg and ends --json output with the summary line', () => {
    const r = canopy('fedavg', '--model', 'logreg', '--clients', '3', '--rounds', '2', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ round: 1 });
    const last = lines.at(-1)!;
    expect(Object.keys(last).sort()).toEqual(['accuracy', 'cpuSeconds', 'loss', 'rounds', 'threads', 'wallSeconds']);
    expect(last.rounds).toBe(2);
    expect(last.threads).toBe(1);
    expect(last.cpuSeconds).toBeGreaterThan(0);
    expect(last.accuracy).toBeGreaterThan(0.5);
  });

  it('runs DP-FedAvg to a target ε and reports the ε spent after every round', () => {
    const r = canopy('fedavg', '--model', 'logreg', '--clients', '10', '--fraction', '0.5', '--rounds', '2', '--dp-clip', '1', '--dp-epsilon', '4', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines).toHaveLength(3);
    expect(lines[0]!.epsilon).toBeGreaterThan(0);
    expect(lines[0]!.epsilon).toBeLessThan(lines[1]!.epsilon!);
    expect(lines[1]!.epsilon).toBeLessThanOrEqual(4);
    expect(lines[1]!.epsilon).toBeGreaterThan(3.99);
    expect(lines.at(-1)).toMatchObject({ rounds: 2, clip: 1, samplingRate: 0.5, delta: 1e-5 });
  });

  it('compares secure aggregation with a plain round, exact, in one JSON line per client count', () => {
    const r = canopy('bench', 'secagg', '--clients', '5,8', '--params', '100', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { clients: number; exact: boolean; ratioSent: number });
    expect(lines.map((l) => [l.clients, l.exact])).toEqual([[5, true], [8, true]]);
    expect(lines[0]!.ratioSent).toBeGreaterThan(1);
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
