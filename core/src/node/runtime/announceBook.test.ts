import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AnnounceBook, isAtLeastAsFar, isTerminal } from './announceBook.js';
import type { Announce } from './submission.js';

const ref = { hash: 'a'.repeat(64), size: 10 };
const announce = (over: Partial<Announce> = {}): Announce => ({
  v: 1,
  type: 'job',
  rootId: 'job-1234',
  name: 'job',
  submission: ref,
  host: 'host-peer',
  round: 0,
  processStage: 0,
  final: null,
  downloadable: false,
  stopReason: null,
  metrics: null,
  ...over,
});

// The announcements a root host makes over a job's life, in order: submission, each round's
// stages, and the end.
function lifeOf(rounds: number, end: Partial<Announce>): Announce[] {
  const life = [announce()];
  for (let r = 1; r <= rounds; r++) for (let s = 1; s <= 3; s++) life.push(announce({ round: r, processStage: s }));
  life.push(announce({ round: rounds, processStage: 3, ...end }));
  return life;
}

describe('AnnounceBook', () => {
  it('keeps the furthest announcement of a job whatever order gossip delivers them in (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.infiniteStream(fc.nat()),
        (rounds, ok, keys) => {
          const life = lifeOf(rounds, ok ? { final: ref, downloadable: true, stopReason: 'rounds' } : { stopReason: 'quorum not reached' });
          const order = life.map((a) => ({ a, k: keys.next().value as number })).sort((x, y) => x.k - y.k);
          const book = new AnnounceBook();
          for (const { a } of order) book.add(a, 'host-peer');
          expect(book.latest('job-1234')?.announce).toEqual(life.at(-1));
          expect(isTerminal(book.latest('job')!.announce)).toBe(true);
        },
      ),
    );
  });

  it('ranks an end above any round, then rounds, then stages', () => {
    const done = announce({ round: 2, processStage: 3, final: ref, stopReason: 'rounds' });
    expect(isAtLeastAsFar(done, announce({ round: 9, processStage: 3 }))).toBe(true);
    expect(isAtLeastAsFar(announce({ round: 9, processStage: 3 }), done)).toBe(false);
    expect(isAtLeastAsFar(announce({ round: 3, processStage: 1 }), announce({ round: 2, processStage: 3 }))).toBe(true);
    expect(isAtLeastAsFar(announce({ round: 3, processStage: 1 }), announce({ round: 3, processStage: 2 }))).toBe(false);
    // A later snapshot of the same point replaces the held one (fresher metrics, say).
    const book = new AnnounceBook();
    book.add(announce({ round: 1, processStage: 2 }), 'h');
    expect(book.add(announce({ round: 1, processStage: 2, metrics: { loss: 1, accuracy: 0.5, samples: 10 } }), 'h')).toBe(true);
    expect(book.add(announce({ round: 1, processStage: 1 }), 'h')).toBe(false);
    expect(book.latest('job-1234')?.announce.metrics?.accuracy).toBe(0.5);
  });

  it('returns the first match at once when nothing more is wanted', async () => {
    const book = new AnnounceBook();
    const waiting = book.wait('job');
    book.add(announce({ rootId: 'other-1', name: 'other' }), 'h');
    book.add(announce({ round: 1, processStage: 1 }), 'h');
    expect((await waiting).announce.round).toBe(1);
  });

  it('waits past a stale announcement for the one it wants', async () => {
    const book = new AnnounceBook();
    book.add(announce(), 'h');
    const t0 = Date.now();
    const waiting = book.wait('job-1234', { want: isTerminal, graceMs: 5000 });
    setTimeout(() => book.add(announce({ round: 1, processStage: 3, final: ref, stopReason: 'rounds' }), 'h'), 50);
    const got = await waiting;
    expect(got.announce.final).toEqual(ref);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('settles for the furthest it heard once the grace is over', async () => {
    const book = new AnnounceBook();
    const waiting = book.wait('job-1234', { want: isTerminal, graceMs: 100 });
    book.add(announce({ round: 1, processStage: 1 }), 'h');
    setTimeout(() => book.add(announce({ round: 1, processStage: 2 }), 'h'), 20);
    const got = await waiting;
    expect(got.announce).toMatchObject({ round: 1, processStage: 2, final: null });
  });

  it('rejects on abort when nothing matched, and settles for a match when something did', async () => {
    const book = new AnnounceBook();
    await expect(book.wait('job-1234', { signal: AbortSignal.timeout(30) })).rejects.toThrow(/waiting for an announcement of job job-1234/);
    book.add(announce({ round: 2, processStage: 1 }), 'h');
    const got = await book.wait('job-1234', { want: isTerminal, graceMs: 60_000, signal: AbortSignal.timeout(30) });
    expect(got.announce.round).toBe(2);
  });
});
