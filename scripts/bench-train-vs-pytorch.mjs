#!/usr/bin/env node
// Canopy's local training against PyTorch on the same machine, interleaved. Two settings:
//   one thread  — `canopy bench train --model M --engine E --json` (each of --engines, one
//                 thread) against scripts/pytorch_train_bench.py with torch.set_num_threads(1);
//   all cores   — Canopy's default engine with --threads = the core count against PyTorch at its
//                 default thread count (--all-cores no leaves this out).
// For each pass and model every run of both settings goes once, in alternating order, then one
// JSON line per model gives every pass's numbers, their ranges and the ratios Canopy / PyTorch,
// and a last line sums the ratios up. Both sides report samples per wall second and per CPU
// second of their own process; on a shared machine the CPU-second figures are the steadier ones
// for one thread, and with all cores the wall-clock ones are what counts.
//
//   pip install --break-system-packages torch      # once; not needed by npm test
//   node scripts/bench-train-vs-pytorch.mjs [--passes 3] [--models mlp,2nn,cnn,mcmahan-cnn]
//        [--engines auto,tfjs] [--all-cores yes|no] [--cores N] [--seconds 5] [--python python3]
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    passes: { type: 'string', default: '3' },
    models: { type: 'string', default: 'mlp,2nn,cnn,mcmahan-cnn' },
    engines: { type: 'string', default: 'auto,tfjs' },
    'all-cores': { type: 'string', default: 'yes' },
    cores: { type: 'string', default: String(availableParallelism()) },
    seconds: { type: 'string', default: '5' },
    python: { type: 'string', default: 'python3' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const passes = Number(flags.passes);
const cores = Number(flags.cores);
const models = flags.models.split(',').filter(Boolean);
const engines = flags.engines.split(',').filter(Boolean);
const allCores = flags['all-cores'] === 'yes';
if (!(passes >= 1) || models.length === 0 || !Number.isInteger(cores) || cores < 1 || !['yes', 'no'].includes(flags['all-cores'])) {
  console.error('error: --passes and --cores must be positive whole numbers, --models must name at least one model, --all-cores is yes or no');
  process.exit(2);
}

function lastJsonLine(stdout, what) {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (line === undefined) throw new Error(`${what} printed no JSON line`);
  return JSON.parse(line);
}

function canopy(model, engine, threads) {
  const args = ['cli/bin/canopy.js', 'bench', 'train', '--model', model, '--engine', engine, '--seconds', flags.seconds, '--threads', String(threads), '--json'];
  return lastJsonLine(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'canopy bench train');
}

function torch(model, threads) {
  const args = [`${root}scripts/pytorch_train_bench.py`, '--model', model, '--threads', String(threads)];
  try {
    return lastJsonLine(execFileSync(flags.python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), 'pytorch_train_bench.py');
  } catch (err) {
    console.error(`error: the PyTorch side failed (${String(err.message).split('\n')[0]}); install it with: pip install --break-system-packages torch`);
    process.exit(1);
  }
}

const range = (xs) => [Math.min(...xs), Math.max(...xs)];
const round2 = (x) => Math.round(x * 100) / 100;
// one setting: Canopy runs (by name) against the PyTorch run of the same pass
const settings = [{ name: 'oneThread', torchThreads: 1, canopy: engines.map((e) => ({ name: e, engine: e, threads: 1 })) }];
if (allCores) settings.push({ name: 'allCores', torchThreads: 0, canopy: [{ name: 'auto', engine: 'auto', threads: cores }] });
const runs = new Map(models.map((m) => [m, settings.map((s) => ({ torch: [], ...Object.fromEntries(s.canopy.map((c) => [c.name, []])) }))]));
const loads = [];
let torchVersion;
for (let pass = 0; pass < passes; pass++) {
  loads.push(round2(loadavg()[0]));
  for (const model of models) {
    const sides = [];
    settings.forEach((s, i) => {
      const r = runs.get(model)[i];
      for (const c of s.canopy) sides.push(() => r[c.name].push(canopy(model, c.engine, c.threads)));
      sides.push(() => r.torch.push(torch(model, s.torchThreads)));
    });
    // alternate who goes first, so neither side always gets the quieter moment
    if (pass % 2 === 1) sides.reverse();
    for (const run of sides) run();
  }
}
loads.push(round2(loadavg()[0]));

const summary = {};
for (const [model, perSetting] of runs) {
  summary[model] = {};
  settings.forEach((s, i) => {
    const r = perSetting[i];
    torchVersion = r.torch[0].torch;
    const line = { model, setting: s.name, torch: { version: torchVersion, threads: r.torch[0].threads, samplesPerSec: range(r.torch.map((x) => x.samplesPerSec)), samplesPerCpuSec: range(r.torch.map((x) => x.samplesPerCpuSec)) } };
    for (const c of s.canopy) {
      const xs = r[c.name];
      line[`canopy_${c.name}`] = {
        engine: [...new Set(xs.map((x) => x.engine))].join('/'),
        threads: xs[0].threads ?? 1,
        samplesPerSec: range(xs.map((x) => x.samplesPerSec)),
        samplesPerCpuSec: range(xs.map((x) => x.samplesPerCpuSec)),
        // pass by pass: the runs next to each other in time
        ratioWall: range(xs.map((x, j) => round2(x.samplesPerSec / r.torch[j].samplesPerSec))),
        ratioCpu: range(xs.map((x, j) => round2(x.samplesPerCpuSec / r.torch[j].samplesPerCpuSec))),
      };
      summary[model][`${s.name}_${c.name}`] = { wall: line[`canopy_${c.name}`].ratioWall, cpu: line[`canopy_${c.name}`].ratioCpu };
    }
    console.log(JSON.stringify(line));
  });
}
console.log(JSON.stringify({ passes, cores, loadAverage1m: loads, ratios: summary }));
