import { describe, expect, it, vi } from 'vitest';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { submitWithRetries } from './job.js';

// `canopy job submit` tries again when the way to the root host failed, never when the host refused.
describe('submitWithRetries', () => {
  it('tries again after a failed dial or handshake, and says so', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((t) => (lines.push(String(t)), true));
    try {
      let calls = 0;
      const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'EncryptionFailedError' });
      const r = await submitWithRetries(async () => (++calls < 3 ? Promise.reject(timeout) : 'accepted'), '/ip4/10.0.0.1/tcp/4001', 3, 5);
      expect(r).toBe('accepted');
      expect(calls).toBe(3);
      expect(lines.join('')).toMatch(/submitting to \/ip4\/10\.0\.0\.1\/tcp\/4001 failed \(EncryptionFailedError: The operation was aborted due to timeout\); trying again in 0\.005 s \(attempt 2 of 3\)/);
    } finally {
      spy.mockRestore();
    }
  });

  it('gives up after the last attempt with the last error, and never retries a refusal', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      let calls = 0;
      await expect(submitWithRetries(() => (calls++, Promise.reject(new Error(`cut ${calls}`))), 't', 3, 1)).rejects.toThrow('cut 3');
      expect(calls).toBe(3);
      let refused = 0;
      const refusal = new CanopyError(ErrorCode.BadInput, 'the root host refused the job: not its host');
      await expect(submitWithRetries(() => (refused++, Promise.reject(refusal)), 't', 3, 1)).rejects.toBe(refusal);
      expect(refused).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});
