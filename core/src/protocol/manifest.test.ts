import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseManifest, validateManifest, DEFAULT_TIMING } from './manifest.js';
import { ManifestError } from '../util/errors.js';

const good = {
  apiVersion: 'canopy/v1',
  kind: 'Job',
  name: 'demo',
  model: { kind: 'mlp', inputShape: [784], numClasses: 10 },
  train: { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 1, batchSize: 32 },
  stop: { rounds: 3 },
  dataset: { source: { kind: 'mnist' } },
  cluster: { host: 'h', workers: ['w1', 'w2', 'w3'], clusters: [{ host: 'h0', workers: ['w1'], clients: ['a', 'b'] }] },
};
const withField = (path: string, value: unknown) => {
  const copy = structuredClone(good) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  if (value === undefined) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
  return copy;
};

describe('job manifest', () => {
  it('applies defaults to a minimal manifest', () => {
    const m = validateManifest(good);
    expect(m.aggregator).toEqual({ kind: 'fedavg' });
    expect(m.consensus).toBe('majority_2_3');
    expect(m.allowModelDownload).toBe(false);
    expect(m.dataset.partition).toEqual({ kind: 'iid' });
    expect(m.train.mu).toBe(0);
    expect(DEFAULT_TIMING.quorum).toBe(1);
  });

  it.each<[string, unknown, RegExp]>([
    ['name', 'a#b', /name: letters, digits.*found "a#b"/],
    ['apiVersion', 'canopy/v2', /apiVersion: .*found "canopy\/v2"/],
    ['model.kind', 'resnet', /model\.kind: .*Expected .*'mcmahan-cnn' \| 'keras'; found "resnet"/],
    ['model.numClasses', 1, /model\.numClasses: .*found 1/],
    ['train.optimizer.lr', 0, /train\.optimizer\.lr: .*>0.*found 0/],
    ['train.batchSize', 1.5, /train\.batchSize: .*expected int; found 1\.5/],
    ['stop.rounds', undefined, /stop\.rounds: .*found nothing/],
    ['stop.targetAccuracy', 1.5, /stop\.targetAccuracy: .*found 1\.5/],
    ['consensus', 'most', /consensus: .*majority_2_3.*found "most"/],
    ['timing', { quorum: 0 }, /timing\.quorum: .*found 0/],
    ['dataset.partition', { kind: 'dirichlet' }, /dataset\.partition\.alpha: .*found nothing/],
    ['aggregator', { kind: 'krum', f: -1 }, /aggregator\.f: .*found -1/],
    ['cluster.workers', [], /cluster\.workers: a cluster needs at least one worker/],
    ['cluster.clients', ['x'], /cluster: a cluster has either `clients` \(a leaf\) or `clusters`/],
    ['cluster.colour', 'red', /cluster: Unrecognized key.*colour/],
    ['extra', true, /Unrecognized key.*extra/],
  ])('names the field when %s is wrong', (path, value, message) => {
    let err: unknown;
    try {
      validateManifest(withField(path, value), 'job.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toMatch(/^job\.yaml is not a valid manifest:/);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a peer that is a client of two leaf clusters', () => {
    const m = withField('cluster.clusters', [
      { host: 'h0', workers: ['w'], clients: ['a'] },
      { host: 'h1', workers: ['w'], clients: ['a'] },
    ]);
    expect(() => validateManifest(m)).toThrow(/cluster\.clusters\[1\]\.clients: a is already a client in cluster\.clusters\[0\]/);
  });

  it.each<[string, string, RegExp]>([
    ['bad YAML', 'name: [unclosed', /YAML syntax/],
    ['duplicate keys', 'name: a\nname: b\n', /YAML syntax.*[Mm]ap keys must be unique/],
    ['not a mapping', '- 1\n- 2\n', /\(top level\)/],
  ])('reports %s', (_name, text, message) => {
    expect(() => parseManifest(text, 'x.yaml')).toThrow(message);
  });

  it('parses every shipped example', () => {
    const dir = fileURLToPath(new URL('../../../examples/jobs/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      expect(() => parseManifest(readFileSync(dir + f, 'utf8'), f), f).not.toThrow();
    }
  });

  it.each(['lenet5', 'resnet-small'])('the %s example job carries examples/models/%s.json unchanged, and a Lambda in it fails naming the layer', (name) => {
    const text = readFileSync(new URL(`../../../examples/jobs/${name}-mnist.yaml`, import.meta.url), 'utf8');
    const model = JSON.parse(readFileSync(new URL(`../../../examples/models/${name}.json`, import.meta.url), 'utf8')) as { modelTopology: unknown };
    const m = parseManifest(text, `${name}-mnist.yaml`);
    expect(m.model.kind === 'keras' && m.model.topology).toEqual(model.modelTopology);
    const evil = text.replace(/class_name: Dense\n(\s+)config:\n/, 'class_name: Lambda\n$1config:\n$1  function: [print(1)]\n');
    expect(evil).not.toBe(text);
    expect(() => parseManifest(evil, 'evil.yaml')).toThrow(/model\.topology: model topology: layer '\w+' \(Lambda\): Lambda layers carry code and are never accepted/);
  });
});

describe('manifest limits', () => {
  const yamlOf = (cluster: string) =>
    `apiVersion: canopy/v1\nkind: Job\nname: deep\nmodel: {kind: mlp, inputShape: [4], numClasses: 2}\ntrain: {optimizer: {kind: sgd, lr: 0.1}, epochs: 1, batchSize: 4}\nstop: {rounds: 1}\ndataset: {source: {kind: mnist}}\ncluster: ${cluster}\n`;
  const nested = (depth: number) => {
    let c = '{host: h, workers: [w], clients: [c]}';
    for (let i = 0; i < depth; i++) c = `{host: h${i}, workers: [w], clusters: [${c}]}`;
    return c;
  };
  const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n');

  it.each<[string, string, RegExp]>([
    ['brackets nested 100,000 deep', `x: ${'['.repeat(100_000)}`, /line 1 nests brackets more than 64 deep/],
    ['block sequences indented 3,000 deep', `x:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}y`, /nested more than 256 columns deep/],
    ['an alias bomb', bomb, /YAML aliases: .*at most 100 alias expansions/],
    ['an alias to nothing', 'x: *nowhere', /YAML aliases: .*nowhere/],
    ['a self-referencing alias', 'x: &a [*a]', /x\[0\]\[0\].*: nested more than 64 levels deep/],
    ['a 9 MiB manifest', `name: ${'n'.repeat(9 * 2 ** 20)}`, /the manifest is \d+ characters, more than the limit/],
    ['a quoted string of 1 MiB', `name: "${'n'.repeat(2 ** 20)}"`, /quoted string of more than 4096 characters/],
    ['a plain string of 1 MiB', `description: ${'n'.repeat(2 ** 20)}`, /description: a string of 1048576 characters/],
    ['clusters nested 17 deep', yamlOf(nested(17)), /cluster(\.clusters\[0\]){17}: clusters nested more than 16 levels/],
    ['clusters nested 40 deep in flow brackets', yamlOf(nested(40)), /line 8 nests brackets more than 64 deep/],
  ])('rejects %s with a ManifestError naming where', (_name, text, message) => {
    let err: unknown;
    try {
      parseManifest(text, 'x.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a parsed value nested 5,000 clusters deep (JSON from a peer) without overflowing the stack', () => {
    let c: object = { host: 'h', workers: ['w'], clients: ['c'] };
    for (let i = 0; i < 5000; i++) c = { host: `h${i}`, workers: ['w'], clusters: [c] };
    expect(() => validateManifest(withField('cluster', c))).toThrow(/cluster(\.clusters\[0\])+.*: nested more than 64 levels deep/);
  });

  it('accepts clusters nested 16 deep', () => {
    expect(parseManifest(yamlOf(nested(16)), 'x.yaml').name).toBe('deep');
  });

  it('rejects more sub-clusters than the fan-out limit, and a leaf list beyond the list limit', () => {
    const wide = withField('cluster.clusters', Array.from({ length: 10_001 }, (_, i) => ({ host: `h${i}`, workers: ['w'], clients: [`c${i}`] })));
    expect(() => validateManifest(wide)).toThrow(/cluster\.clusters: .*10000/);
    const crowded = withField('cluster.clusters', [{ host: 'h0', workers: ['w'], clients: Array.from({ length: 100_001 }, (_, i) => `c${i}`) }]);
    expect(() => validateManifest(crowded)).toThrow(/cluster\.clusters\[0\]\.clients: a list of 100001 items, more than the limit of 100000/);
  });

  it.each<[string, object, RegExp]>([
    ['its host', { host: 'h0', workers: ['w'], clients: ['a', 'h0'] }, /cluster\.clusters\[0\]\.clients: h0 hosts this cluster and may not also be one of its clients/],
    ['one of its workers', { host: 'h0', workers: ['w', 'x'], clients: ['x', 'b'] }, /cluster\.clusters\[0\]\.clients: x is a worker of this cluster and may not also be one of its clients/],
  ])('rejects a leaf cluster that lists %s among its clients', (_name, leaf, message) => {
    expect(() => validateManifest(withField('cluster.clusters', [leaf]), 'job.yaml')).toThrow(message);
  });
});
