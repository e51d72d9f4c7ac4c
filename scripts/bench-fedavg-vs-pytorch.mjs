#!/usr/bin/env node
// `canopy fedavg` against the same FedAvg in PyTorch (scripts/pytorch_fedavg.py), interleaved:
// full Fashion-MNIST, the 2NN, 10 IID clients, E=1, B=32, lr 0.05, 20 rounds. Each pass runs
// Canopy with one thread and with --threads = the core count, and PyTorch with one thread and
// at its default thread count, in alternating order. Prints one JSON line per run (wall and CPU
// seconds of the whole process, test accuracy after every round) and a summary line: ranges of
// wall and CPU time per side, and the largest per-round accuracy difference between Canopy's
// runs (and, with --tfjs-reference yes, against one run of the tfjs layers).
//
//   node scripts/bench-fedavg-vs-pytorch.mjs [--passes 2] [--rounds 20] [--cores N]
//        [--data-dir /usr/share/datasets/fashion-mnist] [--tfjs-reference no] [--python python3]
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    passes: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '20' },
    cores: { type: 'string', default: String(availableParallelism()) },
    'data-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'tfjs-reference': { type: 'string', default: 'no' },
    python: { type: 'string', default: 'python3' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const passes = Number(flags.passes);
const rounds = Number(flags.rounds);
const cores = Number(flags.cores);
if (![passes, rounds, cores].every((x) => Number.isInteger(x) && x >= 1) || !['yes', 'no'].includes(flags['tfjs-reference'])) {
  console.error('error: --passes, --rounds and --cores must be positive whole numbers, --tfjs-reference yes or no');
  process.exit(2);
}
const round2 = (x) => Math.round(x * 100) / 100;
const range = (xs) => [Math.min(...xs), Math.max(...xs)];

function jsonLines(stdout, what) {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  if (lines.length === 0) throw new Error(`${what} printed no JSON line`);
  return lines;
}

function canopy(threads, engine = 'auto') {
  const args = ['cli/bin/canopy.js', 'fedavg', '--dataset', 'fashion-mnist', '--data-dir', flags['data-dir'], '--model', '2nn', '--clients', '10',
    '--epochs', '1', '--batch', '32', '--lr', '0.05', '--rounds', String(rounds), '--threads', String(threads), '--json'];
  const env = { ...process.env, ...(engine === 'auto' ? {} : { CANOPY_TRAIN_ENGINE: engine }) };
  const load = loadavg()[0];
  const t0 = performance.now();
  const out = execFileSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
  const processWallSeconds = round2((performance.now() - t0) / 1000);
  const lines = jsonLines(out, 'canopy fedavg');
  const last = lines.pop();
  // the rounds alone (training, averaging, evaluation), as PyTorch's script times them
  const roundsWallSeconds = round2(lines.reduce((a, l) => a + l.wallSeconds, 0));
  return { side: engine === 'auto' ? 'canopy' : `canopy_${engine}`, threads, loadAverage1m: round2(load), processWallSeconds, roundsWallSeconds, cpuSeconds: last.cpuSeconds, accuracy: lines.map((l) => l.accuracy) };
}

function torch(threads) {
  const args = [`${root}scripts/pytorch_fedavg.py`, '--data-dir', flags['data-dir'], '--rounds', String(rounds), '--threads', String(threads)];
  const load = loadavg()[0];
  const t0 = performance.now();
  let out;
  try {
    out = execFileSync(flags.python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (err) {
    console.error(`error: the PyTorch side failed (${String(err.message).split('\n')[0]}); install it with: pip install --break-system-packages torch`);
    process.exit(1);
  }
  const processWallSeconds = round2((performance.now() - t0) / 1000);
  const lines = jsonLines(out, 'pytorch_fedavg.py');
  const last = lines.pop();
  return { side: 'torch', threads: last.threads, torch: last.torch, loadAverage1m: round2(load), processWallSeconds, roundsWallSeconds: last.wallSeconds, cpuSeconds: last.cpuSeconds, accuracy: lines.map((l) => l.accuracy) };
}

const runs = [];
const record = (r) => {
  runs.push(r);
  console.log(JSON.stringify(r));
};
for (let pass = 0; pass < passes; pass++) {
  const sides = [() => record(canopy(1)), () => record(torch(1)), () => record(canopy(cores)), () => record(torch(0))];
  if (pass % 2 === 1) sides.reverse();
  for (const run of sides) run();
}
if (flags['tfjs-reference'] === 'yes') record(canopy(1, 'tfjs'));

const groups = {};
for (const r of runs) (groups[`${r.side}_${r.side === 'torch' && r.threads !== 1 ? 'default' : r.threads}threads`] ??= []).push(r);
const maxDiffPp = (a, b) => round2(Math.max(...a.map((x, i) => Math.abs(x - b[i]) * 100)));
const canopyRuns = runs.filter((r) => r.side === 'canopy');
const reference = runs.find((r) => r.side === 'canopy_tfjs');
console.log(JSON.stringify({
  passes,
  rounds,
  cores,
  sides: Object.fromEntries(Object.entries(groups).map(([k, rs]) => [k, { processWallSeconds: range(rs.map((r) => r.processWallSeconds)), roundsWallSeconds: range(rs.map((r) => r.roundsWallSeconds)), cpuSeconds: range(rs.map((r) => r.cpuSeconds)), finalAccuracy: range(rs.map((r) => r.accuracy.at(-1))) }])),
  // Canopy's runs with one thread and with all cores against each other, per round
  canopyAccuracyMaxDiffPp: maxDiffPp(canopyRuns[0].accuracy, canopyRuns.find((r) => r.threads === cores)?.accuracy ?? canopyRuns[0].accuracy),
  ...(reference ? { canopyVsTfjsAccuracyMaxDiffPp: Math.max(...canopyRuns.map((r) => maxDiffPp(r.accuracy, reference.accuracy))) } : {}),
}));
