import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

// TensorBoard event files, so a run folder opens in TensorBoard (`tensorboard --logdir <run>`)
// beside its rounds.jsonl. The format is TensorFlow's: a file of TFRecords, each record
// `uint64 length, uint32 masked crc32c(length), data, uint32 masked crc32c(data)` (little
// endian), each data an `Event` protocol buffer (tensorflow/core/util/event.proto): the first
// names the file version, the rest carry scalar summaries (`Summary.Value.simple_value`).
// Only the fields written here are encoded; no protobuf library is needed for five fields.

/** One scalar per tag at one step. */
export interface ScalarEvent {
  readonly step: number;
  /** Seconds since the epoch. */
  readonly wallTime: number;
  readonly values: Readonly<Record<string, number>>;
}

/** The file version TensorBoard expects in the first event. */
const FILE_VERSION = 'brain.Event:2';

/**
 * Appends events to one `events.out.tfevents.<time>.<host>` file in `dir`, synchronously
 * (a run that is killed keeps every round it wrote, as rounds.jsonl does).
 */
export class TensorBoardWriter {
  private fd: number | undefined;

  private constructor(
    /** The event file's path. */
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Creates `dir` and an event file in it, and writes the file-version event. */
  static open(dir: string, at: Date = new Date()): TensorBoardWriter {
    mkdirSync(dir, { recursive: true });
    const seconds = at.getTime() / 1000;
    const file = join(dir, `events.out.tfevents.${Math.floor(seconds)}.${hostname().replace(/[^\w.-]/g, '_') || 'canopy'}`);
    const w = new TensorBoardWriter(file, openSync(file, 'w'));
    w.write(encodeEvent({ wallTime: seconds, step: 0, fileVersion: FILE_VERSION }));
    return w;
  }

  /** Writes one event with a scalar per tag; non-finite values are left out (TensorBoard would plot them as gaps anyway). */
  scalars(e: ScalarEvent): void {
    const values = Object.entries(e.values).filter(([, v]) => Number.isFinite(v));
    if (values.length === 0) return;
    this.write(encodeEvent({ wallTime: e.wallTime, step: e.step, scalars: values }));
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(event: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`the event file ${this.file} is closed`);
    writeSync(this.fd, tfRecord(event));
  }
}

/** An `Event` message: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5. */
export function encodeEvent(e: { wallTime: number; step: number; fileVersion?: string; scalars?: readonly (readonly [string, number])[] }): Uint8Array {
  const out = new ProtoWriter();
  out.tag(1, 1).double(e.wallTime);
  out.tag(2, 0).varint(BigInt(e.step));
  if (e.fileVersion !== undefined) out.tag(3, 2).bytes(utf8(e.fileVersion));
  if (e.scalars) {
    // Summary { repeated Value value = 1 }, Value { string tag = 1; float simple_value = 2 }.
    const summary = new ProtoWriter();
    for (const [tag, v] of e.scalars) {
      const value = new ProtoWriter();
      value.tag(1, 2).bytes(utf8(tag));
      value.tag(2, 5).float(v);
      summary.tag(1, 2).bytes(value.finish());
    }
    out.tag(5, 2).bytes(summary.finish());
  }
  return out.finish();
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** TFRecord's CRC mask: rotate right by 15 and add a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Just enough of the protobuf wire format: varints, fixed 32/64-bit and length-delimited fields. */
class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  tag(field: number, wireType: 0 | 1 | 2 | 5): this {
    return this.varint(BigInt((field << 3) | wireType));
  }

  varint(v: bigint): this {
    // int64 as two's complement in 64 bits, as protobuf encodes negative steps.
    let x = BigInt.asUintN(64, v);
    const bytes: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      bytes.push(b);
    } while (x > 0n);
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }

  double(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(b);
    return this;
  }

  float(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.varint(BigInt(b.length));
    this.parts.push(b);
    return this;
  }

  finish(): Uint8Array {
    const n = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
