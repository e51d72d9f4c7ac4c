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

interface KernelExports {
  axpy(dst: number, src: number, x: number, n: number, w: number): number;
  axpy4(dst: number, src: number, x0: number, x1: number, x2: number, x3: number, n: number, w0: number, w1: number, w2: number, w3: number): number;
  axpy8(
    dst: number,
    src: number,
    x0: number,
    x1: number,
    x2: number,
    x3: number,
    x4: number,
    x5: number,
    x6: number,
    x7: number,
    n: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    w4: number,
    w5: number,
    w6: number,
    w7: number,
  ): number;
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
    // Sweeps of 8, then 4, then single inputs; the first reads src, the rest update dst in
    // place. Every lane sees the same ops in the same order whatever the split.
    let from = this.offsets[src]!;
    let bad = 0;
    let j = 0;
    for (; j + 8 <= x.length; j += 8) {
      bad |= k.axpy8(d, from, x[j]!, x[j + 1]!, x[j + 2]!, x[j + 3]!, x[j + 4]!, x[j + 5]!, x[j + 6]!, x[j + 7]!, n, w[j]!, w[j + 1]!, w[j + 2]!, w[j + 3]!, w[j + 4]!, w[j + 5]!, w[j + 6]!, w[j + 7]!);
      from = d;
    }
    for (; j + 4 <= x.length; j += 4) {
      bad |= k.axpy4(d, from, x[j]!, x[j + 1]!, x[j + 2]!, x[j + 3]!, n, w[j]!, w[j + 1]!, w[j + 2]!, w[j + 3]!);
      from = d;
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
