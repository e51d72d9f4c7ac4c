import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BackendCandidate } from './contract.js';

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
 * training in a hidden Electron window is not built yet, so they are never available.
 */
export function probeBackends(): BackendCandidate[] {
  const cuda = existsSync('/proc/driver/nvidia/version') || existsSync('/usr/local/cuda');
  const gpuPkg = installed('@tensorflow/tfjs-node-gpu');
  const noEngine = 'needs a GPU window in the desktop app (not built yet)';
  return [
    gpuPkg && cuda ? { name: 'tfjs-node-gpu', available: true } : { name: 'tfjs-node-gpu', available: false, reason: gpuPkg ? 'no CUDA driver found' : 'not installed (needs CUDA)' },
    { name: 'webgpu', available: false, reason: noEngine },
    { name: 'webgl', available: false, reason: noEngine },
    installed('@tensorflow/tfjs-node') ? { name: 'tfjs-node', available: true } : { name: 'tfjs-node', available: false, reason: 'not installed' },
    installed('@tensorflow/tfjs-backend-wasm') ? { name: 'wasm', available: true } : { name: 'wasm', available: false, reason: 'not installed (@tensorflow/tfjs-backend-wasm)' },
    { name: 'cpu', available: true },
  ];
}
