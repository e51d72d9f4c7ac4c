import { GossipChannel } from '../../net/gossipChannel.js';
import type { CanopyLibp2p } from '../../net/createNode.js';
import { jobTopic } from '../../protocol/jobTree.js';
import type { StatePayload } from '../../protocol/messages/index.js';
import { validateMessage } from '../../protocol/validate/index.js';
import type { Log } from '../../util/log.js';
import { AbortedError, CanopyError, ErrorCode } from '../../util/errors.js';
import { AnnounceBook, type Heard, type WaitOptions } from './announceBook.js';
import { openAnnounceChannel } from './announcer.js';
import type { BlobPlane } from './blobPlane.js';
import { MAX_SUBMISSION_BYTES, openSubmission, type OpenedSubmission } from './submission.js';

/** The latest snapshot a job's host published, as an observer saw it. */
export interface ObservedState {
  readonly job: string;
  readonly round: number;
  readonly seq: number;
  readonly at: number;
  readonly payload: StatePayload;
}

/**
 * Watches jobs from outside, as `canopy job status|watch|model` and `canopy local` do: finds
 * a job by its root id or name on the announce topic, fetches its signed submission from
 * the root host, and follows every job's host snapshots on the job topics (validated like
 * any member validates them). An observer publishes nothing.
 */
export class JobObserver {
  private readonly book = new AnnounceBook();
  private readonly channels: GossipChannel<unknown>[] = [];
  // When each job's announcing host (key `rootId host`) and each followed job's root host
  // was last heard from: every accepted announcement or root snapshot counts, even one
  // older than what the book keeps, since it proves the host was alive to send it.
  private readonly heardAt = new Map<string, number>();
  readonly states = new Map<string, ObservedState>();

  constructor(
    private readonly libp2p: CanopyLibp2p,
    private readonly blobs: BlobPlane,
    private readonly log: Log,
  ) {
    this.channels.push(
      openAnnounceChannel({
        libp2p,
        onAnnounce: (a, from) => {
          this.heardAt.set(`${a.rootId} ${from}`, Date.now());
          if (!this.book.add(a, from)) this.log.debug({ rootId: a.rootId, round: a.round, processStage: a.processStage }, 'older announcement arrived late; kept the newer one');
        },
      }) as GossipChannel<unknown>,
    );
  }

  /** The furthest announcement heard of a job, by root id or name. */
  latest(query: string): Heard | undefined {
    return this.book.latest(query);
  }

  /**
   * When this observer last heard from a job's root host (ms since epoch): its last
   * announcement of the job or, for a followed job, its last snapshot of the root job.
   * Undefined before anything came from it.
   */
  rootHostHeardAt(rootId: string, rootHost: string): number | undefined {
    return this.heardAt.get(`${rootId} ${rootHost}`);
  }

  /**
   * Waits for an announcement matching `query` (a root id or a job name), and fetches and
   * opens its submission. With `want`, waits a little longer for an announcement that
   * satisfies it (see {@link WaitOptions}).
   */
  async find(query: string, opts: WaitOptions = {}): Promise<Heard & { opened: OpenedSubmission }> {
    const { signal } = opts;
    const found = await this.book.wait(query, opts);
    if (!(await this.blobs.fetch(found.announce.submission, [found.from], { maxBytes: MAX_SUBMISSION_BYTES, ...(signal ? { signal } : {}) }))) {
      if (signal?.aborted) throw new AbortedError(`fetching the submission of ${query}`);
      const at = this.heardAt.get(`${found.announce.rootId} ${found.from}`);
      const ago = at === undefined ? '' : ` (its last announcement came ${Math.round((Date.now() - at) / 1000)} s ago)`;
      throw new CanopyError(ErrorCode.Network, `could not fetch the submission of job ${query} from its root host ${found.from}${ago}: it may have stopped, or be unreachable from this peer`);
    }
    const opened = await openSubmission(await this.blobs.getJson(found.announce.submission.hash), `job ${query}`);
    return { ...found, opened };
  }

  /** Follows every job of the tree; `onState` sees each newer host snapshot. */
  follow(opened: OpenedSubmission, onState: (s: ObservedState) => void = () => undefined): void {
    const { tree, peers } = opened;
    const trees = new Map([[tree.rootId, tree]]);
    for (const job of tree.jobs.keys()) {
      const topic = jobTopic(tree.rootId, job);
      const ch = new GossipChannel({
        pubsub: this.libp2p.services.pubsub,
        topic,
        validate: (from, data) => validateMessage(data, { from: peers.memberOf(from), topic, trees }),
        onMessage: (msg, from) => {
          if (msg.type !== 'state') return;
          if (msg.job === tree.root) this.heardAt.set(`${tree.rootId} ${from}`, Date.now());
          const prev = this.states.get(msg.job);
          if (prev && (prev.seq >= msg.seq || prev.round > msg.round)) return;
          const s: ObservedState = { job: msg.job, round: msg.round, seq: msg.seq, at: Date.now(), payload: msg.payload };
          this.states.set(msg.job, s);
          onState(s);
        },
      });
      ch.start();
      this.channels.push(ch as GossipChannel<unknown>);
    }
    this.log.debug({ rootId: tree.rootId, jobs: tree.jobs.size }, 'following job');
  }

  stop(): void {
    for (const ch of this.channels) ch.stop();
    this.channels.length = 0;
  }
}
