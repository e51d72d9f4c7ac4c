import * as tf from '@tensorflow/tfjs';
// Importing the backends registers them with tfjs (WebGL and the cpu come with @tensorflow/tfjs).
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendInfo } from '@canopy/core/ml';
import { createModel, trainLocal } from '@canopy/core/compute/port';
import type { GpuAvailability, PortReady } from '@canopy/core/compute/port';

/** What the GPU window may be asked to train on; 'auto' takes the first that works. */
export const gpuPreferences = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type GpuPreference = (typeof gpuPreferences)[number];

/** The window's backend and what it found out about the GPU backends. */
export type GpuBackendReport = Omit<PortReady, 'type' | 'v'> & { readonly info: BackendInfo };

const order = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
type Candidate = (typeof order)[number];

interface NavigatorGpu {
  readonly gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> };
}

/** Whether WebGPU can run here: the API must exist and hand out an adapter. */
async function probeWebGpu(): Promise<GpuAvailability> {
  const gpu = (navigator as NavigatorGpu).gpu;
  if (!gpu) return { available: false, reason: isSecureContext ? 'this browser engine has no WebGPU (navigator.gpu is missing)' : 'WebGPU needs a secure context' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, reason: 'WebGPU gave no adapter (no usable GPU, or the GPU is blocklisted)' };
    const i = adapter.info;
    const device = i ? [i.vendor, i.architecture, i.description].filter(Boolean).join(' ').slice(0, 200) : '';
    // Headless Chromium's SwiftShader adapter passes a few uploads, then refuses tfjs's mapped
    // buffers of 100 KB a dozen batches into training; and software is no faster than wasm.
    if (isSoftware(device)) return { available: false, device, software: true, reason: `only a software adapter (${device}), on which tfjs's WebGPU uploads fail` };
    return { available: true, ...(device ? { device } : {}) };
  } catch (err) {
    return { available: false, reason: `WebGPU adapter request failed: ${message(err)}` };
  }
}

/** Whether WebGL 2 can run here, and on what (a software renderer such as SwiftShader says so). */
function probeWebGl(): GpuAvailability {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return { available: false, reason: 'no WebGL 2 context (no GPU, or GPU acceleration is off)' };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const device = debug ? String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { available: true, device: device.slice(0, 200), ...(isSoftware(device) ? { software: true } : {}) };
}

/** Software rasterisers: they work, but train no faster than wasm, so 'auto' passes them over. */
function isSoftware(device: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|softpipe|software/i.test(device);
}

async function activate(name: Candidate): Promise<BackendInfo> {
  if (name === 'wasm') setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
  if (tf.findBackendFactory(name) === undefined) throw new Error(`backend '${name}' is not registered here`);
  // setBackend resolves false (rather than throwing) when the backend fails to initialise.
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
  if (name === 'webgpu' || name === 'webgl') await smokeTest(name);
  const simd = name === 'wasm' ? (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true : false;
  return { name, simd, threads: 1 };
}

/**
 * Two batches of real training (core's trainLocal on an mlp): a GPU backend counts as working
 * only once it has trained, not when its context or adapter merely exists.
 */
async function smokeTest(name: string): Promise<void> {
  const n = 64;
  const data = { features: new Float32Array(n * 784).map((_, i) => (i % 7) / 7), labels: Int32Array.from({ length: n }, (_, i) => i % 10), sampleShape: [28, 28, 1], numClasses: 10, count: n };
  const model = createModel({ kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10, hidden: [32] }, 1);
  try {
    const r = await trainLocal(model, data, { optimizer: { kind: 'sgd', lr: 0.01, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 1 });
    if (!Number.isFinite(r.loss)) throw new Error(`a test training step gave loss ${r.loss}`);
  } catch (err) {
    tf.removeBackend(name);
    throw new Error(`it failed a test training step: ${message(err)}`);
  } finally {
    model.dispose();
  }
}

/**
 * Starts the fastest tfjs backend this window has, from `pref` on in the order WebGPU, WebGL,
 * wasm, cpu, and says why each faster one was skipped. The GPU backends are probed first so
 * the report names what is missing (an adapter, a context) rather than tfjs's failure.
 */
export async function selectGpuBackend(pref: GpuPreference): Promise<GpuBackendReport> {
  let webgpu = await probeWebGpu();
  let webgl = probeWebGl();
  const tries = pref === 'auto' ? order : order.slice(order.indexOf(pref));
  const skipped: string[] = [];
  for (const name of tries) {
    const probed = name === 'webgpu' ? webgpu : name === 'webgl' ? webgl : undefined;
    if (probed && !probed.available) {
      skipped.push(`${name}: ${probed.reason ?? 'not available'}`);
      continue;
    }
    // Only a pin trains on a software GPU (the tests here do, on SwiftShader's WebGL).
    if (probed?.software && pref === 'auto') {
      skipped.push(`${name}: ${probed.device ?? 'the device'} is a software renderer, no faster than wasm`);
      continue;
    }
    try {
      const info = await activate(name);
      const reason = skipped.length > 0 ? skipped.join('; ') : undefined;
      return { backend: name, ...(reason ? { reason } : {}), webgpu, webgl, info: reason ? { ...info, reason } : info };
    } catch (err) {
      skipped.push(`${name}: ${message(err)}`);
      // The node decides from these: a GPU backend that cannot compute is not available.
      if (name === 'webgpu') webgpu = { ...webgpu, available: false, reason: message(err) };
      if (name === 'webgl') webgl = { ...webgl, available: false, reason: message(err) };
    }
  }
  throw new Error(`no tfjs backend could start in the GPU window (${skipped.join('; ')})`);
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
