import { MAX_FAILURE_REASON, type FailureKind, type HeartbeatMessage, type MemberFailure } from '../messages/index.js';
import type { HeldFailure, HostState } from './hostState.js';

// §6.13, the host's side: what its members last said they could not do. Each member's entry
// mirrors its latest heartbeat (set while the heartbeat carries a failure, removed when one
// comes without), so a failed round or job can say why, counted by kind with example members.
// Not checkpointed: members repeat a failure in every heartbeat until their work succeeds.


/** Consecutive data failures of one member after which the root ends the job in setup. */
export const DATA_FAILURES_TO_END = 3;

/** The longest stop reason a state carries (the `stopReason` field's bound). */
export const MAX_STOP_REASON = 500;

/** Records (or clears) the failure a member's heartbeat carries. */
export function noteFailure(s: HostState, msg: HeartbeatMessage, id: string, role: 'client' | 'worker'): void {
  const f = msg.payload.failure;
  if (f) s.failures.set(id, { member: id, role, failure: f });
  else s.failures.delete(id);
}

const KIND_ORDER: readonly FailureKind[] = ['data', 'train', 'evaluate', 'aggregate', 'init'];

/**
 * The held failures in one line, counted by kind with up to two example members each:
 * `members failed: data x2 (c0: ENOENT: …; c1: …), train x1 (c3: loss is NaN)`. Empty when none.
 */
export function describeFailures(s: HostState): string {
  if (s.failures.size === 0) return '';
  const byKind = new Map<FailureKind, HeldFailure[]>();
  for (const h of s.failures.values()) {
    const list = byKind.get(h.failure.kind);
    if (list) list.push(h);
    else byKind.set(h.failure.kind, [h]);
  }
  const parts: string[] = [];
  for (const kind of KIND_ORDER) {
    const list = byKind.get(kind);
    if (!list) continue;
    list.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    const examples = list.slice(0, 2).map((h) => `${h.member}: ${clip(h.failure.reason, 120)}`);
    parts.push(`${kind} x${list.length} (${examples.join('; ')}${list.length > 2 ? '; …' : ''})`);
  }
  return `members failed: ${parts.join(', ')}`;
}

/** A failure to report upward for a sub-job (its members' worst, named), or undefined. */
export function upwardFailure(s: HostState, round: number): MemberFailure | undefined {
  let worst: HeldFailure | undefined;
  for (const h of s.failures.values()) {
    const rank = (x: HeldFailure) => (x.failure.kind === 'data' ? 1_000_000 : 0) + x.failure.attempts;
    if (!worst || rank(h) > rank(worst)) worst = h;
  }
  if (!worst) return undefined;
  return { kind: worst.failure.kind, round, attempts: worst.failure.attempts, reason: clip(`${s.job}/${worst.member}: ${worst.failure.reason}`, MAX_FAILURE_REASON) };
}

/** `reason` with the held failures appended, within the stop reason's bound. */
export function withFailures(s: HostState, reason: string): string {
  const failures = describeFailures(s);
  return clip(failures ? `${reason}; ${failures}` : reason, MAX_STOP_REASON);
}

/** `text` cut to `max` characters, the cut marked. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
