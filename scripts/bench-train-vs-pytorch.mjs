#!/usr/bin/env node
// Canopy's local training against PyTorch on the same machine, interleaved: for each pass and
// model it runs `canopy bench train --model M --json` once per engine and
// scripts/pytorch_train_bench.py once, in alternating order, then prints one JSON line per
// model with every pass's numbers, their ranges and the ratios Canopy / PyTorch, and a last
// summary line. Both sides report samples per wall second and per CPU second of their own
// process; on a shared machine the CPU-second figures are the steadier ones.
//
//   pip install --break-system-packages torch      # once; not needed by npm test
//   node scripts/bench-train-vs-pytorch.mjs [--passes 3] [--models mlp,2nn,cnn,mcmahan-cnn]
//        [--engines auto,tfjs] [--threads 1] [--torch-threads 1] [--seconds 5] [--python python3]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    passes: { type: 'string', default: '3' },
    models: { type: 'string', default: 'mlp,2nn,cnn,mcmahan-cnn' },
    engines: { type: 'string', default: 'auto,tfjs' },
    threads: { type: 'string', default: '1' },
    'torch-threads': { type: 'string', default: '1' },
    seconds: { type: 'string', default: '5' },
    python: { type: 'string', default: 'python3' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const passes = Number(flags.passes);
const models = flags.models.split(',');
const engines = flags.engines.split(',');
if (!(passes >= 1) || models.length === 0) {
  console.error('error: --passes must be a positive number and --models must name at least one model');
  process.exit(2);
}

function lastJsonLine(stdout, what) {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (line === undefined) throw new Error(`${what} printed no JSON line`);
  return JSON.parse(line);
}

function canopy(model, engine) {
  const args = ['cli/bin/canopy.js', 'bench', 'train', '--model', model, '--engine', engine, '--seconds', flags.seconds, '--json'];
  if (flags.threads !== '1') args.push('--threads', flags.threads);
  return lastJsonLine(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'canopy bench train');
}

function torch(model) {
  const args = [`${root}scripts/pytorch_train_bench.py`, '--model', model, '--threads', flags['torch-threads']];
  try {
    return lastJsonLine(execFileSync(flags.python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), 'pytorch_train_bench.py');
  } catch (err) {
    console.error(`error: the PyTorch side failed (${String(err.message).split('\n')[0]}); install it with: pip install --break-system-packages torch`);
    process.exit(1);
  }
}

const range = (xs) => [Math.min(...xs), Math.max(...xs)];
const round2 = (x) => Math.round(x * 100) / 100;
const runs = new Map(models.map((m) => [m, { torch: [], ...Object.fromEntries(engines.map((e) => [e, []])) }]));
let torchVersion;
for (let pass = 0; pass < passes; pass++) {
  for (const model of models) {
    const r = runs.get(model);
    // alternate who goes first, so neither side always gets the quieter moment
    const sides = [...engines.map((e) => () => r[e].push(canopy(model, e))), () => r.torch.push(torch(model))];
    if (pass % 2 === 1) sides.reverse();
    for (const run of sides) run();
    torchVersion = r.torch[r.torch.length - 1].torch;
  }
}

const summary = {};
for (const [model, r] of runs) {
  const line = { model, torch: { version: torchVersion, threads: r.torch[0].threads, samplesPerSec: range(r.torch.map((x) => x.samplesPerSec)), samplesPerCpuSec: range(r.torch.map((x) => x.samplesPerCpuSec)) } };
  for (const e of engines) {
    const xs = r[e];
    line[`canopy_${e}`] = {
      engine: [...new Set(xs.map((x) => x.engine))].join('/'),
      threads: xs[0].threads ?? 1,
      samplesPerSec: range(xs.map((x) => x.samplesPerSec)),
      samplesPerCpuSec: range(xs.map((x) => x.samplesPerCpuSec)),
      // pass by pass: the runs next to each other in time
      ratioWall: range(xs.map((x, i) => round2(x.samplesPerSec / r.torch[i].samplesPerSec))),
      ratioCpu: range(xs.map((x, i) => round2(x.samplesPerCpuSec / r.torch[i].samplesPerCpuSec))),
    };
  }
  summary[model] = Object.fromEntries(engines.map((e) => [e, line[`canopy_${e}`].ratioCpu]));
  console.log(JSON.stringify(line));
}
console.log(JSON.stringify({ passes, ratioCpuByModel: summary }));
