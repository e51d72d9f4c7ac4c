import { describe, expect, it } from 'vitest';
import { BadInputError } from '@canopy/core/util';
import { applyOverrides, parseOverride } from './overrides.js';

describe('--set overrides', () => {
  it('parses paths with dots and indices, and values as YAML', () => {
    expect(parseOverride('stop.rounds=20')).toMatchObject({ path: ['stop', 'rounds'], value: 20 });
    expect(parseOverride('cluster.clusters[1].timing.localRounds=3')).toMatchObject({ path: ['cluster', 'clusters', 1, 'timing', 'localRounds'], value: 3 });
    expect(parseOverride('cluster.clusters.0.host=h9')).toMatchObject({ path: ['cluster', 'clusters', 0, 'host'], value: 'h9' });
    expect(parseOverride('aggregator={kind: fedadam, serverLr: 0.05}').value).toEqual({ kind: 'fedadam', serverLr: 0.05 });
    expect(parseOverride('model.inputShape=[28, 28, 1]').value).toEqual([28, 28, 1]);
    expect(parseOverride('allowModelDownload=true').value).toBe(true);
    expect(parseOverride('description=a=b').value).toBe('a=b');
    expect(parseOverride('description=').value).toBeNull();
  });

  it.each([
    ['no equals sign', 'stop.rounds', /expected path\.to\.field=value/],
    ['an empty path', '=3', /expected path\.to\.field=value/],
    ['an empty segment', 'stop..rounds=3', /is not a field path/],
    ['a prototype key', '__proto__.polluted=1', /names no field/],
    ['a value that is not YAML', 'aggregator={kind: [', /not valid YAML/],
  ])('rejects %s with a clear error', (_n, text, message) => {
    expect(() => parseOverride(text)).toThrow(BadInputError);
    expect(() => parseOverride(text)).toThrow(message);
  });

  it('sets, creates and appends without changing the document it was given', () => {
    const doc = { stop: { rounds: 5 }, cluster: { clients: ['a', 'b'] } };
    const frozen = JSON.stringify(doc);
    const out = applyOverrides(doc, [parseOverride('stop.rounds=9'), parseOverride('stop.targetAccuracy=0.9'), parseOverride('cluster.clients[2]=c'), parseOverride('timing.roundDeadlineSeconds=60')]);
    expect(out).toEqual({ stop: { rounds: 9, targetAccuracy: 0.9 }, cluster: { clients: ['a', 'b', 'c'] }, timing: { roundDeadlineSeconds: 60 } });
    expect(JSON.stringify(doc)).toBe(frozen);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names the path when it runs through a value that is not a mapping or a list', () => {
    const doc = { name: 'x', cluster: { clients: ['a'] } };
    expect(() => applyOverrides(doc, [parseOverride('name.first=1')])).toThrow(/--set name\.first=1: name is not a mapping, so it has no field "first"/);
    expect(() => applyOverrides(doc, [parseOverride('cluster.clients[5]=z')])).toThrow(/cluster\.clients has 1 elements, so \[5\] is out of range/);
    expect(() => applyOverrides(doc, [parseOverride('cluster[0]=z')])).toThrow(/cluster is not a list/);
  });
});
