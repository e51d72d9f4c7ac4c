import { describe, expect, it } from 'vitest';
import type { Message } from '@canopy/core/protocol';
import { sameBesidesSeq, seqSpan } from './simShell.js';

// The shell remembers validator verdicts per message minus its seq (simShell.ts, validate):
// the cut must find exactly the envelope's seq digits, or two different messages would share
// a verdict and a decoded body.

describe('seqSpan', () => {
  it.each([
    ['envelope seq', '{"v":1,"round":2,"seq":105055,"type":"heartbeat"}', '{"v":1,"round":2,,"type":"heartbeat"}', 105055],
    ['seq at the end', '{"v":1,"seq":7}', '{"v":1,}', 7],
    ['first of two', '{"seq":1,"payload":{"seq":2}}', '{,"payload":{"seq":2}}', 1],
    ['a seq without digits is skipped', '{"seq":"x","payload":{"seq":12}}', '{"seq":"x","payload":{}}', 12],
  ])('%s', (_name, text, stripped, seq) => {
    const span = seqSpan(text);
    expect(span).toBeDefined();
    expect(text.slice(0, span!.start) + text.slice(span!.end)).toBe(stripped);
    expect(Number(text.slice(span!.start + '"seq":'.length, span!.end))).toBe(seq);
  });

  it('finds nothing in a message without a numeric seq', () => {
    expect(seqSpan('{"v":1,"type":"state"}')).toBeUndefined();
    expect(seqSpan('{"seq":-1}')).toBeUndefined();
  });
});

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
