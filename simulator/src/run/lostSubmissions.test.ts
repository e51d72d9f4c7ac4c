import { describe, expect, it } from 'vitest';
import type { RoundRecord } from '../report/roundRecord.js';
import { runRepetition } from './repetition.js';
import { smallScenario } from './testScenario.js';

// PROTOCOL.md §6.12 through the whole simulator: a client sends its submission once; one lost
// on the way is resent only when the host's snapshot names the client in `missing`.

describe('lost submissions under message loss', () => {
  it('are recovered through the missing list: every round closes with all 8 clients, well before its deadline', async () => {
    // quorum 1: training closes early only once every sampled client's submission is in (or the
    // rest went offline), so a lost submission that nobody recovers holds its round to the 60 s
    // deadline. With 20 % loss, ~6 of the 32 submissions are lost.
    const scenario = smallScenario(
      { network: { latency: { kind: 'lognormal', medianMs: 20, sigma: 0.5 }, loss: 0.2, partitions: [] } },
      { timing: { roundDeadlineSeconds: 60, quorum: 1 } },
    );
    const records: RoundRecord[] = [];
    const r = await runRepetition(scenario, 0, { onRound: (x) => records.push(x) });
    expect([r.stopReason, r.rounds, r.violations]).toEqual(['rounds', 4, []]);
    expect(r.agreeing).toBe(r.members);
    const durations = records.map((x, i) => x.virtualSeconds - (i === 0 ? 0 : records[i - 1]!.virtualSeconds));
    expect(records.map((x) => [x.participants, x.stragglers])).toEqual(records.map(() => [8, 0]));
    for (const d of durations.slice(1)) expect(d, `a round took ${d} virtual seconds`).toBeLessThan(60);
  });
});
