import type { ArtifactManifestInput } from './schema.js';

// Artifacts for tests: a valid base to vary.

/** A valid artifact over five sites in one cluster; `over` replaces top-level fields. */
export function artifactDoc(over: Partial<Record<keyof ArtifactManifestInput, unknown>> = {}): Record<string, unknown> {
  return {
    apiVersion: 'canopy/v1',
    kind: 'Artifact',
    name: 'stats',
    data: { dataset: 'patients' },
    privacy: { minGroupSize: 3 },
    steps: [
      { kind: 'filter', where: [{ column: 'age', op: '>=', value: 40 }] },
      { kind: 'count' },
      { kind: 'stats', column: 'bmi' },
      { kind: 'histogram', column: 'bmi', bins: { min: 15, max: 45, count: 6 } },
    ],
    cluster: { host: 'hub', workers: ['hub', 'w1'], clients: ['s1', 's2', 's3', 's4', 's5'] },
    ...over,
  };
}
