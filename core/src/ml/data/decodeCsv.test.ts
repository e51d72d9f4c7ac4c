import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileError } from '../../util/index.js';
import { decodeCsv } from './decodeCsv.js';
import { loadDataset } from './loadDataset.js';

const decode = (text: string, labelColumn = 'species') => decodeCsv(text, { file: 'iris.csv', labelColumn });

describe('decodeCsv on good input', () => {
  it('maps features in header order and labels to sorted class indices', () => {
    const d = decode('a,species,b\n1,virginica,2\n3.5,setosa,-4e-1\n5,versicolor,6\n7,setosa,8\n');
    expect(d.count).toBe(4);
    expect(d.sampleShape).toEqual([2]);
    expect([...d.features]).toEqual([1, 2, 3.5, Math.fround(-0.4), 5, 6, 7, 8]);
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect([...d.labels]).toEqual([2, 0, 1, 0]);
    expect(d.numClasses).toBe(3);
  });

  it('sorts numeric labels numerically', () => {
    const d = decode('x,species\n1,10\n2,9\n3,2\n4,9\n');
    expect(d.classNames).toEqual(['2', '9', '10']);
    expect([...d.labels]).toEqual([2, 1, 0, 1]);
  });

  it('accepts a BOM, CRLF, quoted cells, padding and blank lines', () => {
    const d = decode('\uFEFF"x", "species"\r\n 1 ,"a"\r\n\r\n"2",b\r\n');
    expect([...d.features]).toEqual([1, 2]);
    expect(d.classNames).toEqual(['a', 'b']);
  });
});

describe('decodeCsv on bad input', () => {
  const cases: { name: string; text: string; labelColumn?: string; error: RegExp }[] = [
    { name: 'empty file', text: '', error: /is empty; expected a header row/ },
    { name: 'header only', text: 'x,species\n', error: /has a header but no data rows/ },
    { name: 'no label column', text: 'x,y\n1,2\n', error: /has no column "species"; the header has "x", "y"/ },
    { name: 'label only', text: 'species\na\nb\n', error: /has only the label column "species"/ },
    { name: 'duplicate header', text: 'x,x,species\n1,2,a\n', error: /line 1: column "x" appears twice/ },
    { name: 'non-numeric feature', text: 'x,species\n1,a\noops,b\n', error: /line 3, column "x": "oops" is not a number/ },
    { name: 'empty feature', text: 'x,y,species\n1,2,a\n3,,b\n', error: /line 3, column "y": the value is empty/ },
    { name: 'infinite feature', text: 'x,species\nInfinity,a\n1,b\n', error: /line 2, column "x": "Infinity" is not a number/ },
    { name: 'empty label', text: 'x,species\n1,a\n2,\n', error: /line 3, column "species": the label is empty/ },
    { name: 'single class', text: 'x,species\n1,a\n2,a\n', error: /single value "a"; classification needs at least two classes/ },
    { name: 'short row', text: 'x,y,species\n1,2,a\n3,b\n', error: /line 3: .*record/i },
    { name: 'unclosed quote', text: 'x,species\n1,"a\n2,b\n', error: /Quote Not Closed/i },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = () => decode(c.text, c.labelColumn);
      expect(run, c.name).toThrow(DataFileError);
      expect(run, c.name).toThrow(/^iris\.csv: /);
      expect(run, c.name).toThrow(c.error);
    });
  }
});

describe('loadDataset with a CSV file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads and splits a table, stratified and seeded', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},${i * 2},${i % 4 === 0 ? 'rare' : 'common'}`);
    const path = join(dir, 'table.csv');
    await writeFile(path, `u,v,kind\n${rows.join('\n')}\n`);
    const spec = { kind: 'csv', path, labelColumn: 'kind', testFraction: 0.2 } as const;
    const a = await loadDataset(spec, { seed: 1 });
    expect(a.name).toBe('csv:table.csv');
    expect([a.train.count, a.test.count]).toEqual([80, 20]);
    // 25 rare rows, 20% of them held out.
    expect(a.test.labels.filter((y) => y === a.test.classNames!.indexOf('rare')).length).toBe(5);
    // Features travel with their rows: v = 2u everywhere.
    for (const part of [a.train, a.test]) {
      for (let i = 0; i < part.count; i++) expect(part.features[2 * i + 1], `row ${i}`).toBe(2 * part.features[2 * i]!);
    }
    const b = await loadDataset(spec, { seed: 1 });
    const c = await loadDataset(spec, { seed: 2 });
    expect([...b.test.features]).toEqual([...a.test.features]);
    expect([...c.test.features]).not.toEqual([...a.test.features]);
  });

  it('names a missing file', async () => {
    const path = join(dir, 'absent.csv');
    await expect(loadDataset({ kind: 'csv', path, labelColumn: 'y', testFraction: 0.2 })).rejects.toThrow(`${path}: not found`);
  });

  it('rejects a file that is not UTF-8', async () => {
    const path = join(dir, 'latin1.csv');
    await writeFile(path, Buffer.from([0x78, 0x2c, 0x79, 0x0a, 0x31, 0x2c, 0xe9, 0x0a]));
    await expect(loadDataset({ kind: 'csv', path, labelColumn: 'y', testFraction: 0.2 })).rejects.toThrow(/is not valid UTF-8/);
  });
});
