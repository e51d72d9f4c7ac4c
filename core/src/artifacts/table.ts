import { CsvError, parse } from 'csv-parse/sync';
import { DataFileError } from '../util/errors.js';
import type { Condition } from '../spec/artifactSteps.js';

// A node's tabular data, decoded from CSV text already in memory (reading the file is the
// runtime's job), and the views that filters make of it. Pure.

/** One column: numbers (NaN where a cell is empty) when every non-empty cell is a number, else text. */
export type Column = { readonly kind: 'number'; readonly values: Float64Array } | { readonly kind: 'text'; readonly values: readonly string[] };

/** A decoded CSV table with a header row. */
export interface Table {
  readonly file: string;
  readonly rows: number;
  readonly header: readonly string[];
  readonly columns: ReadonlyMap<string, Column>;
}

/** The rows of a table that the filters so far kept. */
export interface TableView {
  readonly table: Table;
  /** Row indices, ascending. */
  readonly rows: readonly number[];
}

/** Raised when a step names a column the table lacks or uses it the wrong way; the node refuses with this reason. */
export class ColumnError extends Error {}

interface CsvRow {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

/** Decodes CSV text (header row first). Errors name the file and line. */
export function decodeTable(text: string, file: string): Table {
  let parsed: CsvRow[];
  try {
    parsed = parse(text, { info: true, bom: true, trim: true, skip_empty_lines: true }) as unknown as CsvRow[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new DataFileError(file, `${line !== undefined ? `line ${line}: ` : ''}${err.message}; fix the row so it has one value per header column`, { cause: err });
    }
    throw err;
  }
  const [head, ...body] = parsed;
  if (!head) throw new DataFileError(file, 'is empty; expected a header row');
  const header = head.record;
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new DataFileError(file, `line ${head.info.lines}: a header cell is empty; name every column`);
    if (seen.has(h)) throw new DataFileError(file, `line ${head.info.lines}: column "${h}" appears twice in the header; rename one`);
    seen.add(h);
  }
  const columns = new Map<string, Column>();
  header.forEach((h, c) => {
    const cells = body.map((r) => r.record[c]!);
    // Number('') is 0, so empty cells are missing values, not zeros.
    const numeric = cells.every((x) => x === '' || Number.isFinite(Number(x)));
    columns.set(h, numeric ? { kind: 'number', values: Float64Array.from(cells, (x) => (x === '' ? NaN : Number(x))) } : { kind: 'text', values: cells });
  });
  return { file, rows: body.length, header, columns };
}

/** The whole table as a view. */
export function fullView(table: Table): TableView {
  return { table, rows: Array.from({ length: table.rows }, (_, i) => i) };
}

/** The rows of `view` matching every condition. Throws {@link ColumnError} for an unknown column or a number compared with text. */
export function applyWhere(view: TableView, where: readonly Condition[]): TableView {
  let rows = view.rows;
  for (const cond of where) {
    const col = columnOf(view.table, cond.column);
    const test = conditionTest(cond, col);
    rows = rows.filter(test);
  }
  return { table: view.table, rows };
}

/** A column, or a {@link ColumnError} naming what the header has. */
export function columnOf(table: Table, name: string): Column {
  const col = table.columns.get(name);
  if (!col) throw new ColumnError(`column "${name}" is not in this node's dataset (its header has ${table.header.map((h) => `"${h}"`).join(', ')})`);
  return col;
}

/** The numeric values of a column over a view, missing cells left out. */
export function numericValues(view: TableView, name: string): number[] {
  const col = columnOf(view.table, name);
  if (col.kind !== 'number') throw new ColumnError(`column "${name}" holds text, not numbers, in this node's dataset`);
  const out: number[] = [];
  for (const r of view.rows) {
    const v = col.values[r]!;
    if (!Number.isNaN(v)) out.push(v);
  }
  return out;
}

function conditionTest(cond: Condition, col: Column): (row: number) => boolean {
  const values = Array.isArray(cond.value) ? cond.value : [cond.value];
  if (col.kind === 'number') {
    const nums = values.map((v) => (typeof v === 'number' ? v : Number(v)));
    if (nums.some((n) => !Number.isFinite(n))) throw new ColumnError(`column "${cond.column}" holds numbers; ${JSON.stringify(cond.value)} is not a number`);
    const x = col.values;
    const v = nums[0]!;
    // A missing cell matches no condition (as in SQL, where NULL compares unknown).
    switch (cond.op) {
      case '==': return (r) => x[r] === v;
      case '!=': return (r) => !Number.isNaN(x[r]!) && x[r] !== v;
      case '<': return (r) => x[r]! < v;
      case '<=': return (r) => x[r]! <= v;
      case '>': return (r) => x[r]! > v;
      case '>=': return (r) => x[r]! >= v;
      case 'in': {
        const set = new Set(nums);
        return (r) => set.has(x[r]!);
      }
    }
  }
  const x = col.values;
  const texts = values.map(String);
  switch (cond.op) {
    case '==': return (r) => x[r] === texts[0];
    case '!=': return (r) => x[r] !== '' && x[r] !== texts[0];
    case 'in': {
      const set = new Set(texts);
      return (r) => set.has(x[r]!);
    }
    default:
      throw new ColumnError(`column "${cond.column}" holds text; \`${cond.op}\` compares numbers`);
  }
}
