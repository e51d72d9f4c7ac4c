import type { StateMessage } from '../messages/index.js';
import { ignore, reject, type Checked, type ValidationContext, type Verdict } from './verdict.js';

/** Rules of a host `state` snapshot beyond the envelope. Returns a verdict, or null to accept. */
export function validateState(msg: StateMessage, { tree, node }: Checked, ctx: ValidationContext): Verdict | null {
  const p = msg.payload;
  // Only the job's host publishes its state: REJECT (a member forging the host).
  if (msg.role !== 'host') return reject('state from a non-host');
  // The snapshot must be of our manifest: REJECT (a host on another manifest version).
  if (p.manifest.hash !== tree.manifestHash) return reject('state of another manifest');
  // Training needs a global model and a sample rule: REJECT (an incoherent snapshot).
  if (p.processStage === 1 && (!p.global || !p.sample || msg.round === 0)) return reject('training state without global, sample or round');
  // Aggregation needs inputs and the base model: REJECT (an incoherent snapshot).
  if (p.processStage === 2 && (!p.inputs || !p.global || msg.round === 0)) return reject('aggregation state without inputs, global or round');
  // Stages never run ahead of the flags: REJECT (an incoherent snapshot).
  if (p.processStage > 0 && p.processStage < 3 && !p.datasetFlag) return reject('process stage before the dataset flag');
  // Only a training snapshot names missing submissions, and only the job's client slots: REJECT (an incoherent snapshot).
  if (p.missing.length > 0 && p.processStage !== 1) return reject('missing submissions outside training');
  if (p.missing.some((c) => !node.clientById.has(c))) return reject('missing names a non-client');
  // `wrongSheet` names only members of the job: REJECT (an incoherent snapshot).
  if (p.wrongSheet.some((m) => !node.clientById.has(m) && !node.workers.includes(m))) return reject('wrongSheet names a non-member');
  // §6.14: only a leaf job with privacy.dp has a noise key, sealed to its own workers only: REJECT.
  if (p.noise && !(node.leaf && tree.manifest.privacy)) return reject('noise key in a job without privacy.dp');
  if (p.noise && Object.keys(p.noise.sealed).some((w) => !node.workers.includes(w))) return reject('noise key sealed to a non-worker');
  const view = ctx.view?.(msg.job);
  // A snapshot no newer than one we accepted: IGNORE (a duplicate or a late one; the newer one supersedes it).
  if (view && msg.seq <= view.hostSeq) return ignore('stale or duplicate state seq');
  // A snapshot of an earlier round than we are in: IGNORE (stale; rounds are never mixed).
  if (view && msg.round < view.round) return ignore('state of an earlier round');
  return null;
}
