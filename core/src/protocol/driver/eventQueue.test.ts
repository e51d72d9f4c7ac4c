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
        for (let at = q.peekTime(); at !== undefined; at = q.peekTime()) out.push([at, q.take()!]);
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
      { seed: 1, numRuns: 100 },
    );
  });
  it('keeps that order when pushes and pops interleave, past its initial capacity (property)', () => {
    const op = fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 50 }) }), fc.constant({ pop: true as const }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), fc.integer({ min: 0, max: 2000 }), (ops, preload) => {
        const q = new EventQueue<number>();
        // A plain list sorted by (time, insertion): what the heap must agree with.
        const model: Array<[number, number]> = [];
        let n = 0;
        let now = 0;
        const push = (dt: number) => {
          const at = now + dt;
          q.push(at, n);
          model.push([at, n++]);
          model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        };
        for (let i = 0; i < preload; i++) push(i % 97);
        for (const o of ops) {
          if ('push' in o) push(o.push);
          else {
            const want = model.shift();
            expect(q.peekTime()).toBe(want?.[0]);
            const got = q.take();
            expect(got).toBe(want?.[1]);
            if (want) now = want[0];
          }
          expect(q.size).toBe(model.length);
        }
      }),
      { seed: 2, numRuns: 40 },
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
