import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { encodeSyntheticParams, syntheticInit } from '@canopy/core/ml';
import { sha256Hex } from '@canopy/core/util';
import type { RoundRecord } from '../report/roundRecord.js';
import { simulate } from '../simulate/simulate.js';
import { ScenarioError, parseScenario, validateScenario, type Scenario } from '../scenario/scenario.js';
import { FIDELITY_MAX_MEMBERS, checkFidelity } from './limits.js';

// Issue #5's acceptance for fidelity mode: "Same protocol, same answer." The shipped
// 2-level, 8-client synthetic scenario runs on the modelled network and on real libp2p
// nodes over @libp2p/memory, and both end with the same final parameter hash, round by
// round the same models. Shortened to 3 rounds and 1 repetition to keep the real run short.

const yamlText = readFileSync(new URL('../../../examples/scenarios/small-synthetic.yaml', import.meta.url), 'utf8');

function smallSynthetic(job: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Scenario {
  const raw = parse(yamlText) as { job: Record<string, unknown> };
  return validateScenario({ ...raw, job: { ...raw.job, stop: { rounds: 3 }, ...job }, repetitions: 1, ...top }, 'small-synthetic.yaml');
}

const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('canopy-fidelity-'));
/** What must agree between the two transports; times, bytes and messages do not. */
const model = (r: RoundRecord) => ({ round: r.round, participants: r.participants, stragglers: r.stragglers, crashed: r.crashed, accuracy: r.accuracy, loss: r.loss });

describe('fidelity mode (transport: libp2p)', () => {
  it('gives small-synthetic the same final parameter hash as the modelled network, and the same model every round', async () => {
    const scenario = smallSynthetic();
    expect(scenario.transport).toBe('modelled');
    const before = leftovers();

    const modelledRounds: RoundRecord[] = [];
    const modelled = await simulate(scenario, { onRound: (r) => modelledRounds.push(r) });
    const realRounds: RoundRecord[] = [];
    const warnings: string[] = [];
    const real = await simulate(scenario, { transport: 'libp2p', onRound: (r) => realRounds.push(r), onWarning: (w) => warnings.push(w) });

    const m = modelled.repetitions[0]!;
    const r = real.repetitions[0]!;
    expect(m.stopReason, m.detail).toBe('rounds');
    expect(r.stopReason, r.detail).toBe('rounds');
    expect(m.rounds).toBe(3);
    expect(r.rounds).toBe(3);
    // The answer: a real hash, the same on both transports, and not the untrained model's.
    const training = scenario.training.mode === 'synthetic' ? scenario.training : undefined;
    const initial = sha256Hex(encodeSyntheticParams(syntheticInit(training!.params, scenario.job.train.seed)));
    expect(m.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.finalHash, JSON.stringify(realRounds.flatMap((x) => x.events ?? []))).toBe(m.finalHash);
    expect(r.finalHash).not.toBe(initial);
    smallSyntheticFinal = r.finalHash;
    // Every client and worker of the real run holds it; nothing was rejected on the wire.
    expect(r.members).toBe(8 + 3 * 3);
    expect(r.agreeing).toBe(r.members);
    expect(r.violations).toEqual([]);
    // Round by round: the same participants and the same global model (its loss and accuracy, exactly).
    expect(realRounds.map(model)).toEqual(modelledRounds.map(model));
    expect(realRounds.map((x) => x.participants)).toEqual([8, 8, 8]);
    expect(realRounds[2]!.loss!).toBeLessThan(realRounds[0]!.loss!);

    // The same result shape: wall-clock "virtual" time, the nodes' own traffic counters.
    expect(real.transport).toBe('libp2p');
    expect(real.virtualSeconds).toBeGreaterThan(0);
    expect(real.virtualSeconds).toBeLessThanOrEqual(real.wallSeconds);
    expect(real.bytesSent).toBeGreaterThan(0);
    expect(real.messages).toBeGreaterThan(0);
    expect(realRounds[0]!.stageLatencies.jobSheets).toBeGreaterThan(0);
    expect(Object.keys(realRounds[0]!.bytesByLevel).sort()).toEqual(['0', '1']);
    expect(warnings.some((w) => w.includes('network.latency'))).toBe(true);
    expect(warnings.some((w) => w.includes('devices'))).toBe(true);
    // The nodes' data directories are gone.
    expect(leftovers().filter((f) => !before.includes(f))).toEqual([]);
  }, 120_000);

  it('draws the same client samples as the modelled shell: with sampleFraction 0.5 the hash still agrees', async () => {
    // A host draws each round's sample from its machine's random stream; real nodes seed it
    // as the modelled shell does (CanopyNode's machineSeed), or the two would sample different clients.
    const scenario = smallSynthetic({ stop: { rounds: 2 }, timing: { roundDeadlineSeconds: 60, sampleFraction: 0.5 } });
    const modelledRounds: RoundRecord[] = [];
    const modelled = await simulate(scenario, { onRound: (r) => modelledRounds.push(r) });
    const realRounds: RoundRecord[] = [];
    const real = await simulate(scenario, { transport: 'libp2p', onRound: (r) => realRounds.push(r) });
    const m = modelled.repetitions[0]!;
    const r = real.repetitions[0]!;
    expect(r.stopReason, r.detail).toBe('rounds');
    // Half the sub-clusters, half their clients: 2 of 8 train each round.
    expect(modelledRounds.map((x) => x.participants)).toEqual([2, 2]);
    expect(realRounds.map(model)).toEqual(modelledRounds.map(model));
    expect(m.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.finalHash, JSON.stringify(realRounds.flatMap((x) => x.events ?? []))).toBe(m.finalHash);
    expect(r.finalHash).not.toBe(smallSyntheticFinal);
  }, 120_000);
});

// The first test's answer, to show the sampled run computed something else.
let smallSyntheticFinal: string | null = null;

describe('fidelity mode refuses what real nodes cannot play', () => {
  it('refuses real training, naming training.mode and transport', async () => {
    const text = readFileSync(new URL('../../../examples/scenarios/default.yaml', import.meta.url), 'utf8');
    const scenario = parseScenario(text, 'default.yaml');
    const run = simulate(scenario, { transport: 'libp2p' });
    await expect(run).rejects.toThrow(ScenarioError);
    await expect(run).rejects.toThrow(/default cannot run with transport: libp2p[\s\S]*training\.mode: .*synthetic training only; found real/);
  });

  it(`refuses more than ${FIDELITY_MAX_MEMBERS} members, saying how many`, async () => {
    const big = smallSynthetic({ tree: { depth: 2, fanout: 2, clientsPerLeaf: 100, workersPerCluster: 3 } });
    await expect(simulate(big, { transport: 'libp2p' })).rejects.toThrow(/transport: libp2p starts one real node per member, at most 50; this scenario has 212/);
  });

  it('names every fault and network setting it cannot play, and what it ignores', () => {
    const check = checkFidelity(
      smallSynthetic({}, {
        faults: { clientCrashPerRound: 0.2, hostCrashes: [{ host: 'host-0', atSeconds: 5 }], lyingWorkersPerCluster: 1, lie: 'sign-flip' },
        network: { loss: 0.01, partitions: [{ fromSeconds: 1, toSeconds: 2, isolated: ['host-0'] }] },
      }),
    );
    expect(check.members).toBe(20);
    expect(check.problems.map((p) => p.split(':')[0])).toEqual(['faults.clientCrashPerRound', 'faults.hostCrashes', 'network.loss', 'network.partitions']);
    expect(check.ignored.map((p) => p.split(':')[0])).toEqual(['network.latency', 'devices', 'training.secondsPerSample', 'faults.lie']);
    expect(checkFidelity(smallSynthetic()).problems).toEqual([]);
    // Aggregation threads are the modelled network's; a libp2p node aggregates in its runtime.
    const training = { mode: 'synthetic', params: 1000, samplesPerClient: 500, aggregateThreads: 1 };
    expect(checkFidelity(smallSynthetic({}, { training })).ignored.map((p) => p.split(':')[0])).toContain('training.aggregateThreads');
    expect(checkFidelity(smallSynthetic()).ignored.map((p) => p.split(':')[0])).not.toContain('training.aggregateThreads');
  });

  it('reads transport from the scenario, libp2p or modelled only', () => {
    const raw = parse(yamlText) as Record<string, unknown>;
    expect(validateScenario({ ...raw, transport: 'libp2p' }).transport).toBe('libp2p');
    expect(() => validateScenario({ ...raw, transport: 'tcp' }, 's.yaml')).toThrow(/transport: expected one of "modelled"\|"libp2p"|transport/);
  });
});
