// The Canopy runtime: the imperative shell that runs the protocol's machines between real
// peers over libp2p (docs/PROTOCOL.md §8 and "Job submission and discovery").

export { CanopyNode, type CanopyNodeOptions, type NodeStats, type NodeJobStatus } from './canopyNode.js';
export { TypedEmitter, type CanopyNodeEvents } from './events.js';
export { JobRunner, checkpointKey, type TrafficCounters, type RuntimeRecord } from './jobRunner.js';
export { PeerMap } from './peerMap.js';
export { ANNOUNCE_TOPIC, SUBMIT_PROTOCOL, Announce, Submission, signSubmission, openSubmission, type OpenedSubmission } from './submission.js';
export { submitJob, type SubmitReply } from './submitProtocol.js';
export { openAnnounceChannel } from './announcer.js';
export { BlobPlane } from './blobPlane.js';
export { startMemoryCluster, type MemoryCluster, type MemoryClusterInit } from './memoryCluster.js';
export { JobObserver, type ObservedState } from './observer.js';
export { AnnounceBook, isAtLeastAsFar, isTerminal, type Heard, type WaitOptions } from './announceBook.js';
// Re-exported so the CLI parses addresses with the same multiaddr library libp2p uses.
export { multiaddr } from '@multiformats/multiaddr';
export { planLocalCluster, type LocalClusterPlan, type LocalNodePlan } from './localCluster.js';
export { scoreJobTopic } from './topicScore.js';
export { loadConsentPolicy, decideConsent, ConsentPolicy, ConsentLedger, type ConsentRequest, type ConsentReceipt, type OwnerDecision, type ConsentAsker, type ConsentMode } from '../consent.js';
// Where a node listens unless told otherwise (canopy node and the desktop app).
export { DEFAULT_PORT, defaultListen } from '../../net/listen.js';
