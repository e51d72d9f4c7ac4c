import { UnsupportedError } from '../../util/errors.js';
import { kernelsWasmBase64 } from './kernelsWasm.js';
import type { VectorBackend } from './vectorBackend.js';

// The project's lib has no WebAssembly typings (no DOM lib), so the few parts used are typed here.
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

// A batch kernel axpyK takes dst, src, the K input addresses, n, then the K weights.
type BatchKernel = (dst: number, src: number, ...inputsThenLengthThenWeights: number[]) => number;

interface KernelExports {
  axpy(dst: number, src: number, x: number, n: number, w: number): number;
  axpy4: BatchKernel;
  axpy8: BatchKernel;
  axpy16: BatchKernel;
  divide(dst: number, src: number, n: number, d: number): void;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
// Cache-line aligned vectors: no vector shares a line with another, and SIMD loads never split.
const ALIGN = 64;

let compiled: object | null | undefined;

/** The kernels module, compiled once per process; null where wasm SIMD or shared memory is missing. */
function kernelsModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    if (wasm === undefined) throw new Error('no WebAssembly');
    const bytes = Uint8Array.from(atob(kernelsWasmBase64), (c) => c.charCodeAt(0));
    // A tiny probe: shared memory needs SharedArrayBuffer (absent in non-isolated browser pages).
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    compiled = new wasm.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether the wasm SIMD backend can run here. */
export function wasmBackendAvailable(): boolean {
  return kernelsModule() !== null;
}

/**
 * Vectors in one shared WebAssembly memory, combined by the SIMD kernels of kernels.wat.
 * Views handed out stay valid as the memory grows, because a shared memory's buffer is never
 * detached. The memory is released when the backend is garbage-collected.
 */
export class WasmVectorBackend implements VectorBackend {
  readonly name = 'wasm';
  private readonly memory: WasmMemory;
  private readonly kernels: KernelExports;
  private readonly stride: number;
  private readonly offsets: number[] = [];
  private readonly views: (Float32Array | undefined)[] = [];
  private readonly freeHandles: number[] = [];
  private top = 0;

  /** Throws UnsupportedError where wasm SIMD or shared memory is unavailable. */
  constructor(readonly length: number) {
    const module = kernelsModule();
    if (module === null || wasm === undefined) throw new UnsupportedError('the wasm SIMD aggregation backend needs WebAssembly SIMD and SharedArrayBuffer');
    this.stride = Math.ceil((length * 4) / ALIGN) * ALIGN || ALIGN;
    if (this.stride * 3 > MAX_PAGES * PAGE) {
      throw new UnsupportedError(`a vector of ${length} floats is too large for a 4 GiB wasm memory`);
    }
    this.memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.kernels = new wasm.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
  }

  alloc(): number {
    const reused = this.freeHandles.pop();
    if (reused !== undefined) {
      const view = new Float32Array(this.memory.buffer, this.offsets[reused]!, this.length);
      // a reused vector holds someone else's numbers; fresh memory is already zero
      view.fill(0);
      this.views[reused] = view;
      return reused;
    }
    const offset = this.top;
    const end = offset + this.stride;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (cause) {
        throw new UnsupportedError(`out of wasm memory holding ${this.offsets.length + 1} vectors of ${this.length} floats (${String(cause)})`);
      }
    }
    this.top = end;
    this.offsets.push(offset);
    this.views.push(new Float32Array(this.memory.buffer, offset, this.length));
    return this.offsets.length - 1;
  }

  free(handle: number): void {
    this.views[handle] = undefined;
    this.freeHandles.push(handle);
  }

  view(handle: number): Float32Array {
    const v = this.views[handle];
    if (v === undefined) throw new RangeError(`vector ${handle} is not allocated`);
    return v;
  }

  accumulate(dst: number, src: number, xs: readonly number[], ws: readonly number[]): boolean {
    const k = this.kernels;
    const n = this.length;
    const d = this.offsets[dst]!;
    const x = xs.map((h) => this.offsets[h]!);
    const w = ws.map(Math.fround);
    if (x.length === 0) {
      if (dst !== src) this.view(dst).set(this.view(src));
      return true;
    }
    // Sweeps of 16, 8 and 4 inputs, then single ones; the first reads src, the rest update dst
    // in place. Every lane sees the same ops in the same order whatever the split.
    let from = this.offsets[src]!;
    let bad = 0;
    let j = 0;
    for (const [size, kernel] of [
      [16, k.axpy16],
      [8, k.axpy8],
      [4, k.axpy4],
    ] as const) {
      for (; j + size <= x.length; j += size) {
        bad |= kernel(d, from, ...x.slice(j, j + size), n, ...w.slice(j, j + size));
        from = d;
      }
    }
    for (; j < x.length; j++) {
      bad |= k.axpy(d, from, x[j]!, n, w[j]!);
      from = d;
    }
    return bad === 0;
  }

  divide(dst: number, src: number, d: number): void {
    this.kernels.divide(this.offsets[dst]!, this.offsets[src]!, this.length, Math.fround(d));
  }
}

/** The fastest backend available for vectors of `length` floats. */
export function chooseBackendName(length: number): 'wasm' | 'js' {
  // three vectors (two accumulators and one input) is the least a streaming sum needs
  return wasmBackendAvailable() && Math.ceil((length * 4) / ALIGN) * ALIGN * 3 <= MAX_PAGES * PAGE ? 'wasm' : 'js';
}
