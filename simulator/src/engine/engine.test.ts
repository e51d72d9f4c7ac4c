import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '@canopy/core/util';
import { EventQueue } from './eventQueue.js';
import { Simulation } from './simulation.js';
import { NetworkModel, NetworkSpec } from './network.js';
import { AvailabilityTrace, DEFAULT_PROFILES, assignProfiles, DeviceProfile } from './devices.js';

describe('EventQueue', () => {
  it('pops in (time, insertion) order for any input (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const out: Array<[number, number]> = [];
        for (let e = q.pop(); e; e = q.pop()) out.push([e.at, e.value]);
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
      { seed: 1, numRuns: 100 },
    );
  });
  it('refuses a non-finite time', () => {
    expect(() => new EventQueue().push(Number.NaN, 1)).toThrow(RangeError);
  });
});

describe('Simulation', () => {
  it('advances virtual time event by event, and actions can schedule more', () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.at(100, () => {
      log.push(`a@${sim.now}`);
      sim.after(50, () => log.push(`c@${sim.now}`));
    });
    sim.at(120, () => log.push(`b@${sim.now}`));
    expect(sim.run()).toBe('idle');
    expect(log).toEqual(['a@100', 'b@120', 'c@150']);
  });
  it.each<[string, { until?: number; maxEvents?: number }, string, number]>([
    ['until', { until: 15 }, 'until', 2],
    ['maxEvents', { maxEvents: 3 }, 'maxEvents', 3],
  ])('stops on %s', (_n, opts, reason, ran) => {
    const sim = new Simulation();
    for (let i = 0; i < 5; i++) sim.at(i * 10, () => undefined);
    expect(sim.run(opts)).toBe(reason);
    expect(sim.eventsRun).toBe(ran);
  });
  it('never runs an event in the past', () => {
    const sim = new Simulation();
    let when = -1;
    sim.at(50, () => sim.at(10, () => (when = sim.now)));
    sim.run();
    expect(when).toBe(50);
  });
});

describe('NetworkModel', () => {
  const cap = () => ({ upMbps: 8, downMbps: 80 }); // 8 Mbit/s = 1000 bytes per ms up
  const net = (spec: Partial<NetworkSpec>, seed = 1) => new NetworkModel(NetworkSpec.parse({ latency: { kind: 'constant', ms: 10 }, ...spec }), Rng.fromSeed(seed), cap);

  it('charges latency plus size over the narrower link, and serialises the uplink', () => {
    const n = net({});
    expect(n.deliverMessage('a', 'b', 1000, 0)).toBeCloseTo(11); // 10 ms + 1 ms transfer
    expect(n.deliverMessage('a', 'c', 1000, 0)).toBeCloseTo(12); // waits for the first copy
    expect(n.deliverBlob('x', 'y', 100_000, 0)).toBeCloseTo(10 + 10 + 100);
    expect(n.bytesSent).toBe(102_000);
  });
  it('drops about the configured share of messages', () => {
    const n = net({ loss: 0.3 });
    let lost = 0;
    for (let i = 0; i < 5000; i++) if (n.deliverMessage(`s${i}`, 'r', 10, 0) === undefined) lost++;
    expect(lost / 5000).toBeGreaterThan(0.27);
    expect(lost / 5000).toBeLessThan(0.33);
  });
  it('cuts isolated nodes off only during their partition', () => {
    const n = net({ partitions: [{ fromSeconds: 10, toSeconds: 20, isolated: ['a', 'b'] }] });
    expect(n.deliverMessage('a', 'c', 10, 5_000)).toBeDefined();
    expect(n.deliverMessage('a', 'c', 10, 15_000)).toBeUndefined();
    expect(n.deliverMessage('a', 'b', 10, 15_000)).toBeDefined(); // inside the same side
    expect(n.deliverBlob('c', 'b', 10, 19_999)).toBeUndefined();
    expect(n.deliverMessage('a', 'c', 10, 20_000)).toBeDefined();
  });
  it('is a pure function of its seed', () => {
    const spec = { latency: { kind: 'lognormal' as const, medianMs: 30, sigma: 0.8 }, loss: 0.1 };
    const run = () => Array.from({ length: 50 }, (_, i) => net(spec, 9).deliverMessage('a', `b${i}`, 100, i));
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
  it('availability alternates with the configured mean periods and answers consistently', () => {
    const profile = DeviceProfile.parse({ name: 'x', share: 1, speed: 1, upMbps: 1, downMbps: 1, meanOnlineSeconds: 100, meanOfflineSeconds: 50 });
    const trace = new AvailabilityTrace(profile, Rng.fromSeed(4));
    let online = 0;
    const samples = 20_000;
    for (let i = 0; i < samples; i++) if (trace.onlineAt(i * 1000)) online++;
    expect(online / samples).toBeGreaterThan(0.6);
    expect(online / samples).toBeLessThan(0.73); // expected 2/3
    expect(trace.onlineAt(12_345)).toBe(trace.onlineAt(12_345));
    const always = new AvailabilityTrace({ ...profile, meanOfflineSeconds: 0 }, Rng.fromSeed(4));
    expect(always.onlineAt(1e9)).toBe(true);
  });
});
