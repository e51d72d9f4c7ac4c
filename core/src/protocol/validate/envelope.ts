import type { JobNode, JobTree } from '../jobTree.js';
import { PROTOCOL_VERSION } from '../../spec/topics.js';
import type { Message } from '../messages/index.js';
import { ignore, reject, type Checked, type ValidationContext, type Verdict } from './verdict.js';

// Checks every message type shares: the topic, the job, the signer and membership.

/** Validates the envelope. Returns the tree and job on success, a verdict otherwise. */
export function validateEnvelope(msg: Message, ctx: ValidationContext): Checked | Verdict {
  // The topic must be canopy/<version>/<root>/<job> of this very message: REJECT (misrouted or forged).
  if (ctx.topic !== `canopy/${PROTOCOL_VERSION}/${msg.root}/${msg.job}`) return reject('topic does not match root and job');
  // A root we do not take part in: IGNORE (we cannot judge it; it may be valid elsewhere).
  const tree = ctx.trees.get(msg.root);
  if (!tree) return ignore('unknown root job');
  // A job the manifest does not have: REJECT (no honest peer invents jobs).
  const node = tree.jobs.get(msg.job);
  if (!node) return reject('job is not in the manifest');
  // The envelope's sender must be the gossip signer: REJECT (impersonation).
  if (msg.sender !== ctx.from) return reject('sender is not the signer');
  // The sender must speak as a member of the job in the role it claims: REJECT (non-member).
  if (!speaksFor(tree, node, msg.role, msg.member, msg.sender)) return reject(`not a ${msg.role} of ${msg.job}`);
  return { tree, node };
}

/** Whether `sender` may speak as `member` in `role` in a job. O(1) except for the short worker list. */
export function speaksFor(tree: JobTree, node: JobNode, role: Message['role'], member: string, sender: string): boolean {
  switch (role) {
    case 'host':
      return member === node.host && sender === node.host;
    case 'worker':
      return member === sender && node.workers.includes(member);
    case 'client':
      return node.clientById.get(member)?.peer === sender;
    case 'distributor':
      // Leaf jobs get its offers; the root job hears a failed preparation (§4.8).
      return member === sender && member === tree.distributor && (node.leaf || node.name === tree.root);
  }
}

/** Whether a value is a verdict rather than a passed check. */
export function isVerdict(x: Checked | Verdict): x is Verdict {
  return 'result' in x;
}
