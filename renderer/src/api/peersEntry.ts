// The manifest's peers: entry for this node, written by core as `canopy id` writes it.
export { formatPeersEntry, isDialableElsewhere } from '@canopy/core/app/contract';
