#!/usr/bin/env node
// Canopy's RDP accountant against Google's dp-accounting, one JSON line per setting (ε from
// each, their relative difference, the order Canopy's bound came from) and a summary line.
//
//   pip install dp-accounting          # once, into the Python that --python names
//   npm run build && node scripts/check-dp-accountant.mjs [--python python3]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RdpAccountant, epsilonFromRdp } from '@canopy/core/protocol';

const { values: flags } = parseArgs({ options: { python: { type: 'string', default: process.env.CANOPY_PYTHON ?? 'python3' } } });
// The settings both this script and test/protocol/rdpAccountant.test.ts compare on.
const settings = JSON.parse(readFileSync(fileURLToPath(new URL('dp_accounting_settings.json', import.meta.url)), 'utf8'));
const script = fileURLToPath(new URL('dp_accounting_epsilon.py', import.meta.url));
let reference;
try {
  reference = JSON.parse(execFileSync(flags.python, [script], { input: JSON.stringify(settings), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }));
} catch (e) {
  console.error(`check-dp-accountant: cannot run dp-accounting with ${flags.python}: ${(e.stderr || e.message).toString().trim().split('\n').at(-1)}`);
  process.exit(1);
}
let worst = 0;
settings.forEach((s, i) => {
  const t0 = performance.now();
  const acc = new RdpAccountant().compose(s.q, s.sigma, s.steps);
  const { epsilon, order } = epsilonFromRdp(acc.orders, acc.state(), s.delta);
  const ms = performance.now() - t0;
  const ref = reference[i].epsilon;
  const relDiff = Math.abs(epsilon - ref) / ref;
  worst = Math.max(worst, relDiff);
  console.log(JSON.stringify({ ...s, canopyEpsilon: epsilon, dpAccountingEpsilon: ref, relDiff, order, canopyMs: Number(ms.toFixed(2)), dpAccountingVersion: reference[i].version }));
});
console.log(JSON.stringify({ settings: settings.length, worstRelDiff: worst }));
process.exit(worst < 1e-9 ? 0 : 1);
