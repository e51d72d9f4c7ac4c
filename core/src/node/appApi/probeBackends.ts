import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BackendCandidate } from './contract.js';
import type { GpuAvailability } from '../../compute/portMessages.js';

/** What the desktop app's GPU window found (its ready message), or why there is none. */
export type GpuWindowReport = { readonly webgpu: GpuAvailability; readonly webgl: GpuAvailability } | { readonly missing: string };

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * What can train on this machine, as seen from the Node.js process a node runs in (the
 * desktop app's utility process, or `canopy node`). WebGPU and WebGL need a browser engine:
 * they are available when the desktop app's hidden GPU window (renderer/gpu.html) reports
 * them, on a hardware device; a software renderer (SwiftShader, llvmpipe) is no faster than
 * wasm, so it does not count.
 */
export function probeBackends(gpuWindow: GpuWindowReport = { missing: 'needs the desktop app’s GPU window' }): BackendCandidate[] {
  const cuda = existsSync('/proc/driver/nvidia/version') || existsSync('/usr/local/cuda');
  const gpuPkg = installed('@tensorflow/tfjs-node-gpu');
  const fromWindow = (name: 'webgpu' | 'webgl'): BackendCandidate => {
    if ('missing' in gpuWindow) return { name, available: false, reason: gpuWindow.missing };
    const g = gpuWindow[name];
    if (!g.available) return { name, available: false, reason: g.reason ?? 'the GPU window cannot start it' };
    if (g.software) return { name, available: false, reason: `only a software renderer (${g.device ?? 'unknown'}), no faster than wasm` };
    return { name, available: true };
  };
  return [
    gpuPkg && cuda ? { name: 'tfjs-node-gpu', available: true } : { name: 'tfjs-node-gpu', available: false, reason: gpuPkg ? 'no CUDA driver found' : 'not installed (needs CUDA)' },
    fromWindow('webgpu'),
    fromWindow('webgl'),
    installed('@tensorflow/tfjs-node') ? { name: 'tfjs-node', available: true } : { name: 'tfjs-node', available: false, reason: 'not installed' },
    installed('@tensorflow/tfjs-backend-wasm') ? { name: 'wasm', available: true } : { name: 'wasm', available: false, reason: 'not installed (@tensorflow/tfjs-backend-wasm)' },
    { name: 'cpu', available: true },
  ];
}
