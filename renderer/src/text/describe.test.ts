import { describe, expect, it } from 'vitest';
import { describePrivacy } from './describe';

describe('describePrivacy', () => {
  it.each([
    ['no privacy', undefined, /^Not used: the cluster passes on its combined update without added noise\.$/],
    ['DP without a budget', { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } }, /^Yes\. Each client's update is cut down to size 1, and random noise \(1\.1× that size\).*δ = 0\.00001\. No limit on ε is set: it grows with every round\.$/],
    ['DP with a budget', { dp: { clip: 0.5, noiseMultiplier: 2, delta: 1e-6, budget: 8 } }, /^Yes\. .*δ = 0\.000001\. The job stops before ε would pass 8\.$/],
  ] as const)('%s', (_name, privacy, dp) => {
    const text = describePrivacy(privacy);
    expect(text.dp).toMatch(dp);
    expect(text.secureAggregation).toBe("Not used: the cluster's workers see each client's model update (never its data).");
  });
});
