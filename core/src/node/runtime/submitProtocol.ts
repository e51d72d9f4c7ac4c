import { z } from 'zod';
import { lpStream } from '@libp2p/utils';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { CanopyLibp2p } from '../../net/createNode.js';
import { CanopyError, ErrorCode } from '../../util/errors.js';
import { MAX_SUBMISSION_BYTES, SUBMIT_PROTOCOL, type Submission } from './submission.js';

/** The root host's answer to a submission. */
export const SubmitReply = z.union([
  z.strictObject({ ok: z.literal(true), rootId: z.string().min(1).max(128), name: z.string().min(1).max(64), resubmitted: z.boolean() }),
  z.strictObject({ ok: z.literal(false), error: z.string().max(4000) }),
]);
export type SubmitReply = z.infer<typeof SubmitReply>;

/** Serves {@link SUBMIT_PROTOCOL}: one JSON submission in, one JSON reply out. */
export async function serveSubmissions(libp2p: CanopyLibp2p, accept: (raw: unknown, from: PeerId) => Promise<SubmitReply>): Promise<void> {
  await libp2p.handle(
    SUBMIT_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const lp = lpStream(stream, { maxDataLength: MAX_SUBMISSION_BYTES });
      let reply: SubmitReply;
      try {
        const frame = await lp.read({ signal: AbortSignal.timeout(30_000) });
        let raw: unknown;
        try {
          raw = JSON.parse(new TextDecoder().decode(frame.subarray()));
        } catch {
          raw = undefined;
        }
        reply = raw === undefined ? { ok: false, error: 'the submission is not JSON' } : await accept(raw, connection.remotePeer);
      } catch (err) {
        reply = { ok: false, error: (err as Error).message };
      }
      try {
        await lp.write(new TextEncoder().encode(JSON.stringify(reply)));
        await stream.close();
      } catch (err) {
        stream.abort(err as Error);
      }
    },
    // A submitter outside the job reaches a root host at home through a relay, under its
    // default limits; a submission fits in them.
    { maxInboundStreams: 8, runOnLimitedConnection: true },
  );
}

/** Sends a signed submission to a root host and returns its reply; a refusal throws with the host's reason. */
export async function submitJob(libp2p: CanopyLibp2p, to: Multiaddr | PeerId, submission: Submission, { signal }: { signal?: AbortSignal } = {}): Promise<Extract<SubmitReply, { ok: true }>> {
  const stream = await libp2p.dialProtocol(to, SUBMIT_PROTOCOL, { signal: signal ?? AbortSignal.timeout(30_000), runOnLimitedConnection: true });
  const lp = lpStream(stream, { maxDataLength: MAX_SUBMISSION_BYTES });
  await lp.write(new TextEncoder().encode(JSON.stringify(submission)));
  const bytes = (await lp.read({ signal: signal ?? AbortSignal.timeout(60_000) })).subarray();
  await stream.close().catch(() => undefined);
  let parsed: ReturnType<typeof SubmitReply.safeParse>;
  try {
    parsed = SubmitReply.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    throw new CanopyError(ErrorCode.BadInput, 'the root host answered the submission with something that is not JSON');
  }
  if (!parsed.success) throw new CanopyError(ErrorCode.BadInput, 'the root host answered the submission with a malformed reply');
  const reply = parsed.data;
  if (!reply.ok) throw new CanopyError(ErrorCode.BadInput, `the root host refused the job: ${reply.error}`);
  return reply;
}
