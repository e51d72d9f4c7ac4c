import { ParameterError } from '../util/errors.js';
import { hashJson, sha256Bytes, sha256Hex } from '../util/hash.js';
import { paramLayout, shapeSize } from './layout.js';
import type { ModelSpec } from '../spec/ml.js';

// Wire format of a parameter vector (all integers little-endian):
//
//   offset  size  field
//   0       4     magic "CNPY"
//   4       2     format version (1)
//   6       2     dtype (1 = float32)
//   8       4     header length H, including this prefix and padding
//   12      4     number of parameter tensors T
//   16      8     number of float32 values N (uint64)
//   24      32    sha256 of the model spec's canonical JSON (raw bytes)
//   56      ...   T shapes: rank (uint32), then rank dims (uint32 each)
//   ...     ...   zero padding to a multiple of 8, so the body is aligned for Float32Array
//   H       4N    the values
//   H+4N    32    sha256 of everything before it
//
// sha256 rather than crc32: the checksum is also what consensus and blob addressing trust, a
// peer can forge a crc32 but not a sha256, and @noble/hashes is already a dependency.

const MAGIC = 0x59504e43; // "CNPY" read as little-endian uint32
const VERSION = 1;
const DTYPE_FLOAT32 = 1;
const FIXED_HEADER = 56;
const CHECKSUM = 32;

/** What {@link decodeParams} found in an encoded parameter vector. */
export interface DecodedParams {
  /** hashJson of the model spec the parameters were made for. */
  readonly specHash: string;
  readonly shapes: readonly (readonly number[])[];
  readonly params: Float32Array;
}

/**
 * Serialises a parameter vector with a header naming its model (spec hash and tensor shapes)
 * and a sha256 checksum. Throws ParameterError if `params` does not fit `spec`'s layout.
 */
export function encodeParams(spec: ModelSpec, params: Float32Array): Uint8Array {
  const shapes = paramLayout(spec).map((p) => p.shape);
  const count = shapes.reduce((n, s) => n + shapeSize(s), 0);
  if (params.length !== count) {
    throw new ParameterError(`cannot encode ${params.length} parameters for a '${spec.kind}' model, which has ${count}`);
  }
  const shapeWords = shapes.reduce((n, s) => n + 1 + s.length, 0);
  const headerLength = align8(FIXED_HEADER + 4 * shapeWords);
  const out = new Uint8Array(headerLength + 4 * count + CHECKSUM);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, VERSION, true);
  view.setUint16(6, DTYPE_FLOAT32, true);
  view.setUint32(8, headerLength, true);
  view.setUint32(12, shapes.length, true);
  view.setBigUint64(16, BigInt(count), true);
  out.set(hexToBytes(hashJson(spec)), 24);
  let at = FIXED_HEADER;
  for (const shape of shapes) {
    view.setUint32(at, shape.length, true);
    at += 4;
    for (const d of shape) {
      view.setUint32(at, d, true);
      at += 4;
    }
  }
  writeFloats(out, headerLength, params);
  out.set(sha256Bytes(out.subarray(0, headerLength + 4 * count)), headerLength + 4 * count);
  return out;
}

/**
 * Parses and verifies an encoded parameter vector. With `expectedSpec`, also checks that it
 * was made for that model. The returned params view the input's memory when it is suitably
 * aligned (the usual case on little-endian machines), else a single copy of the body.
 */
export function decodeParams(bytes: Uint8Array, expectedSpec?: ModelSpec): DecodedParams {
  if (bytes.length < FIXED_HEADER + CHECKSUM) {
    throw new ParameterError(`parameter blob is ${bytes.length} bytes, too short to hold a header; it is truncated or not a parameter blob`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new ParameterError('not a Canopy parameter blob (bad magic number)');
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new ParameterError(`parameter blob has format version ${version}; this build reads version ${VERSION}`);
  const dtype = view.getUint16(6, true);
  if (dtype !== DTYPE_FLOAT32) throw new ParameterError(`parameter blob has dtype ${dtype}; only float32 (1) is supported`);
  const headerLength = view.getUint32(8, true);
  const tensors = view.getUint32(12, true);
  const count = Number(view.getBigUint64(16, true));
  const expectedLength = headerLength + 4 * count + CHECKSUM;
  if (headerLength < FIXED_HEADER || headerLength % 8 !== 0 || !Number.isSafeInteger(expectedLength)) {
    throw new ParameterError('parameter blob header is corrupt');
  }
  if (bytes.length !== expectedLength) {
    throw new ParameterError(
      `parameter blob is ${bytes.length} bytes but its header announces ${count} values (${expectedLength} bytes); it is truncated or padded`,
    );
  }
  const sum = sha256Hex(bytes.subarray(0, expectedLength - CHECKSUM));
  if (sum !== bytesToHex(bytes.subarray(expectedLength - CHECKSUM))) {
    throw new ParameterError('parameter blob failed its sha256 checksum; it is corrupt');
  }
  const specHash = bytesToHex(bytes.subarray(24, FIXED_HEADER));
  const shapes = readShapes(view, tensors, headerLength);
  if (shapes.reduce((n, s) => n + shapeSize(s), 0) !== count) {
    throw new ParameterError(`parameter blob's tensor shapes do not add up to its ${count} values`);
  }
  if (expectedSpec !== undefined) checkSpec(expectedSpec, specHash, shapes);
  return { specHash, shapes, params: readFloats(bytes, headerLength, count) };
}

/**
 * sha256 hex of a parameter vector's raw little-endian float32 bytes. Workers' aggregates are
 * compared by this hash, so equal vectors (bit for bit) always hash equal.
 */
export function paramsHash(params: Float32Array): string {
  if (littleEndian) return sha256Hex(params);
  const bytes = new Uint8Array(params.length * 4);
  writeFloats(bytes, 0, params);
  return sha256Hex(bytes);
}

function checkSpec(spec: ModelSpec, specHash: string, shapes: readonly (readonly number[])[]): void {
  if (specHash !== hashJson(spec)) {
    throw new ParameterError(`parameter blob was made for another model (spec hash ${specHash.slice(0, 12)}…), not this job's '${spec.kind}'`);
  }
  const layout = paramLayout(spec);
  const same = layout.length === shapes.length && layout.every((p, i) => p.shape.join() === shapes[i]!.join());
  if (!same) throw new ParameterError(`parameter blob's tensor shapes do not match the '${spec.kind}' model's layout`);
}

function readShapes(view: DataView, tensors: number, headerLength: number): number[][] {
  const shapes: number[][] = [];
  let at = FIXED_HEADER;
  for (let t = 0; t < tensors; t++) {
    if (at + 4 > headerLength) throw new ParameterError('parameter blob header is corrupt (shapes overrun it)');
    const rank = view.getUint32(at, true);
    at += 4;
    if (at + 4 * rank > headerLength) throw new ParameterError('parameter blob header is corrupt (shapes overrun it)');
    const shape: number[] = [];
    for (let d = 0; d < rank; d++, at += 4) shape.push(view.getUint32(at, true));
    shapes.push(shape);
  }
  return shapes;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function writeFloats(out: Uint8Array, offset: number, values: Float32Array): void {
  if (littleEndian) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < values.length; i++) view.setFloat32(offset + 4 * i, values[i]!, true);
}

function readFloats(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const start = bytes.byteOffset + offset;
  // A view needs 4-byte alignment; the header is padded so that this holds whenever the blob itself is aligned.
  if (littleEndian && start % 4 === 0) return new Float32Array(bytes.buffer, start, count);
  const out = new Float32Array(count);
  if (littleEndian) {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * count));
  } else {
    const view = new DataView(bytes.buffer, start);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
