import { describe, expect, it } from 'vitest';
import { DataFileError } from '../util/errors.js';
import { applyWhere, ColumnError, decodeTable, fullView, numericValues } from './table.js';
import type { Condition } from '../spec/artifactSteps.js';

const csv = 'age,sex,bmi\n30,F,22.5\n45,M,\n60,F,31\n52,,27\n';

describe('decodeTable', () => {
  it('types columns: numbers (empty cells missing) or text', () => {
    const t = decodeTable(csv, 'a.csv');
    expect(t.rows).toBe(4);
    expect(t.columns.get('age')!.kind).toBe('number');
    expect(t.columns.get('sex')!.kind).toBe('text');
    expect(numericValues(fullView(t), 'bmi')).toEqual([22.5, 31, 27]);
  });

  const bad: [string, string, RegExp][] = [
    ['a ragged row', 'a,b\n1,2\n3\n', /^bad\.csv: line 3: .*fix the row/],
    ['an unclosed quote', 'a,b\n1,"2\n', /^bad\.csv: .*Quote Not Closed/i],
    ['a duplicate header', 'a,a\n1,2\n', /^bad\.csv: line 1: column "a" appears twice/],
    ['an empty file', '', /^bad\.csv: is empty/],
  ];
  for (const [name, text, error] of bad) {
    it(`names file and line for ${name}`, () => {
      expect(() => decodeTable(text, 'bad.csv')).toThrow(DataFileError);
      expect(() => decodeTable(text, 'bad.csv')).toThrow(error);
    });
  }
});

describe('applyWhere', () => {
  const t = decodeTable(csv, 'a.csv');
  const cases: [string, Condition[], number[]][] = [
    ['>=', [{ column: 'age', op: '>=', value: 45 }], [1, 2, 3]],
    ['< and text ==', [{ column: 'age', op: '<', value: 55 }, { column: 'sex', op: '==', value: 'F' }], [0]],
    ['!= skips missing text', [{ column: 'sex', op: '!=', value: 'F' }], [1]],
    ['in', [{ column: 'age', op: 'in', value: [30, 60] }], [0, 2]],
    ['a missing number matches nothing', [{ column: 'bmi', op: '<', value: 100 }], [0, 2, 3]],
  ];
  for (const [name, where, rows] of cases) it(name, () => expect(applyWhere(fullView(t), where).rows).toEqual(rows));

  it('names an unknown column and what the header has', () => {
    expect(() => applyWhere(fullView(t), [{ column: 'agee', op: '>', value: 1 }])).toThrow(ColumnError);
    expect(() => applyWhere(fullView(t), [{ column: 'agee', op: '>', value: 1 }])).toThrow(/column "agee" is not in this node's dataset \(its header has "age", "sex", "bmi"\)/);
  });

  it('refuses to compare text with <', () => {
    expect(() => applyWhere(fullView(t), [{ column: 'sex', op: '<', value: 3 }])).toThrow(/holds text/);
  });
});
