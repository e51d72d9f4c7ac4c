import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '../../core/src/protocol/dp/rdp.js';

// Canopy's RDP accountant against Google's dp-accounting on the same settings, computed live by
// scripts/dp_accounting_epsilon.py. Needs Python with dp-accounting (CANOPY_PYTHON picks the
// interpreter, python3 by default); without it the comparison skips with one line.

/** Settings a federated job might run: sampling rate, noise multiplier, rounds, δ. */
const SETTINGS: { q: number; sigma: number; steps: number; delta: number }[] = JSON.parse(readFileSync(fileURLToPath(new URL('../../scripts/dp_accounting_settings.json', import.meta.url)), 'utf8'));

const python = process.env.CANOPY_PYTHON ?? 'python3';
const script = fileURLToPath(new URL('../../scripts/dp_accounting_epsilon.py', import.meta.url));
const run = spawnSync(python, [script], { input: JSON.stringify(SETTINGS), encoding: 'utf8', timeout: 120_000 });
const reference: { epsilon: number; version: string }[] | undefined = run.status === 0 ? JSON.parse(run.stdout) : undefined;
if (!reference) console.log(`rdpAccountant.test: skipping the dp-accounting comparison: ${run.error?.message ?? run.stderr.trim().split('\n').at(-1)}`);

describe.skipIf(!reference)("the RDP accountant against Google's dp-accounting", () => {
  it.each(SETTINGS.map((s, i) => [i, s] as const))('setting %i: %o gives the same ε to 1e-9', (i, s) => {
    const eps = new RdpAccountant().compose(s.q, s.sigma, s.steps).epsilon(s.delta);
    const ref = reference![i]!.epsilon;
    expect(Math.abs(eps - ref) / ref, `ε ${eps} against dp-accounting ${reference![i]!.version}'s ${ref}`).toBeLessThan(1e-9);
  });
});
