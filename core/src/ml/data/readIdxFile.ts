import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataFileError } from '../../util/index.js';
import { readDataFile } from './readDataFile.js';

const gunzipAsync = promisify(gunzip);

/**
 * Reads an IDX file's bytes, gunzipping them when they start with the gzip magic number
 * (whatever the file is called, since renamed downloads are common). Decompression runs on
 * libuv's thread pool, so several files decompress in parallel.
 */
export async function readIdxFile(path: string, opts: { hint?: string; signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const raw = await readDataFile(path, opts);
  if (!(raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b)) return raw;
  try {
    const out = await gunzipAsync(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new DataFileError(path, `is not a valid gzip file (${(err as Error).message}); it is truncated or corrupt, download it again`, {
      cause: err,
    });
  }
}
