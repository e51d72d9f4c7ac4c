// The transport: libp2p nodes, gossip channels, blob exchange and the node's identity key.
export { createCanopyNode, reserveRelaySlot, DEFAULT_LISTEN, type CanopyLibp2p, type CanopyServices, type CanopyNodeInit } from './createNode.js';
export { GossipChannel, MAX_GOSSIP_BYTES, type GossipValidator, type GossipChannelInit } from './gossipChannel.js';
export {
  serveBlobs,
  fetchBlob,
  BlobFetchError,
  BLOB_PROTOCOL,
  BLOB_CHUNK_BYTES,
  BLOB_WINDOW_BYTES,
  type BlobAuthorizer,
  type ServeBlobsOptions,
  type FetchBlobOptions,
} from './blobExchange.js';
export { loadOrCreateIdentity, IDENTITY_FILE } from './identity.js';
export { plannedAddresses, type PlannedAddress } from './plannedAddresses.js';
export { Network, Reachability, NetworkFileError, parseNetwork, encodeInviteLink, peerAddressProblem, INVITE_PREFIX } from './network.js';
export { joinNetwork, reachabilityOf, peerOfAddress, NetworkJoinError, JOIN_DIAL_TIMEOUT_MS } from './join.js';
export { DEFAULT_PORT, defaultListen } from './listen.js';
export { relayGater, hasPublicAddress, STRANGER_LIMIT, type RelayPolicy } from './relayPolicy.js';
