import { readFile } from 'node:fs/promises';
import { DataFileError, throwIfAborted } from '../../util/index.js';

/**
 * Reads a whole data file, turning the usual failures into a {@link DataFileError} that
 * names the file and says what to do. `hint` is appended when the file does not exist.
 */
export async function readDataFile(path: string, opts: { hint?: string; signal?: AbortSignal } = {}): Promise<Uint8Array> {
  throwIfAborted(opts.signal, `reading ${path}`);
  try {
    const buf = await readFile(path, opts.signal ? { signal: opts.signal } : {});
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throwIfAborted(opts.signal, `reading ${path}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataFileError(path, `not found${opts.hint ? `; ${opts.hint}` : ''}`, { cause: err });
    if (code === 'EISDIR') throw new DataFileError(path, 'is a directory, expected a file', { cause: err });
    if (code === 'EACCES' || code === 'EPERM') throw new DataFileError(path, 'cannot be read: permission denied', { cause: err });
    throw new DataFileError(path, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
}
