import type { DatasetSpec } from '../../spec/ml.js';
import type { JobTree } from '../../protocol/jobTree.js';
import type { BlobRef } from '../../protocol/messages/common.js';
import type { MemberId } from '../../protocol/manifest.js';
import type { Log } from '../../util/log.js';
import type { ConsentLedger, ConsentMode } from '../consent.js';
import type { BlobPlane } from './blobPlane.js';
import type { ComputeBackend } from '../../compute/computeBackend.js';
import type { CanopyNodeEvents, TypedEmitter } from './events.js';
import type { PeerMap } from './peerMap.js';

/** Everything an effect handler may use: one job's view of the node. */
export interface EffectEnv {
  readonly tree: JobTree;
  readonly peers: PeerMap;
  readonly me: MemberId;
  /** The submitter's peer id (for consent requests). */
  readonly submitter: string;
  readonly blobs: BlobPlane;
  readonly compute: ComputeBackend;
  readonly consent: ConsentMode;
  readonly ledger: ConsentLedger;
  readonly log: Log;
  readonly events: TypedEmitter<CanopyNodeEvents>;
  /** A dataset the owner pointed this node at, used instead of the manifest's data. */
  readonly localDataset?: DatasetSpec;
  /** Datasets the owner chose in the consent dialog instead of the download, by job. */
  readonly ownerDatasets: Map<string, DatasetSpec>;
  /** The distributor's index a client of `job` was offered, if any yet (read from its machine). */
  readonly datasetIndexOf: (job: string) => BlobRef | null;
  /** Largest dataset chunk this node downloads. */
  readonly maxDataBytes: number;
  readonly signal: AbortSignal;
}

/** Largest JSON blob (manifest, inputs list, dataset index) a node downloads. */
export const MAX_JSON_BLOB_BYTES = 16 << 20;
