import { accumulateReference, divideReference } from './arithmetic.js';

/**
 * Storage for fixed-length float32 vectors plus the two kernels of a streaming weighted sum.
 * Vectors are named by integer handles so the wasm backend can pass addresses to its kernels.
 * Every backend computes exactly the arithmetic of arithmetic.ts, so they are interchangeable
 * bit for bit; they differ only in speed.
 */
export interface VectorBackend {
  readonly name: 'wasm' | 'js';
  /** Floats per vector. */
  readonly length: number;
  /** A vector of zeros. */
  alloc(): number;
  /** Returns a vector for reuse; its handle and view must not be used afterwards. */
  free(handle: number): void;
  /** The vector's contents, as a live view. */
  view(handle: number): Float32Array;
  /**
   * dst = src + w_0·x_0 + w_1·x_1 + … with the inputs in the order given (see
   * accumulateReference), in as few sweeps over dst as the backend manages. False when some
   * result is not finite. dst may be src; no x may be dst. With no inputs, dst = src.
   */
  accumulate(dst: number, src: number, xs: readonly number[], ws: readonly number[]): boolean;
  /** dst = src / d, the binary32 quotient. dst may be src. */
  divide(dst: number, src: number, d: number): void;
}

/** The portable backend: plain Float32Arrays and the reference kernels. */
export class JsVectorBackend implements VectorBackend {
  readonly name = 'js';
  private readonly vectors: (Float32Array | undefined)[] = [];
  private readonly freeHandles: number[] = [];

  constructor(readonly length: number) {}

  alloc(): number {
    const handle = this.freeHandles.pop();
    if (handle !== undefined) {
      const v = new Float32Array(this.length);
      this.vectors[handle] = v;
      return handle;
    }
    this.vectors.push(new Float32Array(this.length));
    return this.vectors.length - 1;
  }

  free(handle: number): void {
    // drop the array so a freed vector costs no memory
    this.vectors[handle] = undefined;
    this.freeHandles.push(handle);
  }

  view(handle: number): Float32Array {
    const v = this.vectors[handle];
    if (v === undefined) throw new RangeError(`vector ${handle} is not allocated`);
    return v;
  }

  accumulate(dst: number, src: number, xs: readonly number[], ws: readonly number[]): boolean {
    return accumulateReference(
      this.view(dst),
      this.view(src),
      xs.map((x) => this.view(x)),
      ws,
    );
  }

  divide(dst: number, src: number, d: number): void {
    divideReference(this.view(dst), this.view(src), d);
  }
}
