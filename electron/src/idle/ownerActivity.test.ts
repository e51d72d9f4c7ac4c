import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { IdleGate } from '@canopy/core/compute';
import { syntheticCompute } from '@canopy/core/compute';
import { followOwnerActivity } from './followOwnerActivity.js';
import { watchOwnerActivity } from './watchOwnerActivity.js';

// Main's and the node host's "only while idle" wiring, in Node. Only Electron is stood in:
// powerMonitor (its idle time and lock events) and the utility process's two ends of the
// port. The node side is the real gate a CanopyNode wraps its compute in; the polling timer
// is advanced by hand.

class FakePowerMonitor extends EventEmitter {
  idleSec = 0;
  getSystemIdleTime(): number {
    return this.idleSec;
  }
}

// The utility process as main sees it, and its parent port as the node host sees it, joined.
function fakeUtilityProcess() {
  const child = new EventEmitter() as EventEmitter & { postMessage(m: unknown): void };
  const parent = new EventEmitter() as EventEmitter & { postMessage(m: unknown): void };
  const toHost: unknown[] = [];
  const toMain: unknown[] = [];
  child.postMessage = (m) => {
    toHost.push(m);
    parent.emit('message', { data: m });
  };
  parent.postMessage = (m) => {
    toMain.push(m);
    child.emit('message', m);
  };
  return { child, parent, toHost, toMain };
}

function wire(idleOnly: boolean) {
  const power = new FakePowerMonitor();
  const proc = fakeUtilityProcess();
  const gate = new IdleGate(syntheticCompute());
  watchOwnerActivity(proc.child as never, power as never, { pollMs: 5000, idleAfterSec: 60 });
  const host = followOwnerActivity(proc.parent as never, gate, idleOnly);
  return { power, gate, host, ...proc };
}

describe('the "only while idle" limit between main and the node host', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
  afterEach(() => vi.useRealTimers());

  it('pauses the node while the system has had input in the last minute, and resumes it after', () => {
    const { power, gate, toHost } = wire(true);
    // Watching starts with a report: the owner typed just now.
    expect(toHost).toEqual([{ t: 'owner:activity', active: true }]);
    expect(gate.ownerActive).toBe(true);
    power.idleSec = 59;
    vi.advanceTimersByTime(5000);
    expect(gate.ownerActive).toBe(true);
    power.idleSec = 60;
    vi.advanceTimersByTime(5000);
    expect(gate.ownerActive).toBe(false);
    // Only changes are reported.
    vi.advanceTimersByTime(20_000);
    expect(toHost).toEqual([
      { t: 'owner:activity', active: true },
      { t: 'owner:activity', active: false },
    ]);
  });

  it('counts a locked screen as away, whatever the idle time', () => {
    const { power, gate } = wire(true);
    expect(gate.ownerActive).toBe(true);
    power.emit('lock-screen');
    expect(gate.ownerActive).toBe(false);
    vi.advanceTimersByTime(5000);
    expect(gate.ownerActive).toBe(false);
    power.emit('unlock-screen');
    expect(gate.ownerActive).toBe(true);
  });

  it('sends nothing while the limit is off, and stops watching (and lets training run) when it is turned off', () => {
    const off = wire(false);
    off.power.emit('lock-screen');
    vi.advanceTimersByTime(60_000);
    expect(off.toMain).toEqual([]);
    expect(off.toHost).toEqual([]);
    expect(off.gate.ownerActive).toBe(false);

    const { power, gate, host, toHost, toMain } = wire(true);
    expect(gate.ownerActive).toBe(true);
    host.setIdleOnly(false);
    expect(toMain).toEqual([
      { t: 'idle:watch', on: true },
      { t: 'idle:watch', on: false },
    ]);
    expect(gate.ownerActive).toBe(false);
    power.idleSec = 0;
    power.emit('lock-screen');
    power.emit('unlock-screen');
    vi.advanceTimersByTime(60_000);
    expect(toHost).toEqual([{ t: 'owner:activity', active: true }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores messages that are not its own', () => {
    const { child, parent, gate } = wire(true);
    child.emit('message', { data: { t: 'idle:watch', on: 'yes' } });
    parent.emit('message', { data: { t: 'owner:activity', active: 'no' } });
    parent.emit('message', { data: 'garbage' });
    expect(gate.ownerActive).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
  });
});
