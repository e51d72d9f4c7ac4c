import { mkdir, rename } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CorruptFileError } from '../util/errors.js';

/** What a store reports when a file fails its check on read (the node logs it). */
export interface CorruptFileReport {
  /** The file as it was stored. */
  readonly path: string;
  /** Where it was moved; null when even the move failed (then it is left, and still never used). */
  readonly quarantinedTo: string | null;
  readonly problem: string;
}

/** Called once per corrupt file found. */
export type OnCorruptFile = (report: CorruptFileReport) => void;

/**
 * Moves a corrupt file out of the way, into `<dataDir>/quarantine/`, so it is never read or
 * served again but stays on disk for a person to look at, reports it, and returns the error
 * the reader throws. The new name keeps the old path (slashes as `_`) after a timestamp.
 */
export async function quarantineFile(dataDir: string, path: string, problem: string, onCorrupt?: OnCorruptFile): Promise<CorruptFileError> {
  const dir = join(dataDir, 'quarantine');
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${relative(dataDir, path).split(sep).join('_')}`;
  let quarantinedTo: string | null = join(dir, name);
  try {
    await mkdir(dir, { recursive: true });
    await rename(path, quarantinedTo);
  } catch {
    quarantinedTo = null;
  }
  onCorrupt?.({ path, quarantinedTo, problem });
  return new CorruptFileError(path, quarantinedTo, problem);
}
