import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ManifestError } from '../util/errors.js';
import { formatZodIssues, parseManifestYaml } from '../protocol/manifest.js';
import type { NodeStore } from '../storage/nodeStore.js';
import type { DatasetSpec } from '../spec/ml.js';

// Data enters or leaves a machine only with its owner's consent (DESIGN.md, step 4). The
// desktop app asks the owner; a headless node decides by a policy file or a flag. Either
// way every decision is recorded locally as a receipt.

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest (64 characters 0-9a-f)');

/** A headless node's consent policy: which jobs, submitters or datasets it approves. */
export const ConsentPolicy = z.strictObject({
  approve: z
    .strictObject({
      jobs: z.array(z.string().min(1)).default([]),
      submitters: z.array(z.string().min(1)).default([]),
      datasets: z.array(Sha256).default([]),
    })
    .default({ jobs: [], submitters: [], datasets: [] }),
});
export type ConsentPolicy = z.infer<typeof ConsentPolicy>;

/** What a member is asked to agree to before any dataset bytes are fetched. */
export interface ConsentRequest {
  readonly job: string;
  readonly rootJob: string;
  readonly submitter: string;
  readonly dataset: {
    readonly name: string;
    readonly hash: string;
    /** Bytes this node would download (its chunk in the distributor's index); 0 when it loads the data locally. */
    readonly size: number;
    readonly distributor?: string;
    readonly purpose: string;
  };
}

/** One recorded decision. */
export interface ConsentReceipt {
  readonly id: string;
  readonly seq: number;
  readonly at: string;
  readonly request: ConsentRequest;
  readonly decision: 'approved' | 'refused' | 'revoked';
  readonly by: 'policy' | 'flag' | 'owner';
  readonly reason: string;
}

/** The owner's answer to a consent request (the desktop app's dialog). */
export interface OwnerDecision {
  readonly given: boolean;
  /** Train on this dataset of the owner's instead of downloading the distributor's chunk. */
  readonly localDataset?: DatasetSpec;
  /** Why, in the owner's words or the app's; recorded in the receipt. */
  readonly reason?: string;
  /** The receipt the app already recorded for this answer (so it is not recorded twice). */
  readonly receipt?: ConsentReceipt;
}

/** Asks the owner; rejects or resolves `{ given: false }` when nobody can answer. */
export type ConsentAsker = (request: ConsentRequest, signal: AbortSignal) => Promise<OwnerDecision>;

/**
 * How a node decides: a policy, approve everything (test clusters), nothing (refuse), or, with
 * the desktop app or `canopy node --ui`, by asking the owner.
 */
export type ConsentMode = { kind: 'policy'; policy: ConsentPolicy; source: string } | { kind: 'approve-all' } | { kind: 'none' } | { kind: 'ask'; ask: ConsentAsker };

/** Decides a request by a headless node's mode (every mode but 'ask'). Pure. */
export function decideConsent(mode: Exclude<ConsentMode, { kind: 'ask' }>, req: ConsentRequest): { decision: 'approved' | 'refused'; by: 'policy' | 'flag'; reason: string } {
  if (mode.kind === 'approve-all') return { decision: 'approved', by: 'flag', reason: '--approve-datasets was given' };
  if (mode.kind === 'none') {
    return { decision: 'refused', by: 'policy', reason: 'this node has no consent policy; start it with --consent-policy <file> or --approve-datasets' };
  }
  const a = mode.policy.approve;
  if (a.jobs.includes(req.rootJob) || a.jobs.includes(req.job)) return { decision: 'approved', by: 'policy', reason: `job ${req.rootJob} is approved in ${mode.source}` };
  if (a.submitters.includes(req.submitter)) return { decision: 'approved', by: 'policy', reason: `submitter ${req.submitter} is approved in ${mode.source}` };
  if (a.datasets.includes(req.dataset.hash)) return { decision: 'approved', by: 'policy', reason: `dataset ${req.dataset.hash.slice(0, 12)}… is approved in ${mode.source}` };
  return { decision: 'refused', by: 'policy', reason: `neither the job, its submitter nor the dataset is approved in ${mode.source}` };
}

/** Reads and validates a consent policy file (YAML or JSON). */
export async function loadConsentPolicy(path: string): Promise<ConsentMode> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ManifestError(path, [`cannot read the consent policy: ${err.code ?? err.message}`]);
  });
  const value = parseManifestYaml(text, path);
  const parsed = ConsentPolicy.safeParse(value);
  if (!parsed.success) throw new ManifestError(path, formatZodIssues(parsed.error.issues, value));
  return { kind: 'policy', policy: parsed.data, source: path };
}

/** The node's record of consent decisions, persisted as receipts. */
export class ConsentLedger {
  constructor(
    private readonly store: NodeStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records a decision and returns its receipt. */
  async record(request: ConsentRequest, decision: ConsentReceipt['decision'], by: ConsentReceipt['by'], reason: string): Promise<ConsentReceipt> {
    // A sequence number orders decisions made within the same millisecond.
    const seq = (await this.store.receipts()).length + 1;
    const receipt: ConsentReceipt = { id: `${String(seq).padStart(6, '0')}-${randomUUID().slice(0, 8)}`, seq, at: this.now().toISOString(), request, decision, by, reason };
    await this.store.saveReceipt(receipt.id, receipt);
    return receipt;
  }

  /** All receipts, oldest first. */
  async list(): Promise<ConsentReceipt[]> {
    return (await this.store.receipts<ConsentReceipt>()).sort((a, b) => a.seq - b.seq);
  }

  /** Whether the newest decision for a job's dataset is an approval. */
  async isApproved(job: string, datasetHash: string): Promise<boolean> {
    const last = (await this.list()).filter((r) => r.request.job === job && r.request.dataset.hash === datasetHash).at(-1);
    return last?.decision === 'approved';
  }

  /** Revokes consent for a job: a new receipt that supersedes the approval. */
  async revoke(job: string, datasetHash: string, reason = 'revoked by the owner'): Promise<ConsentReceipt | undefined> {
    const last = (await this.list()).filter((r) => r.request.job === job && r.request.dataset.hash === datasetHash).at(-1);
    if (!last || last.decision !== 'approved') return undefined;
    return this.record(last.request, 'revoked', 'owner', reason);
  }
}
