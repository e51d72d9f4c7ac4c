import type { Rng } from '@canopy/core/util';
import type { DeviceProfile } from '../engine/devices.js';

/**
 * When a device is online: alternating online and offline periods with exponentially
 * distributed lengths (the profile's means), starting online at time 0, drawn lazily from
 * the device's own random stream. It also tells when a sleeping device next wakes, which a
 * shell needs to put that device's timers off.
 */
export class Availability {
  // change points in ms: [0 (online), t1 (offline), t2 (online), ...]
  private readonly changes: number[] = [0];
  private readonly always: boolean;
  // The period of the last lookup: time mostly moves forward, so most lookups hit it.
  private cursor = 0;

  constructor(
    private readonly profile: Pick<DeviceProfile, 'meanOnlineSeconds' | 'meanOfflineSeconds'>,
    private readonly rng: Rng,
  ) {
    this.always = profile.meanOfflineSeconds === 0;
  }

  /** Whether the device is online at `ms`. */
  onlineAt(ms: number): boolean {
    if (this.always) return true;
    return this.period(ms) % 2 === 0;
  }

  /** The first time at or after `ms` when the device is online. */
  nextOnline(ms: number): number {
    if (this.always) return ms;
    const i = this.period(ms);
    return i % 2 === 0 ? ms : this.changes[i + 1]!;
  }

  // Index of the period containing ms; draws change points up to just past it.
  private period(ms: number): number {
    while (this.changes[this.changes.length - 1]! <= ms) this.extend();
    const c = this.cursor;
    if (this.changes[c]! <= ms && ms < this.changes[c + 1]!) return c;
    let lo = 0;
    let hi = this.changes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.changes[mid]! <= ms) lo = mid;
      else hi = mid - 1;
    }
    this.cursor = lo;
    return lo;
  }

  private extend(): void {
    const i = this.changes.length; // odd index starts an offline period
    const mean = (i % 2 === 1 ? this.profile.meanOnlineSeconds : this.profile.meanOfflineSeconds) * 1000;
    this.changes.push(this.changes[i - 1]! + -Math.log(1 - this.rng.float()) * mean);
  }
}
