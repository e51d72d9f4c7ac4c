import { Rng } from '../../util/rng.js';
import { seededSecretBytes, type Ctx } from '../ctx.js';
import type { Effect } from '../effects.js';
import { deriveJobSheet, jobSheetHash, type Role } from '../jobSheet.js';
import { buildJobTree, jobOf, jobTopic, type JobTree } from '../jobTree.js';
import { MESSAGE_VERSION, type Message, type StatePayload } from '../messages/index.js';
import { manifestBlob } from '../machines/hostState.js';
import { treeManifest, type Shape } from './fixtures.js';

// Helpers for the table-driven machine tests: trees, contexts, messages and effect queries.

/** A job tree of a given shape (see treeManifest). */
export function tree(shape: Shape, opts: Parameters<typeof treeManifest>[1] = {}): JobTree {
  return buildJobTree(treeManifest(shape, opts));
}

/** A step context at a time, with a seeded rng. */
export function ctxAt(now: number, seed = 1): Ctx {
  const rng = Rng.fromSeed(seed);
  return { now, rng, secretBytes: seededSecretBytes(rng) };
}

/** A message from `member` (as `role`) in `job`, with envelope defaults. */
export function msg<T extends Message['type']>(
  t: JobTree,
  job: string,
  role: Role,
  member: string,
  type: T,
  payload: Extract<Message, { type: T }>['payload'],
  extra: { round?: number; seq?: number; sender?: string } = {},
): Extract<Message, { type: T }> {
  const node = jobOf(t, job);
  const sender = extra.sender ?? (role === 'client' ? (node.clientById.get(member)?.peer ?? member) : member);
  return { v: MESSAGE_VERSION, type, root: t.rootId, job, round: extra.round ?? 0, seq: extra.seq ?? 1, sender, member, role, payload } as Extract<Message, { type: T }>;
}

/** The sheet hash a member ACKs with. */
export function sheetHash(t: JobTree, job: string, role: Role, member: string): string {
  return jobSheetHash(deriveJobSheet(t, job, role, member));
}

/** An ACK from a client or worker of `job` with the right sheet hash. */
export function ack(t: JobTree, job: string, role: 'client' | 'worker', member: string, stage: 1 | 2, samples = 10, refused = false): Message {
  const node = jobOf(t, job);
  const slot = node.clientById.get(member);
  const hash = role === 'client' && slot?.subJob ? sheetHash(t, slot.subJob, 'host', slot.peer) : sheetHash(t, job, role, member);
  return msg(t, job, role, member, 'ack', { stage, sheetHash: hash, refused, samples });
}

/** A host state payload with defaults for `job`. */
export function statePayload(t: JobTree, over: Partial<StatePayload> = {}): StatePayload {
  return {
    jobsheetFlag: true,
    datasetFlag: false,
    processStage: 0,
    clientStage: 0,
    workerStage: 0,
    attempt: 0,
    parentRound: 0,
    localRound: 0,
    manifest: manifestBlob(t).ref,
    global: null,
    sample: null,
    inputs: null,
    inputCount: 0,
    initFrom: null,
    excludedWorkers: [],
    missing: [],
    wrongSheet: [],
    metrics: null,
    stopReason: null,
    downloadable: false,
    ...over,
  };
}

/** A `state` message from the host of `job`. */
export function stateMsg(t: JobTree, job: string, over: Partial<StatePayload>, extra: { round?: number; seq?: number } = {}): Message {
  const host = jobOf(t, job).host;
  return msg(t, job, 'host', host, 'state', statePayload(t, over), extra);
}

/** Effects of one type. */
export function ofType<T extends Effect['type']>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

/** Messages published, optionally of one type. */
export function publishedOf<T extends Message['type']>(effects: readonly Effect[], type: T): Extract<Message, { type: T }>[] {
  return ofType(effects, 'publish')
    .map((e) => e.message)
    .filter((m): m is Extract<Message, { type: T }> => m.type === type);
}

/** A blob ref with a made-up hash. */
export function fakeRef(seed: string, size = 100): { hash: string; size: number } {
  let h = '';
  for (let i = 0; h.length < 64; i++) h += ((seed.charCodeAt(i % seed.length) + i) % 16).toString(16);
  return { hash: h, size };
}

export { jobTopic };
