import type { LogEntry, OutboxEntry } from '../api/types';
import type { Slice } from './sliceTypes';

/** How many outbox entries and log lines the UI keeps. */
export const ACTIVITY_LIMIT = 2000;

/** What left this machine (the outbox) and the node's log. */
export interface ActivitySlice {
  outbox: OutboxEntry[];
  logs: LogEntry[];
  addOutbox(entries: readonly OutboxEntry[]): void;
  addLogs(entries: readonly LogEntry[]): void;
}

/** Creates the activity slice. */
export const createActivitySlice = (): Slice<ActivitySlice> => (set) => ({
  outbox: [],
  logs: [],
  addOutbox: (entries) => set((s) => (entries.length === 0 ? s : { outbox: capped([...s.outbox, ...entries]) })),
  addLogs: (entries) => set((s) => (entries.length === 0 ? s : { logs: capped([...s.logs, ...entries.filter((e) => !s.logs.some((l) => l.seq === e.seq))]) })),
});

function capped<T>(list: T[]): T[] {
  return list.length > ACTIVITY_LIMIT ? list.slice(list.length - ACTIVITY_LIMIT) : list;
}

/** Bytes sent per round, for the Outbox screen's summary. */
export function bytesByRound(outbox: readonly OutboxEntry[]): { round: number; bytes: number; items: number }[] {
  const byRound = new Map<number, { round: number; bytes: number; items: number }>();
  for (const e of outbox) {
    const r = byRound.get(e.round) ?? { round: e.round, bytes: 0, items: 0 };
    r.bytes += e.bytes;
    r.items += 1;
    byRound.set(e.round, r);
  }
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}
