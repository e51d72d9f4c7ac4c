import type { BackendCandidate, BackendChoice } from './contract.js';

/**
 * The order 'auto' tries backends in: native TensorFlow with CUDA, then the GPU through a
 * browser engine (WebGPU, then WebGL, in the desktop app's hidden window), then native
 * TensorFlow on the CPU, then WebAssembly with SIMD, then plain JavaScript.
 */
export const backendOrder = ['tfjs-node-gpu', 'webgpu', 'webgl', 'tfjs-node', 'wasm', 'cpu'] as const satisfies readonly Exclude<BackendChoice, 'auto'>[];

/** Which backend to train on, and why when it is not the one asked for. */
export interface BackendSelection {
  readonly active: Exclude<BackendChoice, 'auto'>;
  readonly reason?: string;
}

/**
 * Chooses the backend: the owner's pin when it can run here, otherwise the first available
 * in {@link backendOrder}. `gpu: false` (the owner's limit) skips the GPU backends. Pure.
 */
export function selectBackend(candidates: readonly BackendCandidate[], pin: BackendChoice, gpu = true): BackendSelection {
  const usable = (name: BackendChoice) => {
    const c = candidates.find((x) => x.name === name);
    return c?.available === true && (gpu || !isGpu(name));
  };
  const first = backendOrder.find(usable);
  if (!first) throw new Error('no training backend can run here; install @tensorflow/tfjs-backend-wasm');
  if (pin === 'auto') return { active: first };
  if (usable(pin)) return { active: pin };
  const c = candidates.find((x) => x.name === pin);
  const why = !gpu && isGpu(pin) ? 'the GPU is switched off in Limits' : (c?.reason ?? 'it is not available here');
  return { active: first, reason: `pinned ${pin} cannot run (${why}); using ${first}` };
}

/** Whether a backend trains on the GPU. */
export function isGpu(name: BackendChoice): boolean {
  return name === 'tfjs-node-gpu' || name === 'webgpu' || name === 'webgl';
}
