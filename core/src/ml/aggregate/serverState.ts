import { BadInputError } from '../../util/errors.js';
import { firstNonFinite } from './arithmetic.js';

/** Aggregators that carry optimiser state from round to round. */
export type ServerOptimizerKind = 'fedavgm' | 'fedadam' | 'fedyogi' | 'fedadagrad';

/**
 * What a stateful server optimiser remembers between rounds, as it goes into checkpoints.
 * `vectors` are, by kind: fedavgm [velocity]; fedadam and fedyogi [m, v] (first and second
 * moment); fedadagrad [v]. `step` counts the server updates applied so far.
 */
export interface ServerState {
  readonly kind: ServerOptimizerKind;
  readonly step: number;
  readonly vectors: readonly Float32Array[];
}

/** How many vectors each kind keeps. */
export const serverStateVectors: Readonly<Record<ServerOptimizerKind, number>> = {
  fedavgm: 1,
  fedadam: 2,
  fedyogi: 2,
  fedadagrad: 1,
};

/** Whether `kind` names a stateful server optimiser. */
export function isServerOptimizerKind(kind: string): kind is ServerOptimizerKind {
  return Object.hasOwn(serverStateVectors, kind);
}

/**
 * Checks that `state` belongs to an optimiser of `kind` over vectors of `length` floats:
 * the right kind, vector count and lengths, a whole step count, and finite values.
 */
export function validateServerState(state: ServerState, kind: ServerOptimizerKind, length: number): void {
  if (state.kind !== kind) {
    throw new BadInputError(`server state is for ${state.kind} but the job aggregates with ${kind}; start without state or use a ${kind} checkpoint`);
  }
  if (!Number.isSafeInteger(state.step) || state.step < 0) {
    throw new BadInputError(`server state step must be a whole number ≥ 0, got ${state.step}`);
  }
  const want = serverStateVectors[kind];
  if (state.vectors.length !== want) {
    throw new BadInputError(`${kind} server state needs ${want} vector(s), got ${state.vectors.length}`);
  }
  state.vectors.forEach((v, i) => {
    if (!(v instanceof Float32Array) || v.length !== length) {
      throw new BadInputError(`${kind} server state vector ${i} must be a Float32Array of ${length} values (the model's size)`);
    }
    const bad = firstNonFinite(v);
    if (bad >= 0) throw new BadInputError(`${kind} server state vector ${i} holds a non-finite value at index ${bad}`);
  });
}

// Layout (little-endian): magic "CSS1", u8 kind index, 3 zero bytes, f64 step,
// u32 vector count, u32 vector length, then the vectors' float32 values, back to back.
const MAGIC = [0x43, 0x53, 0x53, 0x31];
const KINDS: readonly ServerOptimizerKind[] = ['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'];
const HEADER = 24;
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Serialises a server state to bytes, for checkpoints. {@link decodeServerState} reverses it. */
export function encodeServerState(state: ServerState): Uint8Array {
  const length = state.vectors[0]?.length ?? 0;
  const out = new Uint8Array(HEADER + state.vectors.length * length * 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, KINDS.indexOf(state.kind));
  view.setFloat64(8, state.step, true);
  view.setUint32(16, state.vectors.length, true);
  view.setUint32(20, length, true);
  let at = HEADER;
  for (const v of state.vectors) {
    if (v.length !== length) throw new BadInputError('server state vectors must all have the same length');
    writeFloats(view, at, v);
    at += v.length * 4;
  }
  return out;
}

/** Parses bytes from {@link encodeServerState}; throws BadInputError on anything malformed. */
export function decodeServerState(bytes: Uint8Array): ServerState {
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new BadInputError('server state checkpoint is not in Canopy server-state format (bad magic); was the file truncated or replaced?');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = KINDS[view.getUint8(4)];
  if (kind === undefined) throw new BadInputError(`server state checkpoint names unknown optimiser ${view.getUint8(4)}`);
  const step = view.getFloat64(8, true);
  const count = view.getUint32(16, true);
  const length = view.getUint32(20, true);
  if (bytes.length !== HEADER + count * length * 4) {
    throw new BadInputError(`server state checkpoint has ${bytes.length} bytes but its header promises ${HEADER + count * length * 4}`);
  }
  const vectors: Float32Array[] = [];
  for (let i = 0; i < count; i++) vectors.push(readFloats(view, HEADER + i * length * 4, length));
  const state: ServerState = { kind, step, vectors };
  validateServerState(state, kind, length);
  return state;
}

function writeFloats(view: DataView, at: number, v: Float32Array): void {
  if (littleEndian) {
    new Uint8Array(view.buffer, view.byteOffset + at, v.length * 4).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else {
    for (let i = 0; i < v.length; i++) view.setFloat32(at + i * 4, v[i]!, true);
  }
}

function readFloats(view: DataView, at: number, length: number): Float32Array {
  const out = new Float32Array(length);
  if (littleEndian) {
    new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset + at, length * 4));
  } else {
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(at + i * 4, true);
  }
  return out;
}
