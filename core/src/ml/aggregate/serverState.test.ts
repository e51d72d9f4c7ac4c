import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../util/errors.js';
import { decodeServerState, encodeServerState, serverStateVectors, type ServerOptimizerKind, type ServerState } from './serverState.js';

const kinds = Object.keys(serverStateVectors) as ServerOptimizerKind[];
const stateArb = fc
  .record({ kind: fc.constantFrom(...kinds), step: fc.nat(), length: fc.integer({ min: 0, max: 50 }) })
  .chain(({ kind, step, length }) =>
    fc
      .array(fc.float32Array({ minLength: length, maxLength: length, noNaN: true, noDefaultInfinity: true }), {
        minLength: serverStateVectors[kind],
        maxLength: serverStateVectors[kind],
      })
      .map((vectors): ServerState => ({ kind, step, vectors })),
  );

describe('server state codec', () => {
  it('round-trips every state bit for bit', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const back = decodeServerState(encodeServerState(state));
        expect(back.kind).toBe(state.kind);
        expect(back.step).toBe(state.step);
        expect(back.vectors.map((v) => Array.from(new Uint32Array(v.buffer)))).toEqual(state.vectors.map((v) => Array.from(new Uint32Array(v.slice().buffer))));
      }),
      { seed: 99, numRuns: 200 },
    );
  });

  it('decodes from a view into a larger buffer', () => {
    const bytes = encodeServerState({ kind: 'fedadam', step: 3, vectors: [new Float32Array([1, 2]), new Float32Array([3, 4])] });
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect(decodeServerState(padded.subarray(5)).vectors.map((v) => Array.from(v))).toEqual([[1, 2], [3, 4]]);
  });

  const valid = encodeServerState({ kind: 'fedyogi', step: 1, vectors: [new Float32Array([1]), new Float32Array([2])] });
  const corrupt = (edit: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = valid.slice();
    edit(b, new DataView(b.buffer));
    return b;
  };
  it.each([
    ['bad magic', corrupt((b) => (b[0] = 0)), /magic/],
    ['unknown kind', corrupt((b) => (b[4] = 9)), /unknown optimiser/],
    ['truncated', valid.subarray(0, valid.length - 1), /header promises/],
    ['wrong vector count for the kind', corrupt((_b, v) => v.setUint32(16, 1, true)), /bytes but its header/],
    ['fractional step', corrupt((_b, v) => v.setFloat64(8, 1.5, true)), /whole number/],
    ['NaN inside', corrupt((_b, v) => v.setFloat32(24, NaN, true)), /non-finite/],
    ['empty', new Uint8Array(), /magic/],
  ])('rejects %s', (_name, bytes, message) => {
    expect(() => decodeServerState(bytes)).toThrow(BadInputError);
    expect(() => decodeServerState(bytes)).toThrow(message);
  });
});
