import { beforeEach, describe, expect, it } from 'vitest';
import { Rng } from '@canopy/core/util';
import { NetworkModel, NetworkSpec, endpoint, type Endpoint } from './network.js';
import { DEFAULT_PROFILES, assignProfiles } from './devices.js';

describe('NetworkModel', () => {
  const cap = { upMbps: 8, downMbps: 80 }; // 8 Mbit/s = 1000 bytes per ms up
  const net = (spec: Partial<NetworkSpec>, seed = 1) => new NetworkModel(NetworkSpec.parse({ latency: { kind: 'constant', ms: 10 }, ...spec }), Rng.fromSeed(seed));
  // Each test's nodes, one endpoint per id (it carries the node's uplink queue).
  let ends = new Map<string, Endpoint>();
  const e = (id: string): Endpoint => ends.get(id) ?? ends.set(id, endpoint(id, cap)).get(id)!;
  beforeEach(() => {
    ends = new Map();
  });

  it('charges latency plus size over the narrower link, and serialises the uplink', () => {
    const n = net({});
    expect(n.deliverMessage(e('a'), e('b'), 1000, 0)).toBeCloseTo(11); // 10 ms + 1 ms transfer
    expect(n.deliverMessage(e('a'), e('c'), 1000, 0)).toBeCloseTo(12); // waits for the first copy
    expect(n.deliverBlob(e('x'), e('y'), 100_000, 0)).toBeCloseTo(10 + 10 + 100);
    expect(n.bytesSent).toBe(102_000);
  });
  it('drops about the configured share of messages', () => {
    const n = net({ loss: 0.3 });
    let lost = 0;
    for (let i = 0; i < 5000; i++) if (n.deliverMessage(e(`s${i}`), e('r'), 10, 0) === undefined) lost++;
    expect(lost / 5000).toBeGreaterThan(0.27);
    expect(lost / 5000).toBeLessThan(0.33);
  });
  it('cuts isolated nodes off only during their partition', () => {
    const n = net({ partitions: [{ fromSeconds: 10, toSeconds: 20, isolated: ['a', 'b'] }] });
    expect(n.deliverMessage(e('a'), e('c'), 10, 5_000)).toBeDefined();
    expect(n.deliverMessage(e('a'), e('c'), 10, 15_000)).toBeUndefined();
    expect(n.deliverMessage(e('a'), e('b'), 10, 15_000)).toBeDefined(); // inside the same side
    expect(n.deliverBlob(e('c'), e('b'), 10, 19_999)).toBeUndefined();
    expect(n.deliverMessage(e('a'), e('c'), 10, 20_000)).toBeDefined();
  });
  it('is a pure function of its seed', () => {
    const spec = { latency: { kind: 'lognormal' as const, medianMs: 30, sigma: 0.8 }, loss: 0.1 };
    const run = () => {
      ends = new Map();
      const n = net(spec, 9);
      return Array.from({ length: 50 }, (_, i) => n.deliverMessage(e('a'), e(`b${i}`), 100, i));
    };
    expect(run()).toEqual(run());
  });
});

describe('device profiles', () => {
  it('assigns profiles by share, reproducibly', () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => `n${i}`);
    const a = assignProfiles(nodes, DEFAULT_PROFILES, Rng.fromSeed(3));
    const b = assignProfiles(nodes, DEFAULT_PROFILES, Rng.fromSeed(3));
    expect([...a.values()].map((p) => p.name)).toEqual([...b.values()].map((p) => p.name));
    for (const p of DEFAULT_PROFILES) {
      const share = [...a.values()].filter((x) => x.name === p.name).length / nodes.length;
      expect(Math.abs(share - p.share), `${p.name} got ${share}`).toBeLessThan(0.02);
    }
  });
});
