/** The TCP port a Canopy node listens on unless told otherwise; WebSockets use the next one. */
export const DEFAULT_PORT = 4001;

/**
 * The listen addresses of a node on every interface (IPv4): TCP on `port` and WebSockets on
 * `wsPort` (default `port + 1`); port 0 picks free ports at each start.
 */
export function defaultListen(port = DEFAULT_PORT, wsPort?: number): string[] {
  const ws = wsPort ?? (port === 0 ? 0 : port + 1);
  return [`/ip4/0.0.0.0/tcp/${port}`, `/ip4/0.0.0.0/tcp/${ws}/ws`];
}
