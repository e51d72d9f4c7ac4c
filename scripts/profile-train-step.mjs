#!/usr/bin/env node
// Where a training step's time goes, on the tfjs layers (wasm backend) and on the fast path,
// for the four benchmark models, batch 32. Times are minima over repetitions, the two engines
// interleaved, so that a shared machine's noise falls out (see docs/TRAINING.md):
//   - tfjsStepMs, fastStepMs: one SGD step at batch 32 and at batch 1. A batch-1 step is
//     nearly all fixed cost (tfjs: kernel dispatch, the gradient tape, tidy and tensor
//     allocation; fast path: call overhead, im2col and packing of one sample);
//   - tfjsStepCpuMs, fastStepCpuMs: the same steps' CPU time (ms, all threads of the process);
//   - tfjsKernels: kernels tfjs runs per step;
//   - gemm: each of the fast path's matrix products, its best time per call as GFLOP/s.
// Run after `npm run build`: node scripts/profile-train-step.mjs [--reps 40] [--models mlp,2nn,cnn,mcmahan-cnn]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { architecture, createModel, getParams, initBackend, syntheticDigits } from '@canopy/core/ml';
import { FastTrainer } from '../core/dist/ml/fast/trainer.js';
import { softmaxCrossEntropy } from '../core/dist/ml/models/loss.js';

const { values: flags } = parseArgs({ options: { reps: { type: 'string', default: '40' }, models: { type: 'string', default: 'mlp,2nn,cnn,mcmahan-cnn' } } });
await initBackend('wasm');

function steps(kind, n) {
  const spec = { kind, inputShape: [28, 28, 1], numClasses: 10 };
  const model = createModel(spec, 1);
  const d = syntheticDigits(n, 1);
  const onehot = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) onehot[i * 10 + d.labels[i]] = 1;
  const opt = tf.train.sgd(0.001);
  const tfjs = () =>
    tf.dispose(
      tf.tidy(() => {
        const x = tf.tensor2d(d.features, [n, 784]);
        const y = tf.tensor2d(onehot, [n, 10]);
        const { value, grads } = tf.variableGrads(() => {
          const r = softmaxCrossEntropy(model.logits(x), y);
          r.correct.dispose();
          return r.loss;
        }, model.variables);
        opt.applyGradients(grads);
        return value;
      }),
    );
  const trainer = new FastTrainer(architecture(spec), n, 10);
  trainer.params.set(getParams(model));
  trainer.input.set(d.features);
  const fast = () => {
    trainer.gradients(d.labels, n);
    trainer.applySgd(0.001);
  };
  return { tfjs, fast, trainer, dispose: () => (model.dispose(), opt.dispose()) };
}

const reps = Number(flags.reps);
for (const kind of flags.models.split(',')) {
  const line = { model: kind };
  for (const n of [32, 1]) {
    const s = steps(kind, n);
    const profile = await tf.profile(() => s.tfjs());
    line.tfjsKernels = profile.kernels.length;
    let t = Infinity;
    let f = Infinity;
    let tc = Infinity;
    let fc = Infinity;
    const cpuMs = (c) => (c.user + c.system) / 1000;
    const r = kind === 'mcmahan-cnn' ? Math.ceil(reps / 4) : reps;
    for (let i = 0; i < r; i++) {
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      s.tfjs();
      t = Math.min(t, performance.now() - t0);
      tc = Math.min(tc, cpuMs(process.cpuUsage(c0)));
      c0 = process.cpuUsage();
      t0 = performance.now();
      s.fast();
      f = Math.min(f, performance.now() - t0);
      fc = Math.min(fc, cpuMs(process.cpuUsage(c0)));
    }
    line[`tfjsStepMs_batch${n}`] = +t.toFixed(3);
    line[`fastStepMs_batch${n}`] = +f.toFixed(3);
    // CPU time of the step (this process, all threads): what a loaded machine inflates least
    line[`tfjsStepCpuMs_batch${n}`] = +tc.toFixed(1);
    line[`fastStepCpuMs_batch${n}`] = +fc.toFixed(1);
    if (n === 32) {
      // each matrix product's best time per call, timed around the kernel
      const best = new Map();
      // the instance's exports are read-only: time through a copy of the kernel table
      const exports = s.trainer.k;
      const k = { ...exports };
      s.trainer.k = k;
      const gemm = exports.gemm;
      k.gemm = (...a) => {
        const t0 = performance.now();
        gemm(...a);
        const key = `${a[0]}x${a[1]}x${a[2]}`;
        best.set(key, Math.min(best.get(key) ?? Infinity, performance.now() - t0));
      };
      for (let i = 0; i < 5; i++) s.fast();
      s.trainer.k = exports;
      line.gemmGflops = Object.fromEntries([...best].map(([key, ms]) => [key, +((2 * key.split('x').reduce((a, b) => a * Number(b), 1)) / ms / 1e6).toFixed(1)]));
    }
    s.dispose();
  }
  console.log(JSON.stringify(line));
}
