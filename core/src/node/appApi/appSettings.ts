import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { BackendPreference } from '../../ml/backend.js';
import { writeFileAtomic } from '../../storage/atomicFile.js';
import { Network } from '../../net/network.js';
import { BackendChoice, Limits, Roles } from './contract.js';

/** What the owner set in the app, kept in the node's data directory across restarts. */
export const AppSettings = z.strictObject({ v: z.literal(1), roles: Roles, limits: Limits, backend: BackendChoice, networks: z.array(Network).max(64).optional() });
export type AppSettings = z.infer<typeof AppSettings>;

/** The settings of a node the owner never configured. */
export const DEFAULT_APP_SETTINGS: AppSettings = { v: 1, roles: { client: true, worker: true }, limits: { threads: 1, gpu: true, idleOnly: false }, backend: 'auto' };

const FILE = 'app-settings.json';

/** Reads the settings; a missing or unreadable file gives the defaults (the owner can set them again). */
export async function loadAppSettings(dataDir: string): Promise<AppSettings> {
  try {
    const parsed = AppSettings.safeParse(JSON.parse(await readFile(join(dataDir, FILE), 'utf8')));
    return parsed.success ? parsed.data : DEFAULT_APP_SETTINGS;
  } catch {
    return DEFAULT_APP_SETTINGS;
  }
}

/** Writes the settings atomically. */
export async function saveAppSettings(dataDir: string, settings: AppSettings): Promise<void> {
  await writeFileAtomic(join(dataDir, FILE), `${JSON.stringify(AppSettings.parse(settings), null, 2)}\n`, { mode: 0o600 });
}

/**
 * The compute backend a node starts with for a pinned choice. A node computes in Node.js, so
 * WebGPU and WebGL (a browser engine's) start as 'auto', which falls back in the same order.
 */
export function startupBackend(choice: BackendChoice): BackendPreference {
  return choice === 'webgpu' || choice === 'webgl' ? 'auto' : choice;
}
