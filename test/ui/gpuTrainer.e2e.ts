import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { decodeParams, type ModelSpec, type TrainSpec } from '@canopy/core/ml';
import type { ComputeBackend } from '@canopy/core/compute';
import { mlCompute } from '@canopy/core/compute';
import { portCompute, type PortCompute } from '@canopy/core/compute';
import type { PortReady } from '@canopy/core/compute';
import { openGpuTrainer, serveDir, type GpuTrainerPage } from './gpuPage.js';

// The desktop app's GPU window, end to end: Debian's Chromium opens the built gpu.html, and
// the node's real portCompute drives it over a real MessagePort with core's task messages,
// training on real MNIST digits. Everything the page runs is ours and unmocked; only the
// Electron preload that hands the page its port is played by the test (the same postMessage).
// WebGL here is SwiftShader, Chromium's software GPU; the same page on a real GPU is only
// exercised by the desktop app. Nothing is timed: samples/s is printed, never asserted.

const dist = join(import.meta.dirname, '..', '..', 'renderer', 'dist');
const artifacts = join(import.meta.dirname, '..', 'artifacts');
const args = ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const owner = { member: 'me', trainSeed: 7 };
const spec: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 0 };
const models: Record<string, ModelSpec> = {
  logreg: { kind: 'logreg', inputShape: [28, 28, 1], numClasses: 10 },
  mlp: { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10, hidden: [64] },
};
/**
 * How far GPU-trained parameters may drift from wasm's after three epochs. Both are float32,
 * but WebGL sums in another order (and SwiftShader rounds like a GPU); the measured drift is
 * printed. Parameters are O(0.1); a real bug (a wrong gradient, a skipped batch) moves them
 * by more than 1e-3. Measured here (SwiftShader WebGL): at most 9e-8.
 */
const TOLERANCE = 1e-5;

let server: Awaited<ReturnType<typeof serveDir>>;
let browser: Browser;
let chunk: Uint8Array;
const opened: PortCompute[] = [];
const bench: Record<string, Record<string, number>> = {};

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  server = await serveDir(dist);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args });
  // A few hundred real digits: one of 20 IID shards of the embedded MNIST (400 train, 100 test).
  const chunker = mlCompute({ backend: 'wasm' });
  chunk = (await chunker.prepareChunks({ dataset: { kind: 'mnist', testFraction: 0.2 }, partition: { kind: 'iid' }, seed: 7, shards: 20 }))[0]!.bytes;
  await chunker.stop();
}, 180_000);

afterAll(async () => {
  for (const c of opened) await c.stop().catch(() => undefined);
  await browser?.close();
  await server?.close();
  await writeFile(join(artifacts, 'gpu-bench.json'), JSON.stringify(bench, null, 2));
  console.log(JSON.stringify({ gpuBench: bench }));
});

/** A node-side compute backed by a fresh GPU page, with wasm threads as the fallback. */
async function connect(backend: string): Promise<{ compute: PortCompute; page: GpuTrainerPage; ready: PortReady }> {
  const page = await openGpuTrainer(browser, server.url, backend);
  const compute = portCompute({ port: page.port, fallback: mlCompute({ backend: 'wasm' }) });
  opened.push(compute);
  return { compute, page, ready: await compute.ready };
}

const maxAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  const x = decodeParams(a).params;
  const y = decodeParams(b).params;
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
};

/** Three epochs of rounds from the same start on `a` and `b`, side by side. */
async function trainBoth(a: ComputeBackend, b: ComputeBackend, model: ModelSpec) {
  const init = await b.initParams({ model, seed: 11 });
  await a.loadData({ key: 'me', source: { kind: 'chunk', bytes: chunk }, owner });
  await b.loadData({ key: 'me', source: { kind: 'chunk', bytes: chunk }, owner });
  const before = await a.evaluate({ key: 'me', model, params: init });
  let ga = init;
  let gb = init;
  const rounds = [];
  let progress = 0;
  for (let r = 0; r < 3; r++) {
    const ta = await a.train({ key: 'me', model, train: spec, global: ga, seed: 100 + r }, { onProgress: () => progress++ });
    const tb = await b.train({ key: 'me', model, train: spec, global: gb, seed: 100 + r });
    ga = ta.params;
    gb = tb.params;
    rounds.push({ loss: ta.loss, wasmLoss: tb.loss, backend: ta.backend, samplesPerSec: ta.samplesPerSec ?? 0, wasmSamplesPerSec: tb.samplesPerSec ?? 0, maxAbsDiff: maxAbsDiff(ga, gb) });
  }
  const after = await a.evaluate({ key: 'me', model, params: ga });
  const wasmAfter = await b.evaluate({ key: 'me', model, params: gb });
  return { before, after, wasmAfter, rounds, progress };
}

describe('the GPU window (renderer/gpu.html) in Chromium', () => {
  let reference: ComputeBackend;
  beforeAll(() => {
    reference = mlCompute({ backend: 'wasm' });
  });
  afterAll(async () => {
    await reference.stop();
  });

  it('reports the backend it started and why it skipped faster ones', async () => {
    const { ready } = await connect('auto');
    console.log(JSON.stringify({ gpuWindow: ready }));
    // Whatever this Chromium offers, the report must be consistent with it: 'auto' takes the
    // first hardware GPU backend, and passes over software ones (SwiftShader here) for wasm.
    const usable = (g: PortReady['webgl']) => g.available && g.software !== true;
    const expected = usable(ready.webgpu) ? 'webgpu' : usable(ready.webgl) ? 'webgl' : 'wasm';
    expect(ready.backend).toBe(expected);
    if (!usable(ready.webgpu)) expect(ready.reason).toMatch(/^webgpu: .+/);
    if (!usable(ready.webgl)) expect(ready.reason).toMatch(/webgl: .+/);
    // This machine has no GPU: what Chromium offers is SwiftShader, and the page must say so.
    if (ready.webgl.available) expect(ready.webgl.software, ready.webgl.device).toBe(true);
  });

  for (const [name, model] of Object.entries(models)) {
    it(`trains ${name} on real MNIST over the port, and matches the node's wasm training`, async () => {
      // Pinned: 'auto' passes over this machine's software WebGL (see the test above).
      const { compute, ready } = await connect('webgl');
      expect(ready.backend, ready.reason).toBe('webgl');
      const r = await trainBoth(compute, reference, model);
      console.log(JSON.stringify({ model: name, backend: ready.backend, ...r }));
      bench[`${name}:${ready.backend}`] = { samplesPerSec: r.rounds.at(-1)!.samplesPerSec, maxAbsDiff: Math.max(...r.rounds.map((x) => x.maxAbsDiff)) };
      bench[`${name}:node-wasm`] = { samplesPerSec: r.rounds.at(-1)!.wasmSamplesPerSec };
      for (const [i, round] of r.rounds.entries()) {
        expect(round.backend, `round ${i}`).toBe(ready.backend);
        expect(round.maxAbsDiff, `round ${i}: parameters within ${TOLERANCE} of wasm's`).toBeLessThan(TOLERANCE);
      }
      expect(r.progress).toBeGreaterThan(0);
      expect(r.rounds[2]!.loss).toBeLessThan(r.rounds[0]!.loss);
      expect(r.after.accuracy).toBeGreaterThan(r.before.accuracy + 0.3);
      expect(Math.abs(r.after.accuracy - r.wasmAfter.accuracy)).toBeLessThanOrEqual(0.02);
    });
  }

  it('a pin is honoured, and a pin that cannot run falls back and says why', async () => {
    const wasm = await connect('wasm');
    expect(wasm.ready.backend).toBe('wasm');
    expect(wasm.ready.reason).toBeUndefined();
    // The page's own wasm, for the benchmark.
    const r = await trainBoth(wasm.compute, reference, models.mlp!);
    bench['mlp:page-wasm'] = { samplesPerSec: r.rounds.at(-1)!.samplesPerSec, maxAbsDiff: Math.max(...r.rounds.map((x) => x.maxAbsDiff)) };
    expect(r.rounds.every((x) => x.backend === 'wasm')).toBe(true);

    const gpu = await connect('webgpu');
    console.log(JSON.stringify({ pinnedWebgpu: gpu.ready }));
    if (gpu.ready.webgpu.available) expect(gpu.ready.backend).toBe('webgpu');
    else {
      // From a pin, the fallback takes the next that works, software or not.
      expect(gpu.ready.backend).toBe(gpu.ready.webgl.available ? 'webgl' : 'wasm');
      expect(gpu.ready.reason).toContain(`webgpu: ${gpu.ready.webgpu.reason}`);
    }
  });

  it('answers malformed tasks with an error and keeps serving', async () => {
    const { compute, page } = await connect('auto');
    await page.postRaw('garbage');
    await page.postRaw({ id: 41, kind: 'train', payload: { key: 'me' } });
    await page.postRaw({ id: 42, kind: 'fly', payload: {} });
    await compute.loadData({ key: 'me', source: { kind: 'chunk', bytes: chunk }, owner });
    const errors = page.received.filter((m): m is { id: number; ok: false; error: { message: string } } => (m as { ok?: unknown }).ok === false);
    expect(errors.map((e) => e.id)).toEqual([0, 41, 42]);
    expect(errors[1]!.error.message).toMatch(/malformed task \(payload\.model/);
    expect(page.received.some((m) => 'pageerror' in (m as object))).toBe(false);
    // A task the page can decode but not run (no data under that key) fails on its own.
    const init = await reference.initParams({ model: models.logreg!, seed: 1 });
    await expect(compute.evaluate({ key: 'nobody', model: models.logreg!, params: init })).rejects.toThrow(/no data loaded under "nobody"/);
    expect((await compute.evaluate({ key: 'me', model: models.logreg!, params: init })).samples).toBe(100);
  });

  it('an aborted training stops in the window after its batch: the next task runs at once', async () => {
    const { compute, ready } = await connect('webgl');
    expect(ready.backend, ready.reason).toBe('webgl');
    await compute.loadData({ key: 'me', source: { kind: 'chunk', bytes: chunk }, owner });
    const init = await compute.initParams({ model: models.mlp!, seed: 3 });
    // An evaluation's cost right after a training, as it will run after the aborted one
    // (the first of each compiles its WebGL programs).
    await compute.evaluate({ key: 'me', model: models.mlp!, params: init });
    await compute.train({ key: 'me', model: models.mlp!, train: spec, global: init, seed: 1 });
    let t = performance.now();
    await compute.evaluate({ key: 'me', model: models.mlp!, params: init });
    const evaluateMs = performance.now() - t;
    // 13 batches per epoch, each reported; 1,000 epochs would take many minutes here.
    const notes: { at: number; epoch: number; batch: number; batches: number }[] = [];
    const ac = new AbortController();
    const running = compute.train({ key: 'me', model: models.mlp!, train: { ...spec, epochs: 1000 }, global: init, seed: 1 }, { signal: ac.signal, onProgress: (p) => notes.push({ at: performance.now(), ...p }) }).catch((e: unknown) => e);
    while (notes.length < 26) await new Promise((r) => setTimeout(r, 10));
    // The first epoch compiles WebGL programs; the batch time is taken from the second.
    let batchMs = 0;
    for (let i = 14; i < notes.length; i++) {
      const a = notes[i - 1]!, b = notes[i]!;
      batchMs = Math.max(batchMs, (b.at - a.at) / ((b.epoch - a.epoch) * b.batches + b.batch - a.batch));
    }
    t = performance.now();
    ac.abort();
    expect(await running).toMatchObject({ code: 'ABORTED' });
    // The window serves one task at a time: this answers once the training gave the page back.
    await Promise.race([compute.evaluate({ key: 'me', model: models.mlp!, params: init }), new Promise((r) => setTimeout(r, 20_000))]);
    const freedMs = performance.now() - t;
    console.log(JSON.stringify({ gpuAbort: { backend: ready.backend, batchMs, evaluateMs, freedMs } }));
    // The batch under way, the page's next turn of its event loop (training yields every 50 ms), the evaluation; one batch of slack.
    expect(freedMs, `freed after ${freedMs.toFixed(0)} ms; a batch takes ${batchMs.toFixed(1)} ms, an evaluation ${evaluateMs.toFixed(0)} ms`).toBeLessThan(2 * batchMs + 50 + evaluateMs + 50);
    expect(compute.lost).toBe(false);
  });

  it('a window that dies mid-task fails that task clearly; the node trains on wasm after', async () => {
    const { compute, page } = await connect('auto');
    await compute.loadData({ key: 'me', source: { kind: 'chunk', bytes: chunk }, owner });
    const init = await compute.initParams({ model: models.mlp!, seed: 3 });
    // Long enough to be still running when the window closes, even on the fast training path.
    const running = compute.train({ key: 'me', model: models.mlp!, train: { ...spec, epochs: 1000 }, global: init, seed: 1 });
    await page.page.waitForFunction(() => document.body.dataset.status === 'serving');
    const failed = expect(running).rejects.toThrow(/GPU window closed while running train/);
    await page.page.close();
    await failed;
    expect(compute.lost).toBe(true);
    const after = await compute.train({ key: 'me', model: models.mlp!, train: spec, global: init, seed: 1 });
    expect(after.backend).toBe('wasm');
    expect(after.samples).toBe(400);
  });
});
