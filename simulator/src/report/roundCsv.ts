import { STAGES, totalOf, type RoundRecord } from './roundRecord.js';

// The per-round CSV: one row per round of every repetition, fixed columns so a spreadsheet
// or pandas reads it without help. Levels get one column each, so the header depends on
// the tree's depth, which is known before the first round.

/** Quotes a CSV field when it holds a comma, quote, line break or edge space (RFC 4180). */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV line, with its line break. */
export function csvLine(fields: readonly (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

/** The column names of the per-round CSV of a tree with `levels` levels. */
export function roundCsvHeader(levels: number): string[] {
  const perLevel = (name: string) => Array.from({ length: levels }, (_, l) => `${name}_l${l}`);
  return [
    'repetition',
    'round',
    'virtual_seconds',
    'wall_seconds',
    'accuracy',
    'loss',
    'participants',
    'stragglers',
    'crashed',
    ...perLevel('bytes'),
    'bytes_total',
    ...perLevel('messages'),
    'messages_total',
    ...STAGES.map((s) => `stage_${s}_seconds`),
    'events',
  ];
}

/** The CSV fields of one round, in {@link roundCsvHeader}'s order. Throws on a level the header has no column for. */
export function roundCsvFields(r: RoundRecord, levels: number): (string | number | null)[] {
  for (const key of [...Object.keys(r.bytesByLevel), ...Object.keys(r.messagesByLevel)]) {
    if (Number(key) >= levels) throw new RangeError(`round ${r.round} reports level ${key}, but the run has ${levels} level(s)`);
  }
  const perLevel = (m: Readonly<Record<string, number>>) => Array.from({ length: levels }, (_, l) => m[String(l)] ?? 0);
  return [
    r.repetition,
    r.round,
    r.virtualSeconds,
    r.wallSeconds,
    r.accuracy,
    r.loss,
    r.participants,
    r.stragglers,
    r.crashed,
    ...perLevel(r.bytesByLevel),
    totalOf(r.bytesByLevel),
    ...perLevel(r.messagesByLevel),
    totalOf(r.messagesByLevel),
    ...STAGES.map((s) => r.stageLatencies[s] ?? null),
    (r.events ?? []).join('; '),
  ];
}
