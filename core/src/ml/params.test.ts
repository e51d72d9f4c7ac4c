import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { paramCount } from './layout.js';
import { decodeParams, encodeParams, paramsHash } from './params.js';
import type { ModelSpec } from '../spec/ml.js';

const spec: ModelSpec = { kind: 'logreg', inputShape: [5], numClasses: 3 };
const other: ModelSpec = { kind: 'logreg', inputShape: [5], numClasses: 4 };

function randomParams(s: ModelSpec, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: paramCount(s) }, () => rng.normal());
}

describe('encodeParams / decodeParams', () => {
  it('round-trips bit for bit, with shapes and spec hash', () => {
    const params = randomParams(spec, 1);
    const decoded = decodeParams(encodeParams(spec, params), spec);
    expect(decoded.shapes).toEqual([[5, 3], [3]]);
    expect(decoded.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(paramsHash(decoded.params)).toBe(paramsHash(params));
  });

  it('round-trips any float32 values, NaN payloads and -0 included (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 18, maxLength: 18 }), (values) => {
        const params = Float32Array.from(values);
        const decoded = decodeParams(encodeParams(spec, params));
        expect(new Uint8Array(decoded.params.buffer, decoded.params.byteOffset, 72)).toEqual(new Uint8Array(params.buffer));
      }),
    );
  });

  it('returns a view over the blob, not a copy, when the blob is aligned', () => {
    const bytes = encodeParams(spec, randomParams(spec, 2));
    const { params } = decodeParams(bytes);
    expect(params.buffer).toBe(bytes.buffer);
  });

  it('copies the body once when the blob sits at an odd offset', () => {
    const bytes = encodeParams(spec, randomParams(spec, 3));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const { params } = decodeParams(shifted.subarray(1), spec);
    expect(paramsHash(params)).toBe(paramsHash(randomParams(spec, 3)));
  });

  it('rejects a vector of the wrong size when encoding', () => {
    expect(() => encodeParams(spec, new Float32Array(17))).toThrow(ParameterError);
  });

  const good = encodeParams(spec, randomParams(spec, 4));
  const flip = (at: number) => {
    const b = good.slice();
    b[at]! ^= 0x01;
    return b;
  };
  const cases: [string, () => Uint8Array, RegExp, ModelSpec?][] = [
    ['empty', () => new Uint8Array(0), /too short/],
    ['truncated body', () => good.subarray(0, good.length - 40), /truncated/],
    ['trailing bytes', () => Uint8Array.from([...good, 0]), /truncated or padded/],
    ['corrupt body', () => flip(good.length - 40), /checksum/],
    ['corrupt checksum', () => flip(good.length - 1), /checksum/],
    ['bad magic', () => flip(0), /magic/],
    ['unknown version', () => flip(4), /version/],
    ['another model', () => good, /another model/, other],
  ];
  it.each(cases)('rejects %s with a ParameterError', (_, make, message, expected) => {
    expect(() => decodeParams(make(), expected)).toThrow(ParameterError);
    expect(() => decodeParams(make(), expected)).toThrow(message);
  });
});

describe('paramsHash', () => {
  it('is the sha256 of the little-endian bytes', () => {
    // sha256 of 4 zero bytes.
    expect(paramsHash(new Float32Array(1))).toBe('df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119');
  });

  it('tells apart vectors that differ in one bit, even -0 from 0', () => {
    expect(paramsHash(Float32Array.of(0))).not.toBe(paramsHash(Float32Array.of(-0)));
  });

  it('hashes a subarray by its own bytes only', () => {
    const a = Float32Array.of(1, 2, 3, 4);
    expect(paramsHash(a.subarray(1, 3))).toBe(paramsHash(Float32Array.of(2, 3)));
  });
});
