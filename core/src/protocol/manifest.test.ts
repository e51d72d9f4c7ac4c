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
    ['model.kind', 'resnet', /model\.kind: .*expected one of .*found "resnet"/],
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
});
