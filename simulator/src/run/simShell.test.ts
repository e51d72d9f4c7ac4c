import { describe, expect, it } from 'vitest';
import { seqSpan } from './simShell.js';

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
