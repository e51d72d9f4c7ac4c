import type { JobNode, JobTree } from '../jobTree.js';
import type { Message } from '../messages/index.js';
import type { Verdict as TopicVerdict } from '../../spec/verdict.js';

// The protocol's verdicts on its messages: the spec layer's topic verdict (what REJECT and
// IGNORE mean is said there), carrying a decoded Message when accepted.

export type { ValidationResult } from '../../spec/verdict.js';

/** The verdict of {@link validateMessage} on one message. */
export type Verdict = TopicVerdict<Message>;

/** What the receiver knows of a job, for stale and duplicate checks. */
export interface ReceiverView {
  /** The job's round as this receiver knows it (0 before training). */
  readonly round: number;
  /** Highest host `state` seq this receiver accepted for the job (-1 for none). */
  readonly hostSeq: number;
}

/** Everything a validator may consult. */
export interface ValidationContext {
  /** The peer id that signed the gossip message (the libp2p layer checked the signature). */
  readonly from: string;
  /** The topic the message arrived on. */
  readonly topic: string;
  /** The job trees this peer takes part in, by root id. */
  readonly trees: ReadonlyMap<string, JobTree>;
  /** The receiver's view of a job, if it takes part in it; without one, stale checks are skipped. */
  readonly view?: (job: string) => ReceiverView | undefined;
}

/** The tree and job a message passed the envelope checks for. */
export interface Checked {
  readonly tree: JobTree;
  readonly node: JobNode;
}

export const reject = (reason: string): Verdict => ({ result: 'reject', reason });
export const ignore = (reason: string): Verdict => ({ result: 'ignore', reason });
