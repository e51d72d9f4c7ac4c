/**
 * How long a job's root host may go unheard before `canopy job watch|status` say so. A root
 * host announces each of its jobs every 2 s and publishes the root job's snapshot on every
 * heartbeat, so 8 s is four announcements lost in a row: not a slow gossip mesh, but a host
 * that stopped, or a path to it that broke.
 */
export const ROOT_HOST_SILENT_MS = 8_000;

/** What a {@link SilenceTracker} has to say: the host went quiet, or spoke again after a silence. */
export type SilenceNotice = { readonly kind: 'silent'; readonly ms: number } | { readonly kind: 'back'; readonly ms: number };

/**
 * Decides when to tell the user about a root host's silence: once it passes the threshold,
 * again each time the silence has doubled (at most a minute apart, so a long wait still
 * shows it is being counted), and once when the host is heard again. Pure: the caller
 * passes the clock.
 */
export class SilenceTracker {
  private nextNoticeMs: number;
  private noticed = false;
  // When the host was last heard before the silence being reported.
  private silenceStart = 0;

  /** `since`: when listening began, the start of the silence if the host is never heard. */
  constructor(
    private readonly since: number,
    private readonly thresholdMs: number = ROOT_HOST_SILENT_MS,
  ) {
    this.nextNoticeMs = thresholdMs;
  }

  /** `heardAt`: when the host was last heard (undefined: not yet). */
  check(heardAt: number | undefined, now: number): SilenceNotice | undefined {
    const last = heardAt ?? this.since;
    const silentMs = now - last;
    if (this.noticed && silentMs < this.thresholdMs) {
      // It spoke again: the silence lasted from the last notice's start to `last`.
      const ms = last - this.silenceStart;
      this.noticed = false;
      this.nextNoticeMs = this.thresholdMs;
      return { kind: 'back', ms };
    }
    if (silentMs < this.nextNoticeMs) return undefined;
    this.noticed = true;
    this.silenceStart = last;
    this.nextNoticeMs = silentMs + Math.min(silentMs, 60_000);
    return { kind: 'silent', ms: silentMs };
  }
}

/** "8 s", "2 min 5 s": a duration as people read it. */
export function formatSilence(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}
