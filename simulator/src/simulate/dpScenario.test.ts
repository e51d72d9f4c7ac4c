import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '@canopy/core/protocol';
import type { RoundRecord } from '../report/roundRecord.js';
import { parseScenario } from '../scenario/scenario.js';
import { simulate } from './simulate.js';

// The shipped DP scenario end to end (PROTOCOL.md §6.14): ε in every round record rises with
// each round and never passes the budget, and the run stops with `privacyBudget` before the
// round that would.

describe('dp-synthetic.yaml', () => {
  it('records ε every round and stops at the budget', async () => {
    const file = fileURLToPath(new URL('../../../examples/scenarios/dp-synthetic.yaml', import.meta.url));
    const scenario = parseScenario(readFileSync(file, 'utf8'), 'dp-synthetic.yaml');
    const rounds: RoundRecord[] = [];
    const result = await simulate(scenario, { onRound: (r) => rounds.push(r) });
    const rep = result.repetitions[0]!;
    expect(rep.stopReason).toBe('privacyBudget');
    expect(rep.detail).toMatch(/^privacy budget: dp-synthetic has spent ε=\d+\.\d{3} \(δ=0\.00001\) over \d+ rounds; one more would reach ε=\d+\.\d{3} > budget 6$/);
    const eps = rounds.map((r) => r.epsilon);
    expect(eps.every((e) => typeof e === 'number')).toBe(true);
    for (let i = 1; i < eps.length; i++) expect(eps[i]!, `round ${i + 1}`).toBeGreaterThan(eps[i - 1]!);
    expect(eps.at(-1)!).toBeLessThanOrEqual(6);
    // The first round samples 40 of 200 eligible clients: one step at q = 0.2, σ = 1.
    expect(eps[0]!).toBeCloseTo(new RdpAccountant().compose(0.2, 1).epsilon(1e-5), 9);
    expect(rounds.length).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
