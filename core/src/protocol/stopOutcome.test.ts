import { describe, expect, it } from 'vitest';
import { reachedStopCondition } from './stopOutcome.js';

describe('reachedStopCondition', () => {
  it.each<[string | null | undefined, boolean]>([
    ['rounds: 5 of 5 done', true],
    ['targetAccuracy: 0.9100 >= 0.9', true],
    ['targetLoss: 0.2000 <= 0.3', true],
    ['privacy budget: J has spent ε=1.234 (δ=0.00001) over 3 rounds; one more would reach ε=1.500 > budget 1.4', true],
    ['failed: privacy budget: J#0 has spent ε=1.234 (δ=0.00001) over 3 rounds; one more would reach ε=1.500 > budget 1.4', false],
    ['failed: round 3: quorum not reached (0 of 2 needed submissions)', false],
    ['parent J: failed: round 1: quorum not reached (1 of 2 needed submissions)', false],
    ['dataset unavailable: ENOENT', false],
    ['roundsish', false],
    [null, false],
    [undefined, false],
  ])('%s -> %s', (reason, reached) => {
    expect(reachedStopCondition(reason)).toBe(reached);
  });
});
