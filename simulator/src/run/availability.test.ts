import { describe, expect, it } from 'vitest';
import { Rng } from '@canopy/core/util';
import { Availability } from './availability.js';

describe('Availability', () => {
  const profile = { meanOnlineSeconds: 100, meanOfflineSeconds: 50 };

  it('is online about the share the mean periods give, and answers the same question the same way', () => {
    const a = new Availability(profile, Rng.fromSeed(4));
    let online = 0;
    const samples = 20_000;
    for (let i = 0; i < samples; i++) if (a.onlineAt(i * 1000)) online++;
    expect(online / samples).toBeGreaterThan(0.6);
    expect(online / samples).toBeLessThan(0.73); // expected 2/3
    expect(a.onlineAt(12_345)).toBe(a.onlineAt(12_345));
  });

  it('says when an offline device next wakes, and that it is online then', () => {
    const a = new Availability(profile, Rng.fromSeed(9));
    let checked = 0;
    for (let t = 0; t < 2_000_000 && checked < 20; t += 7_000) {
      if (a.onlineAt(t)) {
        expect(a.nextOnline(t), `online at ${t}`).toBe(t);
        continue;
      }
      const wake = a.nextOnline(t);
      expect(wake, `offline at ${t}`).toBeGreaterThan(t);
      expect(a.onlineAt(wake), `awake at ${wake}`).toBe(true);
      expect(a.onlineAt(wake - 1), `still asleep just before ${wake}`).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('is always online without offline periods', () => {
    const a = new Availability({ meanOnlineSeconds: 100, meanOfflineSeconds: 0 }, Rng.fromSeed(1));
    expect(a.onlineAt(1e9)).toBe(true);
    expect(a.nextOnline(5)).toBe(5);
  });
});
