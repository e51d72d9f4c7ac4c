import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from './eventQueue.js';

describe('EventQueue', () => {
  it('pops in (time, insertion) order for any input (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const out: Array<[number, number]> = [];
        for (let e = q.pop(); e; e = q.pop()) out.push([e.at, e.event]);
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
      { seed: 1, numRuns: 100 },
    );
  });
  it('tells the time of the next event', () => {
    const q = new EventQueue<string>();
    expect(q.peekTime()).toBeUndefined();
    q.push(30, 'b');
    q.push(10, 'a');
    expect(q.peekTime()).toBe(10);
  });
  it('refuses a non-finite time', () => {
    expect(() => new EventQueue().push(Number.NaN, 1)).toThrow(RangeError);
  });
});
