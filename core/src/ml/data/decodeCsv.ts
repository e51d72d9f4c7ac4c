import { CsvError, parse } from 'csv-parse/sync';
import { DataFileError } from '../../util/index.js';
import type { LabeledData } from '../types.js';

// Pure CSV decoding, from text already in memory, so a renderer can reuse it on a file the
// user picked. Reading the file lives in loadCsv.ts.

/** Options of {@link decodeCsv}. */
export interface DecodeCsvOptions {
  /** Name of the file, used in every error message. */
  readonly file: string;
  /** Header name of the column holding the class label. */
  readonly labelColumn: string;
}

interface CsvRow {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

/**
 * Decodes a CSV table with a header row into a dataset: `labelColumn` holds the class, every
 * other column is a numeric feature, in header order. Class indices follow the sorted label
 * values (numerically when every label is a number, so "10" comes after "9"), and
 * `classNames` keeps the values. Errors name the file, line and column of the bad cell.
 */
export function decodeCsv(text: string, opts: DecodeCsvOptions): LabeledData {
  const { file, labelColumn } = opts;
  const rows = parseRows(text, file);
  const [header, ...body] = rows;
  if (header === undefined) throw new DataFileError(file, 'is empty; expected a header row and at least two data rows');
  const names = header.record;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new DataFileError(file, `line ${header.info.lines}: column "${name}" appears twice in the header; rename one`);
    seen.add(name);
  }
  const labelAt = names.indexOf(labelColumn);
  if (labelAt < 0) {
    throw new DataFileError(file, `has no column "${labelColumn}"; the header has ${names.map((n) => `"${n}"`).join(', ')}`);
  }
  const d = names.length - 1;
  if (d === 0) throw new DataFileError(file, `has only the label column "${labelColumn}"; at least one feature column is needed`);
  if (body.length === 0) throw new DataFileError(file, 'has a header but no data rows');

  const features = new Float32Array(body.length * d);
  const rawLabels: string[] = [];
  body.forEach(({ record, info }, r) => {
    let k = r * d;
    for (let col = 0; col < record.length; col++) {
      const cell = record[col]!;
      const where = `line ${info.lines}, column "${names[col]}"`;
      if (col === labelAt) {
        if (cell === '') throw new DataFileError(file, `${where}: the label is empty; every row needs a class`);
        rawLabels.push(cell);
        continue;
      }
      // Number('') is 0 and Number(' 1') is 1, so empty cells are checked first.
      const value = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(value)) {
        throw new DataFileError(file, `${where}: ${cell === '' ? 'the value is empty' : `"${cell}" is not a number`}; every feature must be a finite number`);
      }
      features[k++] = value;
    }
  });

  const classNames = sortLabels([...new Set(rawLabels)]);
  if (classNames.length < 2) {
    throw new DataFileError(file, `column "${labelColumn}" has the single value "${classNames[0]}"; classification needs at least two classes`);
  }
  const indexOf = new Map(classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(rawLabels, (y) => indexOf.get(y)!);
  return { features, labels, sampleShape: [d], numClasses: classNames.length, count: body.length, classNames };
}

function parseRows(text: string, file: string): CsvRow[] {
  try {
    return parse(text, { info: true, bom: true, trim: true, skip_empty_lines: true }) as unknown as CsvRow[];
  } catch (err) {
    if (err instanceof CsvError) {
      // csv-parse reports the line it stopped on; rows of the wrong width are the usual cause.
      const line = (err as CsvError & { lines?: number }).lines;
      const where = line !== undefined ? `line ${line}: ` : '';
      throw new DataFileError(file, `${where}${err.message}; fix the row so it has one value per header column`, { cause: err });
    }
    throw err;
  }
}

/** Numeric order when every label is a number, plain code-unit order otherwise (locale-free, so every peer agrees). */
function sortLabels(values: string[]): string[] {
  if (values.every((v) => Number.isFinite(Number(v)))) return values.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
