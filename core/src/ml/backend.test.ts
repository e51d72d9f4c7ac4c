import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';

describe('initBackend', () => {
  it('auto picks wasm with SIMD here, saying why tfjs-node was skipped', async () => {
    const info = await initBackend();
    expect(info).toMatchObject({ name: 'wasm', simd: true });
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.reason).toMatch(/tfjs-node-gpu is not installed.*tfjs-node is not installed/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('is idempotent and switches backends on request', async () => {
    const a = await initBackend('wasm');
    expect(await initBackend('wasm')).toBe(a);
    expect(a.reason).toBeUndefined();
    const cpu = await initBackend('cpu');
    expect(cpu).toEqual({ name: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    await initBackend('auto');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers the conv gradient kernels on wasm', async () => {
    await initBackend('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('falls back from a missing tfjs-node to wasm', async () => {
    const info = await initBackend('tfjs-node');
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/^tfjs-node: @tensorflow\/tfjs-node is not installed$/);
  });
});
