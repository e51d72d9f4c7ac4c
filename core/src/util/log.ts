import { pino, type Logger } from 'pino';

/** A structured logger. Call as `log.info({ job, round }, 'round finished')`. */
export type Log = Logger;

/**
 * Creates a structured logger named after a component. Level comes from `CANOPY_LOG`
 * (trace|debug|info|warn|error|silent), default `info`; output is JSON lines on stderr,
 * so stdout stays free for a command's result.
 */
export function createLog(component: string, level = process.env.CANOPY_LOG ?? 'info'): Log {
  return pino({ name: component, level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}
