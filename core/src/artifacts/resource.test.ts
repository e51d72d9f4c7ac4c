import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BadInputError } from '../util/errors.js';
import { decodeResource, encodeResource } from './resource.js';
import { initialHeader } from './execute.js';
import { partialOf } from './partial.js';

describe('the resource codec', () => {
  it('round-trips headers and weights, byte for byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { maxLength: 20 }), fc.nat(50), (weights, values, round) => {
        const header = { ...initialHeader(), round, slots: [null, { visited: ['a'], queries: [partialOf('a', values, { min: -1e6, max: 1e6, count: 4 })] }] };
        const bytes = encodeResource({ header, weights });
        const back = decodeResource(bytes);
        expect(encodeResource(back)).toEqual(bytes);
        expect(back.weights).toEqual(weights);
      }),
    );
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['a model blob', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), /not an artifact resource/],
    ['a truncated header', encodeResource({ header: initialHeader(), weights: new Uint8Array() }).slice(0, 20), /truncated/],
    ['another version', (() => { const b = encodeResource({ header: initialHeader(), weights: new Uint8Array() }); b[4] = 9; return b; })(), /version 9/],
  ];
  for (const [name, bytes, error] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => decodeResource(bytes)).toThrow(BadInputError);
      expect(() => decodeResource(bytes)).toThrow(error);
    });
  }
});
