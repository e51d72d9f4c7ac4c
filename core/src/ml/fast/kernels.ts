import { UnsupportedError } from '../../util/errors.js';
import { fastKernelsWasmBase64 } from './kernelsWasm.js';

// The project's lib has no WebAssembly typings (no DOM lib), so the few parts used are typed here.
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** The exports of kernels.wat. Addresses are byte offsets into the memory, strides are in floats. */
export interface FastKernels {
  gemm(m: number, n: number, k: number, a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, acc: number, bias: number, relu: number, scratch: number): void;
  maxPool(z: number, out: number, n: number, oh: number, ow: number, co: number): void;
  poolGrad(z: number, y: number, dy: number, dz: number, oh: number, ow: number, co: number, relu: number): void;
  columnSums(dst: number, src: number, rows: number, cols: number, acc: number): void;
  reluGrad(dy: number, y: number, n: number): void;
  sgd(w: number, g: number, n: number, negLr: number): void;
}

const PAGE = 65536;

let compiled: object | null | undefined;

/** The kernels module, compiled once per process; null where wasm SIMD or shared memory is missing. */
function kernelsModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    if (wasm === undefined) throw new Error('no WebAssembly');
    const bytes = Uint8Array.from(atob(fastKernelsWasmBase64), (c) => c.charCodeAt(0));
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    compiled = new wasm.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether the fast path's kernels can run here (WebAssembly SIMD and shared memory). */
export function fastKernelsAvailable(): boolean {
  return kernelsModule() !== null;
}

/** A fixed-size shared memory of `bytes` bytes with the kernels instantiated over it. */
export function instantiateKernels(bytes: number): { memory: WasmMemory; kernels: FastKernels } {
  const module = kernelsModule();
  if (module === null || wasm === undefined) throw new UnsupportedError('the fast training path needs WebAssembly SIMD and SharedArrayBuffer');
  const pages = Math.ceil(bytes / PAGE);
  if (pages > 65536) throw new UnsupportedError(`the fast training path would need ${Math.ceil(bytes / 2 ** 20)} MiB, more than a wasm memory holds`);
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const kernels = new wasm.Instance(module, { env: { memory } }).exports as FastKernels;
  return { memory, kernels };
}

/** Attaches the kernels to an existing shared memory (another thread's). */
export function attachKernels(memory: WasmMemory): FastKernels {
  const module = kernelsModule();
  if (module === null || wasm === undefined) throw new UnsupportedError('the fast training path needs WebAssembly SIMD and SharedArrayBuffer');
  return new wasm.Instance(module, { env: { memory } }).exports as FastKernels;
}
