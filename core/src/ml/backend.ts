import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '../util/errors.js';
import { registerWasmConvGradients } from './wasmConvGrad.js';

/** A training backend preference; 'auto' takes the fastest one that works here. */
export type BackendPreference = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** The backend tfjs runs on. `reason` says why faster preferred backends were skipped. */
export interface BackendInfo {
  readonly name: string;
  readonly simd: boolean;
  readonly threads: number;
  readonly reason?: string;
}

type Candidate = Exclude<BackendPreference, 'auto'>;

const autoOrder: readonly Candidate[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

// One probe per preference, so concurrent and repeated calls share the work.
const probes = new Map<BackendPreference, Promise<BackendInfo>>();

/**
 * Selects and initialises the tfjs backend. 'auto' tries `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` (both optional: used only if installed), then wasm with SIMD, then
 * the plain cpu backend. An explicit preference falls back the same way from its position in
 * that order. Idempotent; calling again with another preference switches backend.
 */
export async function initBackend(pref: BackendPreference = 'auto'): Promise<BackendInfo> {
  let probe = probes.get(pref);
  if (probe === undefined) {
    probe = select(pref);
    probes.set(pref, probe);
    probe.catch(() => probes.delete(pref));
  }
  const info = await probe;
  // Another caller may have switched backend since this preference was probed.
  if (tf.getBackend() !== info.name) await tf.setBackend(info.name);
  return info;
}

async function select(pref: BackendPreference): Promise<BackendInfo> {
  const order = pref === 'auto' ? autoOrder : autoOrder.slice(autoOrder.indexOf(pref));
  const skipped: string[] = [];
  for (const candidate of order) {
    try {
      const info = await tryBackend(candidate);
      return skipped.length > 0 ? { ...info, reason: skipped.join('; ') } : info;
    } catch (err) {
      skipped.push(`${candidate}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new UnsupportedError(`no tfjs backend could start (${skipped.join('; ')})`);
}

async function tryBackend(candidate: Candidate): Promise<BackendInfo> {
  switch (candidate) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return tryNative(candidate);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      await activate('cpu');
      // The cpu backend greets Node users with an advert for tfjs-node; our reason says it better.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return { name: 'cpu', simd: false, threads: 1 };
  }
}

async function tryNative(pkg: 'tfjs-node-gpu' | 'tfjs-node'): Promise<BackendInfo> {
  // A variable specifier keeps TypeScript and bundlers from requiring these optional packages.
  const specifier = `@tensorflow/${pkg}`;
  try {
    await import(specifier);
  } catch {
    throw new Error(`${specifier} is not installed`);
  }
  // Both packages register their backend under the name 'tensorflow'.
  await activate('tensorflow');
  return { name: 'tensorflow', simd: true, threads: 0 };
}

async function tryWasm(): Promise<BackendInfo> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = await wasmDir();
  if (dir !== undefined) wasm.setWasmPaths(dir);
  registerWasmConvGradients();
  await activate('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { name: 'wasm', simd: simd === true, threads: wasm.getThreadsCount() };
}

/**
 * The directory of the .wasm binaries, in Node. Resolved through the module system so that it
 * works from src (vitest), from dist and from any workspace layout. Browsers load them from
 * next to the bundle instead.
 */
async function wasmDir(): Promise<string | undefined> {
  if (typeof process === 'undefined' || process.versions?.node === undefined) return undefined;
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return join(dirname(pkg), 'dist') + '/';
}

async function activate(name: string): Promise<void> {
  if (tf.findBackendFactory(name) === undefined) throw new Error(`backend '${name}' is not registered`);
  // setBackend resolves false (rather than throwing) when the backend fails to initialise.
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
}
