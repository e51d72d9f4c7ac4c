import type { PowerMonitor } from 'electron';
import { IdleWatchRequest, unwrapMessage, type OwnerActivity } from './ownerActivityMessages.js';

/** The utility process as the activity watch uses it. */
export interface ActivityChild {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** Options of {@link watchOwnerActivity}; the defaults suit a desktop. */
export interface WatchOwnerActivityInit {
  /** How often to read the system's idle time. Default 5 s. */
  readonly pollMs?: number;
  /** Seconds without input after which the owner counts as away. Default 60. */
  readonly idleAfterSec?: number;
}

/**
 * Main's side of the "only while idle" limit: while the node host asks for it
 * (`idle:watch`), reads the system's idle time every `pollMs` and listens for the screen
 * locking, and posts `owner:activity` to the node host whenever the owner comes or goes.
 * A locked screen counts as away however recent the last input was.
 */
export function watchOwnerActivity(child: ActivityChild, powerMonitor: Pick<PowerMonitor, 'getSystemIdleTime' | 'on' | 'off'>, init: WatchOwnerActivityInit = {}): { close(): void } {
  const pollMs = init.pollMs ?? 5000;
  const idleAfterSec = init.idleAfterSec ?? 60;
  let timer: NodeJS.Timeout | undefined;
  let locked = false;
  let last: boolean | undefined;
  const check = () => {
    const active = !locked && powerMonitor.getSystemIdleTime() < idleAfterSec;
    if (active === last) return;
    last = active;
    child.postMessage({ t: 'owner:activity', active } satisfies OwnerActivity);
  };
  const onLock = () => {
    locked = true;
    check();
  };
  const onUnlock = () => {
    locked = false;
    check();
  };
  const start = () => {
    if (timer) return;
    timer = setInterval(check, pollMs);
    powerMonitor.on('lock-screen', onLock);
    powerMonitor.on('unlock-screen', onUnlock);
    check();
  };
  const stop = () => {
    if (!timer) return;
    clearInterval(timer);
    timer = undefined;
    powerMonitor.off('lock-screen', onLock);
    powerMonitor.off('unlock-screen', onUnlock);
    locked = false;
    last = undefined;
  };
  child.on('message', (raw: unknown) => {
    const req = IdleWatchRequest.safeParse(unwrapMessage(raw));
    if (!req.success) return;
    if (req.data.on) start();
    else stop();
  });
  child.on('exit', stop);
  return { close: stop };
}
