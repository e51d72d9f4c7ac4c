import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashJson, nativeSha256, sha256Bytes, sha256Hex, sha256HexPortable, sha256Text, utf8Length } from './hash.js';

describe('sha256Hex', () => {
  it.each([
    { input: '', hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    { input: 'abc', hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  ])('matches the FIPS vector for "$input"', ({ input, hex }) => {
    expect(sha256Hex(new TextEncoder().encode(input))).toBe(hex);
  });

  it('hashes a typed-array view by its own bytes only', () => {
    const big = new Float32Array([1, 2, 3, 4]);
    const view = big.subarray(1, 3);
    expect(sha256Hex(view)).toBe(sha256Hex(new Float32Array([2, 3])));
  });
});

describe('native and portable sha256', () => {
  it('runs natively under Node', () => expect(nativeSha256).toBe(true));

  it('gives the pure-JS digest for any bytes, as hex, raw and from text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.string({ unit: 'grapheme', maxLength: 200 }), (bytes, text) => {
        const hex = sha256HexPortable(bytes);
        expect(sha256Hex(bytes)).toBe(hex);
        expect(Buffer.from(sha256Bytes(bytes)).toString('hex')).toBe(hex);
        expect(sha256Bytes(bytes)).toBeInstanceOf(Uint8Array);
        expect(sha256Text(text)).toBe(sha256HexPortable(new TextEncoder().encode(text)));
      }),
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"x":0,"y":1}]},"b":1}');
  });
  it('gives equal hashes for equal values written differently', () => {
    expect(hashJson({ kind: 'mlp', numClasses: 10 })).toBe(hashJson({ numClasses: 10, kind: 'mlp' }));
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/no JSON form/);
  });
});

describe('utf8Length', () => {
  it('counts what TextEncoder writes, for any string, lone surrogates included (property)', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), (a, b) => {
        expect(utf8Length(a + b)).toBe(enc.encode(a + b).byteLength);
      }),
      { numRuns: 500 },
    );
  });

  it('counts one to four bytes per code point', () => {
    expect([utf8Length(''), utf8Length('a'), utf8Length('é'), utf8Length('€'), utf8Length('😀'), utf8Length('\ud800x')]).toEqual([0, 1, 2, 3, 4, 4]);
  });
});
