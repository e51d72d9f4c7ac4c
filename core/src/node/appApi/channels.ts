// Channel names of the app contract, kept free of zod so that Electron's sandboxed preload
// (which may load nothing but `electron`) bundles to a few hundred bytes.

/** The event name as a subscription function: `node` → `onNode`. */
export type Subscriber<E extends string> = `on${Capitalize<E>}`;

/** The IPC channel of a request. Namespaced so that no other channel can collide with it. */
export function methodChannel(method: string): string {
  return `canopy:call:${method}`;
}

/** The IPC channel of an event. */
export function eventChannel(event: string): string {
  return `canopy:event:${event}`;
}

/** The subscription function's name for an event (`node` → `onNode`). */
export function subscriberName<E extends string>(event: E): Subscriber<E> {
  return `on${event.charAt(0).toUpperCase()}${event.slice(1)}` as Subscriber<E>;
}
