import { describe, expect, it } from 'vitest';
import { reachedStopCondition } from './stopOutcome.js';

describe('reachedStopCondition', () => {
  it.each<[string | null | undefined, boolean]>([
    ['rounds: 5 of 5 done', true],
    ['targetAccuracy: 0.9100 >= 0.9', true],
    ['targetLoss: 0.2000 <= 0.3', true],
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
