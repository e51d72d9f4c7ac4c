import { describe, expect, it } from 'vitest';
import { VirtualLoop } from './virtualLoop.js';

describe('VirtualLoop', () => {
  it('runs events in time order, equal times in scheduling order', async () => {
    const loop = new VirtualLoop();
    const seen: string[] = [];
    loop.at(20, () => seen.push('b'));
    loop.at(10, () => seen.push('a'));
    loop.at(20, () => seen.push('c'));
    loop.at(15, () => loop.after(5, () => seen.push('d')));
    expect(await loop.run()).toBe('idle');
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(loop.now).toBe(20);
  });

  it('runs object events (run()) in the same order as functions, and one object may be scheduled again once it ran', async () => {
    const loop = new VirtualLoop();
    const seen: string[] = [];
    const reused = {
      label: 'x1',
      run() {
        seen.push(this.label);
        if (this.label === 'x1') {
          this.label = 'x2';
          loop.at(30, this);
        }
      },
    };
    loop.at(20, () => seen.push('f20'));
    loop.at(10, reused);
    loop.at(30, () => seen.push('f30'));
    expect(await loop.run()).toBe('idle');
    expect(seen).toEqual(['x1', 'f20', 'f30', 'x2']);
  });

  it('waits for a held computation before passing its due time, however slowly it settles', async () => {
    for (const delayMs of [0, 30]) {
      const loop = new VirtualLoop();
      const seen: string[] = [];
      let result = 'pending';
      const work = new Promise<void>((resolve) => setTimeout(() => ((result = 'done'), resolve()), delayMs));
      loop.hold(100, work);
      loop.at(100, () => seen.push(`result ${result}`));
      loop.at(50, () => seen.push('early'));
      loop.at(150, () => seen.push('late'));
      await loop.run();
      expect(seen, `settling after ${delayMs} ms`).toEqual(['early', 'result done', 'late']);
    }
  });

  it('with many holds settling in any order, runs no event past an unsettled due time', async () => {
    const loop = new VirtualLoop();
    const dues = [30, 10, 20, 10, 50, 40];
    const settled = new Set<number>();
    // The later the due time, the sooner it settles: the opposite of the order the loop needs.
    dues.forEach((at, i) => loop.hold(at, new Promise<void>((resolve) => setTimeout(() => (settled.add(i), resolve()), 60 - at))));
    const seen: string[] = [];
    for (let t = 5; t <= 55; t += 5) {
      loop.at(t, () => {
        const late = dues.map((at, i) => (at <= t && !settled.has(i) ? `hold ${i} (due ${at})` : '')).filter(Boolean);
        seen.push(late.length ? `${t}: ${late.join(', ')}` : `${t}: ok`);
      });
    }
    expect(await loop.run()).toBe('idle');
    expect(seen.filter((x) => !x.endsWith('ok'))).toEqual([]);
    expect(seen).toHaveLength(11);
  });

  it('while it waits, lets its helper settle held work, and idles only when the helper has none', async () => {
    const loop = new VirtualLoop();
    // Two computations that only the helper will settle, one at a time, plus one on a timer.
    const queued: Array<() => void> = [];
    const byHelper = (name: string) => new Promise<string>((resolve) => queued.push(() => resolve(name)));
    const calls: string[] = [];
    loop.helper = () => {
      const next = queued.shift();
      calls.push(next ? 'helped' : 'nothing');
      next?.();
      return next !== undefined;
    };
    const results: string[] = [];
    for (const [at, p] of [
      [10, byHelper('a')],
      [20, byHelper('b')],
      [30, new Promise<string>((resolve) => setTimeout(() => resolve('timer'), 20))],
    ] as const) {
      loop.hold(at, p);
      void p.then((r) => results.push(r));
      loop.at(at, () => results.push(`event ${at}`));
    }
    expect(await loop.run()).toBe('idle');
    expect(results).toEqual(['a', 'event 10', 'b', 'event 20', 'timer', 'event 30']);
    // It helped twice, then found nothing and waited for the timer instead of spinning.
    expect(calls).toEqual(['helped', 'helped', 'nothing']);
  });

  it('stops at `until` with the clock there', async () => {
    const loop = new VirtualLoop();
    loop.at(10, () => undefined);
    loop.at(500, () => undefined);
    expect(await loop.run({ until: 100 })).toBe('until');
    expect(loop.now).toBe(100);
  });
});
