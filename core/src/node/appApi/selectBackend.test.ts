import { describe, expect, it } from 'vitest';
import type { BackendCandidate, BackendChoice } from './contract.js';
import { backendOrder, selectBackend } from './selectBackend.js';
import { probeBackends, type GpuWindowReport } from './probeBackends.js';

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

describe('probeBackends: WebGPU and WebGL as the GPU window reports them', () => {
  const hw = { available: true, device: 'NVIDIA GeForce RTX 4070' };
  const cases: { name: string; report?: GpuWindowReport; webgpu: RegExp | true; webgl: RegExp | true; active: string }[] = [
    { name: 'no window (canopy node, browser mode)', webgpu: /needs the desktop app’s GPU window/, webgl: /GPU window/, active: 'wasm' },
    { name: 'a window that could not open', report: { missing: 'the GPU window did not open within 30 s' }, webgpu: /did not open/, webgl: /did not open/, active: 'wasm' },
    { name: 'hardware WebGL only', report: { webgpu: { available: false, reason: 'no adapter' }, webgl: hw }, webgpu: /no adapter/, webgl: true, active: 'webgl' },
    { name: 'hardware WebGPU and WebGL', report: { webgpu: hw, webgl: hw }, webgpu: true, webgl: true, active: 'webgpu' },
    { name: 'SwiftShader only', report: { webgpu: { available: false, software: true, reason: 'only a software adapter' }, webgl: { available: true, software: true, device: 'SwiftShader' } }, webgpu: /software adapter/, webgl: /software renderer \(SwiftShader\)/, active: 'wasm' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = probeBackends(c.report);
      for (const name of ['webgpu', 'webgl'] as const) {
        const want = c[name];
        const cand = got.find((x) => x.name === name)!;
        if (want === true) expect(cand, `${c.name}: ${name}`).toEqual({ name, available: true });
        else {
          expect(cand.available, `${c.name}: ${name}`).toBe(false);
          expect(cand.reason, `${c.name}: ${name}`).toMatch(want);
        }
      }
      // Whatever native TensorFlow this machine has, the window decides between GPU and wasm.
      const noNative = got.map((x) => (x.name.startsWith('tfjs-node') ? { ...x, available: false } : x));
      expect(selectBackend(noNative, 'auto').active, c.name).toBe(c.active);
    });
  }
});
