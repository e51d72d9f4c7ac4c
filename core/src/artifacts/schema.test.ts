import { describe, expect, it } from 'vitest';
import { ManifestError } from '../util/errors.js';
import { compileArtifact } from './compile.js';
import { validateArtifact } from './schema.js';
import { artifactDoc } from './testing.js';

// Malformed artifacts are refused with the field named, before anything runs.

const cases: { name: string; doc: Record<string, unknown>; error: RegExp }[] = [
  { name: 'an unknown step kind lists the known ones', doc: artifactDoc({ steps: [{ kind: 'median', column: 'bmi' }] }), error: /steps\[0\]\.kind: unknown step kind; known kinds: filter, count, stats, histogram, train; found "median"/ },
  { name: 'a stats step without a column', doc: artifactDoc({ steps: [{ kind: 'stats' }] }), error: /steps\[0\]\.column/ },
  { name: 'an unknown stat', doc: artifactDoc({ steps: [{ kind: 'stats', column: 'x', ops: ['median'] }] }), error: /steps\[0\]\.ops\[0\]/ },
  { name: 'a histogram with max <= min', doc: artifactDoc({ steps: [{ kind: 'histogram', column: 'x', bins: { min: 5, max: 5, count: 3 } }] }), error: /steps\[0\]\.bins: bins\.max must be greater than bins\.min/ },
  { name: 'a filter comparing text with <', doc: artifactDoc({ steps: [{ kind: 'filter', where: [{ column: 'sex', op: '<', value: 'F' }] }, { kind: 'count' }] }), error: /steps\[0\]\.where\[0\]\.value: `<` compares numbers/ },
  { name: '`in` without a list', doc: artifactDoc({ steps: [{ kind: 'filter', where: [{ column: 'sex', op: 'in', value: 'F' }] }, { kind: 'count' }] }), error: /`in` needs a list/ },
  { name: 'only filters', doc: artifactDoc({ steps: [{ kind: 'filter', where: [{ column: 'a', op: '==', value: 1 }] }] }), error: /every step is a filter/ },
  { name: 'no steps', doc: artifactDoc({ steps: [] }), error: /steps: an artifact needs at least one step/ },
  { name: 'min with noise', doc: artifactDoc({ privacy: { noise: { kind: 'laplace', epsilon: 1, bounds: { bmi: { min: 10, max: 50 } } } }, steps: [{ kind: 'stats', column: 'bmi', ops: ['min'] }] }), error: /steps\[0\]\.ops: min cannot be released with Laplace noise/ },
  { name: 'noise without bounds', doc: artifactDoc({ privacy: { noise: { kind: 'laplace', epsilon: 1 } }, steps: [{ kind: 'stats', column: 'bmi', ops: ['mean'] }] }), error: /privacy\.noise\.bounds\.bmi: .*needs its bounds/ },
  { name: 'a negative minGroupSize', doc: artifactDoc({ privacy: { minGroupSize: -1 } }), error: /privacy\.minGroupSize/ },
  { name: 'analytics over a non-tabular source', doc: artifactDoc({ data: { source: { kind: 'mnist' } } }), error: /steps\[1\]: a count step reads a CSV table/ },
  { name: 'training on a table without a label column', doc: artifactDoc({ steps: [{ kind: 'train', model: { kind: 'logreg', inputShape: [3], numClasses: 2 }, train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8 }, rounds: 2 }] }), error: /steps\[0\]\.labelColumn/ },
  { name: 'a Job kind', doc: artifactDoc({ kind: 'Job' }), error: /kind: .*Artifact/ },
  { name: 'an unknown field', doc: artifactDoc({ stepz: [] }), error: /stepz/ },
  { name: 'a bad distribution', doc: artifactDoc({ distribution: 'ring' }), error: /distribution/ },
  { name: 'a cluster with both clients and clusters', doc: artifactDoc({ cluster: { host: 'h', workers: ['h'], clients: ['a'], clusters: [{ host: 'x', workers: ['x'], clients: ['b'] }] } }), error: /either `clients`/ },
];

describe('validateArtifact', () => {
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      let caught: unknown;
      try {
        compileArtifact(c.doc, 'bad.yaml');
      } catch (err) {
        caught = err;
      }
      expect(caught, c.name).toBeInstanceOf(ManifestError);
      expect((caught as Error).message, c.name).toMatch(/^bad\.yaml is not a valid manifest/);
      expect((caught as Error).message, c.name).toMatch(c.error);
    });
  }

  it('accepts the base artifact and fills the defaults', () => {
    const a = validateArtifact(artifactDoc());
    expect(a.distribution).toBe('collect');
    expect(a.allowResultDownload).toBe(false);
    expect(a.steps[2]).toMatchObject({ kind: 'stats', ops: ['count', 'sum', 'mean', 'variance', 'min', 'max'] });
  });
});
