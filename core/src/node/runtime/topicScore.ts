import type { GossipSub } from '@libp2p/gossipsub';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';

// Gossipsub only counts invalid messages for topics that have score parameters. Job topics
// are quiet (a few messages per heartbeat), so every delivery-rate term is off: only
// rejected messages (P4) lower a peer's score, and enough of them graylist it.

interface Scored {
  score?: { params: { topics: Record<string, unknown> } };
}

/** Makes REJECT verdicts on a job topic count against the forwarding peer's score. */
export function scoreJobTopic(pubsub: GossipSub, topic: string): void {
  const params = (pubsub as unknown as Scored).score?.params;
  if (!params || params.topics[topic]) return;
  params.topics[topic] = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -20,
    invalidMessageDeliveriesDecay: 0.5,
  });
}
