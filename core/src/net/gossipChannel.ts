import './polyfill.js';
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { CanopyError, ErrorCode, throwIfAborted } from '../util/errors.js';
import type { Verdict } from '../spec/verdict.js';

/** Gossipsub drops messages over 4 MiB silently; Canopy refuses to send anything near that. */
export const MAX_GOSSIP_BYTES = 1 << 20;


/** Decodes and checks one message from `from` (a peer id string). Must not throw. */
export type GossipValidator<T> = (from: string, data: Uint8Array) => Verdict<T> | Promise<Verdict<T>>;

/** Options of {@link GossipChannel}. */
export interface GossipChannelInit<T> {
  readonly pubsub: GossipSub;
  readonly topic: string;
  readonly validate: GossipValidator<T>;
  /** Called for each accepted message, one at a time, in arrival order. */
  readonly onMessage: (value: T, from: string) => void | Promise<void>;
  /** Accepted messages waiting for `onMessage`; beyond this the oldest are dropped. */
  readonly maxQueue?: number;
  /** Called when a message is ignored or rejected, for logs and metrics. */
  readonly onVerdict?: (verdict: 'ignore' | 'reject', reason: string, from: string) => void;
}

/**
 * One job's control-plane channel: a gossipsub topic whose messages are validated before
 * gossipsub forwards them (rejections feed peer scoring), then handed to the consumer
 * through a bounded queue so a slow consumer cannot grow memory without limit. Dropping the
 * oldest entries is safe because hosts publish full state snapshots that supersede them.
 */
export class GossipChannel<T> {
  private readonly accepted = new WeakMap<Uint8Array, T>();
  private readonly queue: Array<{ value: T; from: string }> = [];
  private draining = false;
  private started = false;
  /** Messages dropped because the queue was full. */
  dropped = 0;

  constructor(private readonly init: GossipChannelInit<T>) {}

  /** Subscribes and installs the validator. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { pubsub, topic } = this.init;
    pubsub.topicValidators.set(topic, this.validateMessage);
    pubsub.addEventListener('message', this.onGossip);
    pubsub.subscribe(topic);
  }

  /** Unsubscribes and removes the validator. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    const { pubsub, topic } = this.init;
    pubsub.removeEventListener('message', this.onGossip);
    pubsub.topicValidators.delete(topic);
    pubsub.unsubscribe(topic);
    this.queue.length = 0;
  }

  /** Peers known to be subscribed to this topic. */
  subscribers(): PeerId[] {
    return this.init.pubsub.getSubscribers(this.init.topic);
  }

  /**
   * Publishes, waiting for at least one subscriber (peers may still be joining) instead of
   * losing the message. Resolves with the number of peers it was sent to; after `timeoutMs`
   * without subscribers it resolves with 0 rather than throwing, since state snapshots are
   * re-published and a later one recovers the loss.
   */
  async publish(data: Uint8Array, { signal, timeoutMs = 10_000 }: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<number> {
    if (data.byteLength > MAX_GOSSIP_BYTES) {
      throw new CanopyError(ErrorCode.BadInput, `gossip message of ${data.byteLength} bytes exceeds ${MAX_GOSSIP_BYTES}; send large payloads as blobs`);
    }
    const deadline = Date.now() + timeoutMs;
    let wait = 50;
    for (;;) {
      throwIfAborted(signal, 'publish');
      if (this.subscribers().length > 0) {
        const { recipients } = await this.init.pubsub.publish(this.init.topic, data);
        if (recipients.length > 0) return recipients.length;
      }
      if (Date.now() >= deadline) return 0;
      await sleep(Math.min(wait, deadline - Date.now()), signal);
      wait = Math.min(wait * 2, 1000);
    }
  }

  private readonly validateMessage = async (peer: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    // Strict signing is on, so an unsigned message cannot be attributed: REJECT.
    if (msg.type !== 'signed') return this.verdict('reject', 'unsigned message', peer.toString());
    const from = msg.from.toString();
    let v: Verdict<T>;
    try {
      v = await this.init.validate(from, msg.data);
    } catch (err) {
      // A validator bug must not penalise an honest peer: IGNORE.
      return this.verdict('ignore', `validator failed: ${(err as Error).message}`, from);
    }
    if (v.result === 'accept') {
      this.accepted.set(msg.data, v.message);
      return TopicValidatorResult.Accept;
    }
    return this.verdict(v.result, v.reason, from);
  };

  private verdict(result: 'ignore' | 'reject', reason: string, from: string): TopicValidatorResult {
    this.init.onVerdict?.(result, reason, from);
    return result === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
  }

  private readonly onGossip = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail;
    if (msg.topic !== this.init.topic || msg.type !== 'signed') return;
    const value = this.accepted.get(msg.data);
    if (value === undefined) return;
    this.accepted.delete(msg.data);
    const max = this.init.maxQueue ?? 1024;
    if (this.queue.length >= max) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ value, from: msg.from.toString() });
    void this.drain();
  };

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        try {
          await this.init.onMessage(next.value, next.from);
        } catch {
          // The consumer owns its errors; one bad message must not stop the channel.
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
