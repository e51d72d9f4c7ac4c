import { z } from 'zod';
import { BadInputError } from '../../util/errors.js';
import { BlobRef, EvalMetrics, SubmitPayload } from '../messages/index.js';
import type { Effect } from '../effects.js';

// The journals of clients, workers and distributors (PROTOCOL.md §6.15): the little each
// must not lose to a crash, so that a restarted member resumes its part of the round
// instead of redoing (or dropping) it. A machine emits a `journal` effect before the publish
// that announces what it journals; the shell writes it durably, and on restart hands it back
// to `restoreClientState` and friends, which decode it with a schema (it comes from disk).

/** A client's journal: its owner's consent decision, the distributor's index, and its round's work. */
export const ClientJournal = z.strictObject({
  v: z.literal(1),
  role: z.literal('client'),
  consent: z.enum(['given', 'refused']).nullable(),
  datasetIndex: BlobRef.nullable(),
  work: z
    .strictObject({
      round: z.number().int().min(1),
      global: BlobRef,
      trained: z.strictObject({ ref: BlobRef, samples: z.number(), loss: z.number(), accuracy: z.number() }).nullable(),
      evaluated: EvalMetrics.nullable(),
      submit: SubmitPayload.nullable(),
    })
    .nullable(),
});
export type ClientJournal = z.infer<typeof ClientJournal>;

/** A worker's journal: its last aggregate (with the round, attempt and inputs it answers) and initial parameters. */
export const WorkerJournal = z.strictObject({
  v: z.literal(1),
  role: z.literal('worker'),
  work: z.strictObject({ round: z.number().int().min(1), attempt: z.number().int().min(0), inputs: z.string().regex(/^[0-9a-f]{64}$/), result: BlobRef }).nullable(),
  init: BlobRef.nullable(),
});
export type WorkerJournal = z.infer<typeof WorkerJournal>;

/** A distributor's journal: the index blob of every leaf job once prepared, or why preparing failed for good. */
export const DistributorJournal = z.strictObject({
  v: z.literal(1),
  role: z.literal('distributor'),
  indexes: z.record(z.string(), BlobRef).nullable(),
  failure: z.string().nullable(),
});
export type DistributorJournal = z.infer<typeof DistributorJournal>;

/** Any member's journal entry. */
export type MemberJournal = ClientJournal | WorkerJournal | DistributorJournal;

// The parts of each role's state a journal takes (structural, so the machines' files can
// import this one without a cycle).
interface ClientJournalSource {
  readonly job: string;
  readonly consent: string;
  readonly datasetIndex: BlobRef | null;
  readonly work: { readonly round: number; readonly global: BlobRef; readonly trained: { readonly ref: BlobRef; readonly samples: number; readonly loss: number; readonly accuracy: number } | null; readonly evaluated: EvalMetrics | null; readonly submit: SubmitPayload | null } | null;
}
interface WorkerJournalSource {
  readonly job: string;
  readonly work: { readonly round: number; readonly attempt: number; readonly inputs: string; readonly result: BlobRef | null } | null;
  readonly init: { readonly ref: BlobRef | null } | null;
}
interface DistributorJournalSource {
  readonly tree: { readonly root: string };
  readonly indexes: Record<string, BlobRef> | null;
  readonly failure: string | null;
}

/** Pushes a client's journal entry (before the publish it makes durable). */
export function journalClient(s: ClientJournalSource, effects: Effect[]): void {
  const w = s.work;
  const entry: ClientJournal = {
    v: 1,
    role: 'client',
    consent: s.consent === 'given' || s.consent === 'refused' ? s.consent : null,
    datasetIndex: s.datasetIndex,
    // Only work that produced something is worth keeping; a fetch or training in flight is redone.
    work: w && w.trained ? { round: w.round, global: w.global, trained: w.trained, evaluated: w.evaluated, submit: w.submit } : null,
  };
  effects.push({ type: 'journal', job: s.job, role: 'client', entry });
}

/** Pushes a worker's journal entry. */
export function journalWorker(s: WorkerJournalSource, effects: Effect[]): void {
  const w = s.work;
  const entry: WorkerJournal = {
    v: 1,
    role: 'worker',
    work: w?.result ? { round: w.round, attempt: w.attempt, inputs: w.inputs, result: w.result } : null,
    init: s.init?.ref ?? null,
  };
  effects.push({ type: 'journal', job: s.job, role: 'worker', entry });
}

/** Pushes a distributor's journal entry. */
export function journalDistributor(s: DistributorJournalSource, effects: Effect[]): void {
  const entry: DistributorJournal = { v: 1, role: 'distributor', indexes: s.indexes, failure: s.failure };
  effects.push({ type: 'journal', job: s.tree.root, role: 'distributor', entry });
}

/** Decodes a stored journal entry of `role`; throws {@link BadInputError} naming what is wrong. */
export function decodeJournal(role: 'client', raw: unknown): ClientJournal;
export function decodeJournal(role: 'worker', raw: unknown): WorkerJournal;
export function decodeJournal(role: 'distributor', raw: unknown): DistributorJournal;
export function decodeJournal(role: MemberJournal['role'], raw: unknown): MemberJournal;
export function decodeJournal(role: MemberJournal['role'], raw: unknown): MemberJournal {
  const schema = role === 'client' ? ClientJournal : role === 'worker' ? WorkerJournal : DistributorJournal;
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BadInputError(`the ${role} journal is not one this version reads: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return r.data;
}

/** The parameter and index blobs a journal names: a shell checks they are still stored before restoring from it. */
export function journalBlobs(j: MemberJournal): BlobRef[] {
  if (j.role === 'client') return [...(j.work?.trained ? [j.work.trained.ref] : []), ...(j.datasetIndex ? [j.datasetIndex] : [])];
  if (j.role === 'worker') return [...(j.work ? [j.work.result] : []), ...(j.init ? [j.init] : [])];
  return Object.values(j.indexes ?? {});
}
