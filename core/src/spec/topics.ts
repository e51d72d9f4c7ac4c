// Gossip topic names (docs/PROTOCOL.md §2 and "Job submission and discovery"). The version
// in every name is the protocol's: a peer that speaks another version never meets this one.

/** The protocol version carried in topic names and checked by the envelope rules. */
export const PROTOCOL_VERSION = 1;

/** The gossip topic of a job: `canopy/1/<rootJobId>/<jobName>`. */
export function jobTopic(rootId: string, job: string): string {
  return `canopy/${PROTOCOL_VERSION}/${rootId}/${job}`;
}

/** The well-known gossip topic on which root hosts announce their jobs. */
export const ANNOUNCE_TOPIC = `canopy/${PROTOCOL_VERSION}/announce`;
