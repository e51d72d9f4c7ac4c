import { OwnerActivity, unwrapMessage, type IdleWatchRequest } from './ownerActivityMessages.js';

/** The utility process's parent port, as the activity hand-shake uses it. */
export interface ActivityParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

/** What the node host pauses: a CanopyNode. */
export interface OwnerActivityTarget {
  setOwnerActive(active: boolean): void;
}

/**
 * The node host's side of the "only while idle" limit: asks main to watch the owner's
 * activity while the limit is on and hands main's reports to the node. Turning the limit off
 * stops the watch and lets held training run at once.
 */
export function followOwnerActivity(parent: ActivityParentPort, node: OwnerActivityTarget, idleOnly: boolean): { setIdleOnly(on: boolean): void } {
  let on = false;
  parent.on('message', (e) => {
    const msg = OwnerActivity.safeParse(unwrapMessage(e));
    // A report that crosses the owner turning the limit off is stale: ignore it.
    if (msg.success && on) node.setOwnerActive(msg.data.active);
  });
  const setIdleOnly = (next: boolean) => {
    if (next === on) return;
    on = next;
    parent.postMessage({ t: 'idle:watch', on } satisfies IdleWatchRequest);
    if (!on) node.setOwnerActive(false);
  };
  setIdleOnly(idleOnly);
  return { setIdleOnly };
}
