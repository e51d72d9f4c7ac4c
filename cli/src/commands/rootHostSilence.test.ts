import { describe, expect, it } from 'vitest';
import { SilenceTracker, formatSilence, type SilenceNotice } from './rootHostSilence.js';

describe('SilenceTracker', () => {
  // Each case: when the host was last heard (undefined: never) at each check, and what the
  // tracker says then. The tracker starts listening at t = 0 with an 8 s threshold.
  const cases: { name: string; checks: [at: number, heard: number | undefined, says: SilenceNotice | undefined][] }[] = [
    {
      name: 'a host heard every 2 s is never reported',
      checks: [
        [2_000, 2_000, undefined],
        [9_000, 8_000, undefined],
        [30_000, 29_000, undefined],
      ],
    },
    {
      name: 'a host never heard is reported from the start of listening, then as the silence doubles',
      checks: [
        [7_999, undefined, undefined],
        [8_000, undefined, { kind: 'silent', ms: 8_000 }],
        [15_000, undefined, undefined],
        [16_000, undefined, { kind: 'silent', ms: 16_000 }],
        [32_000, undefined, { kind: 'silent', ms: 32_000 }],
      ],
    },
    {
      name: 'a long silence is reported at most a minute apart',
      checks: [
        [8_000, 0, { kind: 'silent', ms: 8_000 }],
        [16_000, 0, { kind: 'silent', ms: 16_000 }],
        [32_000, 0, { kind: 'silent', ms: 32_000 }],
        [64_000, 0, { kind: 'silent', ms: 64_000 }],
        [123_000, 0, undefined],
        [124_000, 0, { kind: 'silent', ms: 124_000 }],
      ],
    },
    {
      name: 'a host heard again is reported back once, with the length of its silence',
      checks: [
        [3_000, 3_000, undefined],
        [12_000, 3_000, { kind: 'silent', ms: 9_000 }],
        [20_000, 19_500, { kind: 'back', ms: 16_500 }],
        [21_000, 21_000, undefined],
        // A second silence starts again from the threshold.
        [29_500, 21_000, { kind: 'silent', ms: 8_500 }],
      ],
    },
    {
      name: 'a host heard before it was ever reported silent is not reported back',
      checks: [
        [7_000, undefined, undefined],
        [7_500, 7_400, undefined],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = new SilenceTracker(0, 8_000);
      for (const [at, heard, says] of c.checks) expect(t.check(heard, at), `at ${at} ms, last heard ${heard}`).toEqual(says);
    });
  }
});

describe('formatSilence', () => {
  const cases: [ms: number, text: string][] = [
    [0, '0 s'],
    [8_999, '8 s'],
    [59_999, '59 s'],
    [60_000, '1 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '60 min'],
  ];
  for (const [ms, text] of cases) it(`${ms} ms reads "${text}"`, () => expect(formatSilence(ms)).toBe(text));
});
