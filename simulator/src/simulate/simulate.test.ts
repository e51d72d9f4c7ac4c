import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RoundRecord } from '../report/roundRecord.js';
import { simulate } from './simulate.js';
import { smallScenario } from '../run/testScenario.js';

// The runner end to end on small synthetic scenarios: the real protocol machines, the
// modelled network and the report, with nothing stubbed.

const withoutWall = (r: RoundRecord) => ({ ...r, wallSeconds: 0 });

describe('simulate', () => {
  it('is deterministic: the same seed gives the same records and final hash, another seed differs', async () => {
    const a: RoundRecord[] = [];
    const b: RoundRecord[] = [];
    const c: RoundRecord[] = [];
    const ra = await simulate(smallScenario(), { onRound: (r) => a.push(r) });
    const rb = await simulate(smallScenario(), { onRound: (r) => b.push(r) });
    const rc = await simulate(smallScenario(), { seed: 12, onRound: (r) => c.push(r) });
    expect(a.length).toBe(4);
    expect(b.map(withoutWall)).toEqual(a.map(withoutWall));
    expect(rb.repetitions[0]!.finalHash).toBe(ra.repetitions[0]!.finalHash);
    expect(rb.messages).toBe(ra.messages);
    // Another seed moves every latency and sample draw: the timeline differs.
    expect(c.map((r) => r.virtualSeconds)).not.toEqual(a.map((r) => r.virtualSeconds));
    expect(rc.bytesSent).not.toBe(ra.bytesSent);
  });

  it('finishes a small job with every member holding the root final hash, and learns', async () => {
    const r = await simulate(smallScenario());
    const rep = r.repetitions[0]!;
    expect(rep.stopReason).toBe('rounds');
    expect(rep.violations).toEqual([]);
    expect(rep.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rep.members).toBe(8 + 3 * 3);
    expect(rep.agreeing).toBe(rep.members);
    expect(r.rounds).toBe(4);
    expect(r.accuracy).toBeGreaterThan(0.5);
  });

  it('outvotes one lying worker per cluster under majority_2_3: same final model, faults recorded', async () => {
    const honest = await simulate(smallScenario());
    const records: RoundRecord[] = [];
    const lied = await simulate(smallScenario({ faults: { lyingWorkersPerCluster: 1, lie: 'sign-flip' } }), { onRound: (r) => records.push(r) });
    const rep = lied.repetitions[0]!;
    expect(rep.stopReason).toBe('rounds');
    expect(rep.finalHash).toBe(honest.repetitions[0]!.finalHash);
    const events = records.flatMap((r) => r.events ?? []);
    expect(events.some((e) => /outvoted as faults/.test(e))).toBe(true);
    expect(events.some((e) => /excluded from/.test(e))).toBe(true);
  });

  it('survives clients crashing mid-round and reports them', async () => {
    const records: RoundRecord[] = [];
    const r = await simulate(smallScenario({ faults: { clientCrashPerRound: 0.3 } }, { timing: { roundDeadlineSeconds: 30, quorum: 0.5 } }), { onRound: (x) => records.push(x) });
    const rep = r.repetitions[0]!;
    expect(rep.stopReason).toBe('rounds');
    expect(records).toHaveLength(4);
    expect(records.reduce((n, x) => n + x.crashed, 0)).toBeGreaterThan(0);
    for (const x of records) expect(x.participants + x.crashed, `round ${x.round}`).toBeLessThanOrEqual(8);
  });

  it.each([
    ['targetAccuracy', { rounds: 30, targetAccuracy: 0.5 }],
    ['targetLoss', { rounds: 30, targetLoss: 0.1 }],
    ['rounds', { rounds: 2 }],
  ] as const)('stops on %s', async (reason, stop) => {
    const r = await simulate(smallScenario({}, { stop }));
    const rep = r.repetitions[0]!;
    expect(rep.stopReason).toBe(reason);
    if (reason === 'rounds') expect(rep.rounds).toBe(2);
    else expect(rep.rounds).toBeLessThan(30);
  });

  it('runs each repetition with its own seeds and exports the run folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'canopy-sim-')), 'run');
    const r = await simulate(smallScenario({}, { stop: { rounds: 2 } }), { out: dir, repetitions: 2 });
    expect(r.repetitions.map((x) => x.repetition)).toEqual([0, 1]);
    expect(r.repetitions[0]!.finalHash).not.toBe(r.repetitions[1]!.finalHash);
    for (const f of ['run.json', 'rounds.jsonl', 'rounds.csv', 'summary.json', 'report.html']) expect(existsSync(join(dir, f)), f).toBe(true);
    const lines = readFileSync(join(dir, 'rounds.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(r.summary?.repetitions.map((x) => x.stopReason)).toEqual(['rounds', 'rounds']);
  });
});
