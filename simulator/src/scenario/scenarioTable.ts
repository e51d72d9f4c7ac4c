import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { decodeTable, type Table } from '@canopy/core/artifacts';
import type { ClusterSpec } from '@canopy/core/protocol';
import { DataFileError, Rng } from '@canopy/core/util';

// The data of an artifact scenario (docs/SIMULATOR.md, "Artifacts"): one or more CSV files,
// read once, whose rows are dealt out to the virtual leaf clients. Each client then holds
// what a real node would decode from its own CSV file: its rows are written out as CSV text
// and decoded with core's `decodeTable`, the very function a node runs on its file, so
// column kinds (a column is numeric when all of *this node's* cells are) come out alike.

/** A column name, as in artifact steps. */
const Column = z.string().min(1).max(128);

/** How the rows are dealt to the leaf clients (in the tree's order, depth first). */
export const TableSplit = z.discriminatedUnion(
  'kind',
  [
    /** Rows shuffled with the seed, then dealt in shares whose sizes differ by at most one. */
    z.strictObject({ kind: z.literal('iid') }),
    /** Rows in file order, cut into consecutive blocks whose sizes differ by at most one. */
    z.strictObject({ kind: z.literal('contiguous') }),
    /** Client i gets the i-th file of `csv`, whole: as many files as leaf clients. */
    z.strictObject({ kind: z.literal('files') }),
    /**
     * Skew by a column: for each distinct value of `column`, the clients' shares of its rows
     * are drawn from Dirichlet(alpha) (small alpha: each client sees few values).
     */
    z.strictObject({ kind: z.literal('dirichlet'), column: Column, alpha: z.number().positive().max(1000) }),
  ],
  { error: 'expected `kind: iid`, `contiguous`, `files` or `dirichlet`' },
);
export type TableSplit = z.infer<typeof TableSplit>;

/** Where an artifact scenario's virtual clients get their tables. */
export const ScenarioData = z.strictObject({
  /** A CSV file, or several with the same header (concatenated in order); paths are relative to the scenario file. */
  csv: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(100_000)]).transform((c) => (Array.isArray(c) ? c : [c])),
  split: TableSplit.default({ kind: 'iid' }),
  /** Seed of the split; repetition r uses seed + r. */
  seed: z.number().int().default(0),
});
export type ScenarioData = z.infer<typeof ScenarioData>;

/** The rows of an artifact scenario's CSV files, as text cells. */
export interface SourceRows {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** For each file of `csv`, its first row's index in `rows` and its row count. */
  readonly files: readonly { readonly path: string; readonly start: number; readonly count: number }[];
}

/**
 * Reads and checks the scenario's CSV files (paths resolved against `baseDir`). Returns the
 * rows, or one line per problem naming the field (`data.csv[1]: ...`).
 */
export function readSourceRows(data: ScenarioData, baseDir: string): { rows: SourceRows } | { problems: string[] } {
  const problems: string[] = [];
  let header: readonly string[] | undefined;
  const rows: string[][] = [];
  const files: { path: string; start: number; count: number }[] = [];
  data.csv.forEach((given, i) => {
    const at = `data.csv${data.csv.length > 1 ? `[${i}]` : ''}`;
    const path = isAbsolute(given) ? given : resolve(baseDir, given);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      problems.push(`${at}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); paths are relative to the scenario file`);
      return;
    }
    let table: Table;
    try {
      // The decoder nodes use: it names the file and line of a malformed row.
      table = decodeTable(text, path);
    } catch (e) {
      if (e instanceof DataFileError) {
        problems.push(`${at}: ${e.message}`);
        return;
      }
      throw e;
    }
    if (header === undefined) header = table.header;
    else if (header.join('\u0000') !== table.header.join('\u0000')) {
      problems.push(`${at}: its header (${table.header.join(', ')}) differs from the first file's (${header.join(', ')}); every file needs the same columns in the same order`);
      return;
    }
    const records = (parse(text, { bom: true, trim: true, skip_empty_lines: true }) as string[][]).slice(1);
    files.push({ path, start: rows.length, count: records.length });
    rows.push(...records);
  });
  if (problems.length > 0 || header === undefined) return { problems };
  const split = data.split;
  if (split.kind === 'dirichlet' && !header.includes(split.column)) {
    problems.push(`data.split.column: expected a column of the table (${header.join(', ')}); found ${JSON.stringify(split.column)}`);
  }
  return problems.length > 0 ? { problems } : { rows: { header, rows, files } };
}

/** The leaf clients of a cluster tree, in its order (depth first). */
export function leafClients(cluster: ClusterSpec): string[] {
  return cluster.clients ? [...cluster.clients] : (cluster.clusters ?? []).flatMap(leafClients);
}

/** Checks the split against the tree: `files` needs one file per leaf client. */
export function checkSplit(data: ScenarioData, clients: number): string[] {
  if (data.split.kind === 'files' && data.csv.length !== clients) {
    return [`data.split: kind files gives the i-th leaf client the i-th file, so data.csv needs ${clients} files (one per leaf client); found ${data.csv.length}`];
  }
  return [];
}

/**
 * Deals the rows to the clients (deterministic in `seed`). Returns each client's row
 * indices, ascending, so a client's table keeps the file order.
 */
export function splitRows(source: SourceRows, split: TableSplit, clients: readonly string[], seed: number): Map<string, number[]> {
  const n = source.rows.length;
  const k = clients.length;
  const out = new Map<string, number[]>(clients.map((c) => [c, []]));
  const deal = (order: readonly number[]) => {
    // Consecutive blocks of order: client i gets floor(n·(i+1)/k) − floor(n·i/k) rows.
    clients.forEach((c, i) => out.set(c, order.slice(Math.floor((n * i) / k), Math.floor((n * (i + 1)) / k))));
  };
  const all = Array.from({ length: n }, (_, i) => i);
  switch (split.kind) {
    case 'contiguous':
      deal(all);
      break;
    case 'iid':
      deal(Rng.fromSeed(seed).fork('iid').shuffle(all) as number[]);
      break;
    case 'files':
      source.files.forEach((f, i) => out.set(clients[i]!, all.slice(f.start, f.start + f.count)));
      break;
    case 'dirichlet': {
      const rng = Rng.fromSeed(seed).fork(`dirichlet:${split.column}`);
      const col = source.header.indexOf(split.column);
      const byValue = new Map<string, number[]>();
      for (const r of all) {
        const v = source.rows[r]![col]!;
        let list = byValue.get(v);
        if (!list) byValue.set(v, (list = []));
        list.push(r);
      }
      for (const value of [...byValue.keys()].sort()) {
        const rows = rng.shuffle(byValue.get(value)!) as number[];
        const p = rng.dirichlet(split.alpha, k);
        // Cumulative shares, so the counts add up to the value's rows exactly.
        let acc = 0;
        let from = 0;
        p.forEach((share, i) => {
          acc += share;
          const to = i === k - 1 ? rows.length : Math.min(rows.length, Math.round(acc * rows.length));
          out.get(clients[i]!)!.push(...rows.slice(from, to));
          from = Math.max(from, to);
        });
      }
      break;
    }
  }
  for (const rows of out.values()) rows.sort((a, b) => a - b);
  return out;
}

/** A client's rows as the CSV file a real node would hold (header first). */
export function clientCsv(source: SourceRows, rows: readonly number[]): string {
  const lines = [source.header.map(csvCell).join(',')];
  for (const r of rows) lines.push(source.rows[r]!.map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

// Quotes a cell when CSV needs it to (a comma, quote or line break inside).
function csvCell(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** A client's table, decoded as a node decodes its file. */
export function clientTable(source: SourceRows, rows: readonly number[], member: string): Table {
  return decodeTable(clientCsv(source, rows), `${member}.csv`);
}
