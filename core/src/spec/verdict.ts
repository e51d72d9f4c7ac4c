// What a gossip topic validator answers (docs/PROTOCOL.md §4). REJECT penalises the
// forwarding peer in gossipsub's score: it is for messages no honest, correctly configured
// peer would send. IGNORE drops without penalty: for messages that were fine when sent but
// are stale, duplicated, or outside what this receiver can judge. The protocol's validator
// gives these for its messages; the transport acts on them for whatever it carries.

/** What a topic validator answers. */
export type ValidationResult = 'accept' | 'ignore' | 'reject';

/** A verdict: the result, a short reason (a metric label), and the decoded message when accepted. */
export type Verdict<T> =
  | { readonly result: 'accept'; readonly reason: string; readonly message: T }
  | { readonly result: 'ignore' | 'reject'; readonly reason: string; readonly message?: undefined };
