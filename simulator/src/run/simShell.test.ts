import { describe, expect, it } from 'vitest';
import type { Message } from '@canopy/core/protocol';
import fc from 'fast-check';
import { decimalDigits, sameBesidesSeq } from './simShell.js';

// A repeat skips encoding only when its JSON would equal the last one's but for the seq.
describe('sameBesidesSeq', () => {
  const decoded = { v: 1, seq: 5, type: 'heartbeat', payload: { status: 3, refs: [{ hash: 'a' }], note: null } };
  const variant = (patch: Record<string, unknown>) => ({ ...decoded, ...patch }) as unknown as Message;
  it.each([
    ['only seq differs', variant({ seq: 9 }), true],
    ['the same object', variant({}), true],
    ['keys in another order', { payload: decoded.payload, type: 'heartbeat', seq: 1, v: 1 } as unknown as Message, true],
    ['a nested value differs', variant({ payload: { status: 4, refs: [{ hash: 'a' }], note: null } }), false],
    ['an array element differs', variant({ payload: { status: 3, refs: [{ hash: 'b' }], note: null } }), false],
    ['an array is longer', variant({ payload: { status: 3, refs: [{ hash: 'a' }, { hash: 'a' }], note: null } }), false],
    ['an extra undefined member (JSON drops it)', variant({ extra: undefined }), false],
    ['NaN where JSON has null', variant({ payload: { status: 3, refs: [{ hash: 'a' }], note: Number.NaN } }), false],
    ['a member missing', { v: 1, seq: 5, type: 'heartbeat' } as unknown as Message, false],
    ['an object where JSON has an array', variant({ payload: { status: 3, refs: { 0: { hash: 'a' } }, note: null } }), false],
  ])('%s', (_name, message, same) => {
    expect(sameBesidesSeq(message, decoded as unknown as Message)).toBe(same);
  });
});

describe('decimalDigits', () => {
  it('counts the digits JSON writes for any non-negative safe integer (property)', () => {
    fc.assert(fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 999_999, 1_000_000, Number.MAX_SAFE_INTEGER)), (n) => decimalDigits(n) === JSON.stringify(n).length));
  });
});
