import type { JobNode, JobTree } from '../jobTree.js';
import type { Message } from '../messages/index.js';

// Verdicts of the gossip topic validator. REJECT penalises the forwarding peer in
// gossipsub's score: it is for messages no honest, correctly configured peer would send.
// IGNORE drops without penalty: for messages that were fine when sent but are stale,
// duplicated, or outside what this receiver can judge.

/** What the topic validator answers. */
export type ValidationResult = 'accept' | 'ignore' | 'reject';

/** A verdict: the result, a short reason (a metric label), and the decoded message when accepted. */
export interface Verdict {
  readonly result: ValidationResult;
  readonly reason: string;
  readonly message?: Message;
}

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
