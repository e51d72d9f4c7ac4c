import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseManifest, validateManifest, type ManifestInput } from '@canopy/core/protocol';
import { ManifestError } from '@canopy/core/util';

// Property-based fuzzing of the manifest parser (issue #14): generated manifests, the same
// manifests with their YAML text mutated, hostile shapes (deep nesting, alias bombs, huge
// strings, wide trees) and arbitrary JSON values. The one property: parsing either returns a
// manifest or throws a ManifestError; anything else (a TypeError, a RangeError from a stack
// overflow, a library's own exception) is a failure, kept with the input that caused it.

/** What one fuzzing run found. */
export interface ManifestFuzzReport {
  readonly runs: number;
  readonly seed: number;
  /** Inputs by family: generated YAML, mutated YAML, hostile YAML, arbitrary values. */
  readonly byFamily: Record<Family, number>;
  readonly accepted: number;
  readonly manifestErrors: number;
  /** Inputs that threw something other than a ManifestError (first few kept). */
  readonly otherErrors: number;
  readonly failures: readonly { readonly family: Family; readonly error: string; readonly input: string }[];
  readonly ms: number;
}

type Family = 'generated' | 'mutated' | 'hostile' | 'value';
type Case = { family: Family; text?: string; value?: unknown };

const id = fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/);

/** Mostly `valid`, sometimes one of `invalid`: enough valid manifests get past the schema. */
function mostly<T>(valid: fc.Arbitrary<T>, ...invalid: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 8, arbitrary: valid }, ...invalid.map((arbitrary) => ({ weight: 1, arbitrary })));
}

const timing = fc.record(
  {
    roundDeadlineSeconds: mostly(fc.integer({ min: 1, max: 1000 }), fc.double()),
    quorum: mostly(fc.double({ min: 0.1, max: 1, noNaN: true }), fc.double({ min: -0.5, max: 1.5 })),
    sampleFraction: fc.double({ min: 0, max: 1 }),
    localRounds: mostly(fc.integer({ min: 1, max: 5 }), fc.integer({ min: -1, max: 0 })),
    distribution: mostly(fc.constantFrom('collect', 'sequential'), fc.constant('other')),
  },
  { requiredKeys: [] },
);

// A cluster tree of bounded depth whose members are drawn from a small pool, so repeated
// members (a host among its clients, a client in two leaves) come up often.
const cluster: fc.Memo<unknown> = fc.memo((n): fc.Arbitrary<unknown> =>
  n <= 1
    ? fc.record({ host: id, workers: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }), clients: fc.uniqueArray(id, { minLength: 1, maxLength: 6 }), timing: fc.option(timing, { nil: undefined }) }, { requiredKeys: ['host', 'workers', 'clients'] })
    : fc.oneof(
        cluster(1),
        fc.record({ host: id, workers: fc.uniqueArray(id, { minLength: 1, maxLength: 3 }), clusters: fc.array(cluster(n - 1), { minLength: 1, maxLength: 3 }), timing: fc.option(timing, { nil: undefined }) }, { requiredKeys: ['host', 'workers', 'clusters'] }),
      ),
);

const manifest = fc.record(
  {
    apiVersion: mostly(fc.constant('canopy/v1'), fc.constant('canopy/v2')),
    kind: mostly(fc.constant('Job'), fc.constant('Artifact')),
    name: mostly(id, fc.string({ maxLength: 80 })),
    model: fc.record({ kind: mostly(fc.constantFrom('logreg', 'mlp', '2nn'), fc.constant('resnet')), inputShape: mostly(fc.constant([784]), fc.array(fc.integer({ min: -1, max: 800 }), { maxLength: 4 })), numClasses: mostly(fc.constant(10), fc.integer({ min: 0, max: 12 })) }),
    train: fc.record({ optimizer: fc.record({ kind: mostly(fc.constant('sgd'), fc.constant('x')), lr: mostly(fc.double({ min: 0.001, max: 1, noNaN: true }), fc.double({ min: -1, max: 10_000 })) }), epochs: mostly(fc.integer({ min: 1, max: 3 }), fc.constant(0)), batchSize: mostly(fc.integer({ min: 1, max: 64 }), fc.constant(0)) }),
    stop: fc.record({ rounds: mostly(fc.integer({ min: 1, max: 10 }), fc.constant(0)), targetAccuracy: mostly(fc.double({ min: 0.1, max: 1, noNaN: true }), fc.double({ min: 0, max: 2 })) }, { requiredKeys: ['rounds'] }),
    dataset: fc.record({ source: mostly(fc.constantFrom({ kind: 'mnist' }, { kind: 'csv', path: 'x.csv', labelColumn: 'y' }), fc.constant({ kind: 'x' })), seed: fc.integer(), distributor: id }, { requiredKeys: ['source'] }),
    timing,
    consensus: mostly(fc.constantFrom('majority_2_3', 'unanimous', 'single'), fc.constant('most')),
    cluster: cluster(4),
    peers: fc.dictionary(id, fc.record({ peerId: fc.string({ minLength: 1 }), addresses: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 3 }) }, { requiredKeys: [] })),
  },
  { requiredKeys: ['apiVersion', 'kind', 'name', 'model', 'train', 'stop', 'dataset', 'cluster'] },
);

// Edits of YAML text: each picks a position and deletes, inserts or repeats text there.
const edit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('delete', 'insert', 'repeat', 'indent'),
  length: fc.integer({ min: 1, max: 40 }),
  text: fc.constantFrom('[', ']', '{', '}', ': ', '- ', '&a ', '*a', '\n', '\n  ', '"', "'", '#', '!!binary ', '<<: *a\n', '? ', '|\n', '\t', '\u0000', '\ufeff', 'null', '~', '1e999'),
});

function applyEdits(text: string, edits: readonly { at: number; kind: string; length: number; text: string }[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % t.length;
    if (e.kind === 'delete') t = t.slice(0, at) + t.slice(at + e.length);
    else if (e.kind === 'insert') t = t.slice(0, at) + e.text + t.slice(at);
    else if (e.kind === 'repeat') t = t.slice(0, at) + t.slice(at, at + e.length).repeat(e.length) + t.slice(at);
    else t = t.slice(0, at) + ' '.repeat(e.length * 8) + t.slice(at);
  }
  return t;
}

// Shapes built to exhaust a parser: nesting by brackets, by indentation and by clusters,
// alias bombs, a string of megabytes, a leaf with very many clients.
const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 5000 }).map((n) => `x: ${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 3000 }).map((n) => `x:\n${Array.from({ length: Math.min(n, 600) }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}y`),
  fc.integer({ min: 1, max: 400 }).map((n) => `x: ${'- '.repeat(n)}y`),
  fc.integer({ min: 2, max: 12 }).map((levels) => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
    return lines.join('\n');
  }),
  fc.integer({ min: 1, max: 200 }).map((depth) => {
    let c = '{host: h, workers: [w], clients: [c]}';
    for (let i = 0; i < depth; i++) c = `{host: h${i}, workers: [w], clusters: [${c}]}`;
    return `apiVersion: canopy/v1\nkind: Job\nname: deep\nmodel: {kind: mlp, inputShape: [4], numClasses: 2}\ntrain: {optimizer: {kind: sgd, lr: 0.1}, epochs: 1, batchSize: 4}\nstop: {rounds: 1}\ndataset: {source: {kind: mnist}}\ncluster: ${c}\n`;
  }),
  fc.constantFrom(5, 9).map((mib) => `name: "${'n'.repeat(mib * 1024 * 1024)}"`),
  fc.constantFrom('x: &a [*a]', 'x: *nothing', '--- a\n--- b', '%YAML 9.9\n---\nx: 1', '!!js/function "x"', 'x: !!binary AAAA', '<<: [*a]'),
);

const anyCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 3, arbitrary: manifest.map((m) => ({ family: 'generated' as const, text: stringify(m) })) },
  { weight: 4, arbitrary: fc.tuple(manifest, fc.array(edit, { minLength: 1, maxLength: 6 })).map(([m, e]) => ({ family: 'mutated' as const, text: applyEdits(stringify(m), e) })) },
  { weight: 1, arbitrary: hostile.map((text) => ({ family: 'hostile' as const, text })) },
  { weight: 2, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 8 }), fc.anything({ maxDepth: 6 }), manifest).map((value) => ({ family: 'value' as const, value })) },
);

/** Runs the parser over `runs` generated inputs from `seed`; see {@link ManifestFuzzReport}. */
export function fuzzManifests({ runs, seed }: { runs: number; seed: number }): ManifestFuzzReport {
  const started = performance.now();
  const byFamily: Record<Family, number> = { generated: 0, mutated: 0, hostile: 0, value: 0 };
  let accepted = 0;
  let manifestErrors = 0;
  let otherErrors = 0;
  const failures: { family: Family; error: string; input: string }[] = [];
  for (const c of fc.sample(anyCase, { numRuns: runs, seed })) {
    byFamily[c.family]++;
    try {
      if (c.text !== undefined) parseManifest(c.text, 'fuzz.yaml');
      else validateManifest(c.value as ManifestInput, 'fuzz');
      accepted++;
    } catch (err) {
      if (err instanceof ManifestError) {
        manifestErrors++;
        continue;
      }
      otherErrors++;
      if (failures.length < 5) failures.push({ family: c.family, error: String(err).slice(0, 300), input: (c.text ?? safeJson(c.value)).slice(0, 300) });
    }
  }
  return { runs, seed, byFamily, accepted, manifestErrors, otherErrors, failures, ms: Math.round(performance.now() - started) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
