import './polyfill.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { writeFileAtomic } from '../storage/atomicFile.js';
import { CanopyError, ErrorCode } from '../util/errors.js';

/** Name of the key file inside a node's data directory. */
export const IDENTITY_FILE = 'peer-key';

/**
 * Loads the node's persistent libp2p identity from `<dataDir>/peer-key`, creating an
 * Ed25519 key there (mode 0600) on first run, so a node keeps its peer id across restarts.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<{ privateKey: PrivateKey; peerId: string; created: boolean }> {
  const file = join(dataDir, IDENTITY_FILE);
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes) {
    try {
      const privateKey = privateKeyFromProtobuf(bytes);
      return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false };
    } catch (cause) {
      throw new CanopyError(ErrorCode.BadInput, `${file} is not a valid libp2p private key; move it away to create a new identity (the node's peer id will change)`, { cause });
    }
  }
  const privateKey = await generateKeyPair('Ed25519');
  await writeFileAtomic(file, privateKeyToProtobuf(privateKey), { mode: 0o600 });
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true };
}
