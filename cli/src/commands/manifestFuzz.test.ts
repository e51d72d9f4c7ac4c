import { describe, expect, it } from 'vitest';
import { fuzzManifests } from './manifestFuzz.js';

// A small run of the manifest fuzzer in every `npm test`; `canopy bench manifest-fuzz`
// runs 10,000 and more (docs/CLI.md).
describe('manifest parser under fuzzing', () => {
  it('throws nothing but ManifestError for 200 generated, mutated and hostile manifests', () => {
    const report = fuzzManifests({ runs: 200, seed: 14 });
    expect(report.failures).toEqual([]);
    expect(report.otherErrors).toBe(0);
    // Every family was exercised, and both outcomes occurred: the generator is not all-reject.
    for (const [family, n] of Object.entries(report.byFamily)) expect(n, family).toBeGreaterThan(0);
    expect(report.manifestErrors).toBeGreaterThan(0);
    expect(report.accepted + report.manifestErrors).toBe(200);
  });
});
