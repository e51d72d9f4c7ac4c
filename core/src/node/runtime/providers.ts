import { jobOf, type JobTree } from '../../protocol/jobTree.js';
import type { MemberId } from '../../protocol/manifest.js';

// Who may hold a blob the protocol names. Gossip carries only hashes, so a fetcher needs
// candidates: the member that published the reference first, then the others that could
// have made or mirrored it. fetchBlob tries them in order and stops at the first intact copy.

/**
 * Candidates for a job's global parameters: the hinted peer (the job's host), the job's own
 * workers (local rounds chain through their aggregates), then each ancestor's host and
 * workers (the parent's global came from there, and the initial one from the root's workers).
 */
export function globalProviders(tree: JobTree, job: string, hint?: MemberId): MemberId[] {
  const out: MemberId[] = hint === undefined ? [] : [hint];
  for (let name: string | undefined = job; name !== undefined; name = jobOf(tree, name).parent) {
    const node = jobOf(tree, name);
    out.push(node.host, ...node.workers);
  }
  // A leaf root asks a client for initial parameters when no worker answers (step 5).
  const root = jobOf(tree, tree.root);
  if (root.leaf && root.clients.length <= 64) out.push(...root.clients.map((c) => c.peer));
  return [...new Set(out)];
}

/** Candidates for one submission in an inputs blob: the client, or a sub-job's host and workers. */
export function inputProviders(tree: JobTree, job: string, client: string): MemberId[] {
  const slot = jobOf(tree, job).clientById.get(client);
  if (!slot) return [];
  if (!slot.subJob) return [slot.peer];
  const sub = jobOf(tree, slot.subJob);
  return [slot.peer, ...sub.workers];
}
