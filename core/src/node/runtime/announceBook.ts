import { AbortedError } from '../../util/errors.js';
import type { Announce } from './submission.js';

/** An announcement and the peer it came from. */
export interface Heard {
  readonly announce: Announce;
  readonly from: string;
}

/** Options of {@link AnnounceBook.wait}. */
export interface WaitOptions {
  readonly signal?: AbortSignal;
  /**
   * What the caller hopes to see (say, a finished job). Once some announcement matches the
   * query, the book keeps waiting up to `graceMs` for one that also satisfies `want`, then
   * settles for the furthest it heard. Without `want`, the first match is returned at once.
   */
  readonly want?: (a: Announce) => boolean;
  /** How long to wait for `want` after the first match (default 5 s: two announce periods and a half). */
  readonly graceMs?: number;
}

/** Whether an announcement reports the end of its job (finished with a result, or stopped for a reason). */
export function isTerminal(a: Announce): boolean {
  return a.processStage === 3 && (a.final !== null || a.stopReason !== null);
}

/**
 * Whether `a` reports at least as far a point of its job as `b`: a terminal announcement
 * outranks any other, then the higher round, then the higher stage within the round.
 * A root host's announcements only move forward, but gossip does not keep their order: a
 * peer that has just joined the topic is offered the last few seconds of messages from its
 * neighbours' caches, so an announcement made at submission can arrive after the finish.
 */
export function isAtLeastAsFar(a: Announce, b: Announce): boolean {
  const ta = isTerminal(a);
  const tb = isTerminal(b);
  if (ta !== tb) return ta;
  if (a.round !== b.round) return a.round > b.round;
  return a.processStage >= b.processStage;
}

/**
 * The furthest announcement heard of each job, by root id, and waits for one by root id or
 * name. Pure bookkeeping; the observer feeds it from the announce topic.
 */
export class AnnounceBook {
  private readonly byRoot = new Map<string, Heard>();
  private readonly waiters = new Set<() => void>();

  /** Records an announcement unless one further along was already heard; returns whether it was kept. */
  add(announce: Announce, from: string): boolean {
    const held = this.byRoot.get(announce.rootId);
    if (held && !isAtLeastAsFar(announce, held.announce)) return false;
    this.byRoot.set(announce.rootId, { announce, from });
    for (const w of [...this.waiters]) w();
    return true;
  }

  /** The furthest announcement of a job, by root id, else the last-heard job of that name. */
  latest(query: string): Heard | undefined {
    const exact = this.byRoot.get(query);
    if (exact) return exact;
    let last: Heard | undefined;
    for (const h of this.byRoot.values()) if (h.announce.name === query) last = h;
    return last;
  }

  /**
   * Waits for an announcement matching `query`; see {@link WaitOptions} for `want`. Rejects
   * with AbortedError if the signal fires before anything matched; once something did, an
   * abort settles for it.
   */
  async wait(query: string, { signal, want, graceMs = 5000 }: WaitOptions = {}): Promise<Heard> {
    let found = this.latest(query);
    while (!found) {
      if (signal?.aborted) throw new AbortedError(`waiting for an announcement of job ${query}`);
      await this.nextAdd(Infinity, signal);
      found = this.latest(query);
    }
    const deadline = Date.now() + graceMs;
    while (want && !want(found.announce) && Date.now() < deadline && !signal?.aborted) {
      await this.nextAdd(deadline - Date.now(), signal);
      found = this.latest(query) ?? found;
    }
    return found;
  }

  /** Resolves on the next kept announcement, after `ms`, or on abort, whichever comes first. */
  private nextAdd(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
