import { z } from 'zod';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { BlobRef } from '../../protocol/messages/common.js';
import { validateManifest, type Manifest } from '../../protocol/manifest.js';
import { buildJobTree, type JobTree } from '../../protocol/jobTree.js';
import { hashJson } from '../../util/hash.js';
import { BadInputError, CanopyError, ErrorCode } from '../../util/errors.js';
import { PeerMap } from './peerMap.js';

// Job submission and discovery (docs/PROTOCOL.md, "Job submission and discovery"): the
// submitter signs the manifest hash; the root host stores the signed submission as a blob
// and announces it on a well-known topic; members fetch it from the root host, check the
// signature and who announced it, and start their machines.

export { ANNOUNCE_TOPIC } from '../../spec/topics.js';

/** The stream protocol a submitter uses to hand a root host a signed job. */
export const SUBMIT_PROTOCOL = '/canopy/submit/1.0.0';

/** Largest submission accepted (a manifest of 100,000 clients fits). */
export const MAX_SUBMISSION_BYTES = 8 << 20;

/** A signed job: the manifest as written (defaults applied), who submitted it and their signature. */
export const Submission = z.strictObject({
  v: z.literal(1),
  manifest: z.record(z.string(), z.unknown()),
  submitter: z.string().min(1).max(128),
  /** base64 Ed25519 signature of `canopy/submit/1\n<manifest hash>` by the submitter's key. */
  signature: z.string().min(1).max(200),
});
export type Submission = z.infer<typeof Submission>;

/** What a root host announces about a job, again on every announce interval. */
export const Announce = z.strictObject({
  v: z.literal(1),
  type: z.literal('job'),
  rootId: z.string().min(1).max(128),
  name: z.string().min(1).max(64),
  /** The submission blob, served by the announcer. */
  submission: BlobRef,
  /** The announcer's peer id (must be the gossip signer and the manifest's root host). */
  host: z.string().min(1).max(128),
  round: z.number().int().min(0),
  processStage: z.number().int().min(0).max(3),
  final: BlobRef.nullable(),
  downloadable: z.boolean(),
  stopReason: z.string().max(2000).nullable(),
  metrics: z.strictObject({ loss: z.number(), accuracy: z.number(), samples: z.number() }).nullable(),
});
export type Announce = z.infer<typeof Announce>;

function signedBytes(manifestHash: string): Uint8Array {
  return new TextEncoder().encode(`canopy/submit/1\n${manifestHash}`);
}

/** Signs a validated manifest with the submitter's key. */
export async function signSubmission(manifest: Manifest, privateKey: PrivateKey, submitter: string): Promise<Submission> {
  const signature = await privateKey.sign(signedBytes(hashJson(manifest)));
  return { v: 1, manifest: manifest as unknown as Record<string, unknown>, submitter, signature: Buffer.from(signature).toString('base64') };
}

/** A submission whose signature and manifest checked out. */
export interface OpenedSubmission {
  readonly submission: Submission;
  readonly manifest: Manifest;
  readonly tree: JobTree;
  readonly peers: PeerMap;
}

/**
 * Decodes and verifies a submission: the schema, the manifest (every rule of the manifest
 * schema, defaults applied), the peers map, and the submitter's signature over the hash.
 */
export async function openSubmission(raw: unknown, source = 'submission'): Promise<OpenedSubmission> {
  const parsed = Submission.safeParse(raw);
  if (!parsed.success) throw new BadInputError(`${source} is not a Canopy job submission: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const submission = parsed.data;
  const manifest = validateManifest(submission.manifest, source);
  const tree = buildJobTree(manifest);
  const peers = new PeerMap(manifest, source);
  let ok = false;
  try {
    const key = peerIdFromString(submission.submitter).publicKey;
    if (key) ok = await key.verify(signedBytes(tree.manifestHash), Buffer.from(submission.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw new CanopyError(ErrorCode.ProtocolViolation, `${source}: the signature does not match submitter ${submission.submitter} and the manifest`);
  return { submission, manifest, tree, peers };
}
