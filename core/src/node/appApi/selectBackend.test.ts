import { describe, expect, it } from 'vitest';
import type { BackendCandidate, BackendChoice } from './contract.js';
import { backendOrder, selectBackend } from './selectBackend.js';

const only = (...available: BackendChoice[]): BackendCandidate[] => backendOrder.map((name) => (available.includes(name) ? { name, available: true } : { name, available: false, reason: `${name} missing` }));

describe('selectBackend', () => {
  const cases: { name: string; candidates: BackendCandidate[]; pin: BackendChoice; gpu?: boolean; active: string; reason?: RegExp }[] = [
    { name: 'auto takes CUDA first', candidates: only('tfjs-node-gpu', 'webgpu', 'wasm', 'cpu'), pin: 'auto', active: 'tfjs-node-gpu' },
    { name: 'auto without CUDA takes WebGPU', candidates: only('webgpu', 'webgl', 'wasm', 'cpu'), pin: 'auto', active: 'webgpu' },
    { name: 'auto without WebGPU takes WebGL', candidates: only('webgl', 'tfjs-node', 'wasm', 'cpu'), pin: 'auto', active: 'webgl' },
    { name: 'auto without a GPU takes native CPU', candidates: only('tfjs-node', 'wasm', 'cpu'), pin: 'auto', active: 'tfjs-node' },
    { name: 'auto in plain Node.js takes wasm', candidates: only('wasm', 'cpu'), pin: 'auto', active: 'wasm' },
    { name: 'the GPU switched off skips GPU backends', candidates: only('tfjs-node-gpu', 'webgpu', 'wasm', 'cpu'), pin: 'auto', gpu: false, active: 'wasm' },
    { name: 'a pin that can run wins over the order', candidates: only('webgpu', 'wasm', 'cpu'), pin: 'cpu', active: 'cpu' },
    { name: 'a pin that cannot run falls back, and says why', candidates: only('wasm', 'cpu'), pin: 'webgl', active: 'wasm', reason: /pinned webgl cannot run \(webgl missing\); using wasm/ },
    { name: 'a GPU pin with the GPU off falls back', candidates: only('webgpu', 'wasm', 'cpu'), pin: 'webgpu', gpu: false, active: 'wasm', reason: /GPU is switched off/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = selectBackend(c.candidates, c.pin, c.gpu);
      expect(got.active, c.name).toBe(c.active);
      if (c.reason) expect(got.reason, c.name).toMatch(c.reason);
      else expect(got.reason, c.name).toBeUndefined();
    });
  }

  it('says what to install when nothing can run', () => {
    expect(() => selectBackend(only(), 'auto')).toThrow(/no training backend/);
  });
});
