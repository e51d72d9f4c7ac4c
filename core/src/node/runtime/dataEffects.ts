import { z } from 'zod';
import type { AskConsentEffect, LoadDatasetEffect, PrepareDatasetEffect } from '../../protocol/effects.js';
import type { Input } from '../../protocol/inputs.js';
import { BlobRef } from '../../protocol/messages/common.js';
import { hashJson } from '../../util/hash.js';
import { describePlan } from '../../artifacts/plan.js';
import { decideConsent, type ConsentRequest } from '../consent.js';
import { MAX_JSON_BLOB_BYTES, type EffectEnv } from './effectEnv.js';
import { dataKey } from './taskEffects.js';

// The data effects (step 4). Consent comes first: a client asks its owner (here the node's
// consent mode) and only then runs `loadDataset`, which is the first time it fetches
// anything from the distributor. The distributor serves each chunk to its member alone.

/** The distributor's index blob: each client of a leaf job → its chunk and sample count. */
export const DatasetIndex = z.record(z.string(), z.strictObject({ train: BlobRef, test: BlobRef, samples: z.number().int().min(0) }));

/** The dataset hash a consent policy can approve: the manifest's dataset section (source, partition, seed). */
export function datasetHash(env: EffectEnv): string {
  return hashJson(env.tree.manifest.dataset);
}

/** `askConsent`: decide by the node's consent mode (or ask the owner) and record a receipt either way. */
export async function runAskConsent(env: EffectEnv, e: AskConsentEffect): Promise<Input> {
  const d = env.tree.manifest.dataset;
  const mode = env.consent;
  const request: ConsentRequest = {
    job: e.job,
    rootJob: env.tree.rootId,
    submitter: env.submitter,
    dataset: {
      name: e.dataset.kind,
      hash: datasetHash(env),
      // The owner is told what would be downloaded; a policy does not need to wait for it.
      size: mode.kind === 'ask' && !env.localDataset ? await chunkSize(env, e.job) : 0,
      ...(d.distributor === undefined ? {} : { distributor: env.peers.peerOf(d.distributor) }),
      purpose: env.tree.manifest.artifact
        ? describePlan(env.tree.manifest.artifact, e.job)
        : env.localDataset
        ? `train a ${env.tree.manifest.model.kind} model in job ${e.job} on this node's own dataset (${env.localDataset.kind})`
        : `train a ${env.tree.manifest.model.kind} model in job ${e.job} on ${d.partition.kind === 'iid' ? 'an even, random share' : `a ${d.partition.kind} share`} of ${e.dataset.kind}`,
    },
  };
  let decision: { decision: 'approved' | 'refused'; by: 'policy' | 'flag' | 'owner'; reason: string };
  if (mode.kind === 'ask') {
    try {
      const answer = await mode.ask(request, env.signal);
      if (answer.given && answer.localDataset) env.ownerDatasets.set(e.job, answer.localDataset);
      if (answer.receipt) {
        // The app recorded (and reported) the owner's answer itself; the runtime only acts on it.
        env.log.info({ job: e.job, decision: answer.receipt.decision, by: 'owner' }, 'consent decided');
        return { type: 'consent', job: e.job, given: answer.given && answer.receipt.decision === 'approved' };
      }
      decision = { decision: answer.given ? 'approved' : 'refused', by: 'owner', reason: answer.reason ?? (answer.given ? 'approved by the owner' : 'declined by the owner') };
    } catch (err) {
      if (env.signal.aborted) return { type: 'consent', job: e.job, given: false };
      decision = { decision: 'refused', by: 'owner', reason: `the owner could not be asked: ${(err as Error).message}` };
    }
  } else {
    decision = decideConsent(mode, request);
  }
  try {
    const receipt = await env.ledger.record(request, decision.decision, decision.by, decision.reason);
    env.events.emit('consent:recorded', { rootId: env.tree.rootId, receipt });
  } catch (err) {
    // Without a durable receipt there is no consent.
    env.log.error({ job: e.job, err: (err as Error).message }, 'could not record the consent receipt; refusing');
    return { type: 'consent', job: e.job, given: false };
  }
  env.log.info({ job: e.job, decision: decision.decision, by: decision.by, reason: decision.reason }, 'consent decided');
  return { type: 'consent', job: e.job, given: decision.decision === 'approved' };
}

/**
 * The size of this member's chunk, read from the distributor's index (hashes and sizes, no
 * data). The client asks for the offer along with consent (PROTOCOL.md §4.9); 0 when there is
 * no distributor (the data is loaded locally) or the index does not come within 30 s.
 */
async function chunkSize(env: EffectEnv, job: string): Promise<number> {
  const d = env.tree.manifest.dataset;
  if (d.distributor === undefined) return 0;
  const from = [env.peers.peerOf(d.distributor)];
  const until = Date.now() + 30_000;
  let index = env.datasetIndexOf(job);
  while (!index && Date.now() < until && !env.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    index = env.datasetIndexOf(job);
  }
  if (!index || !(await env.blobs.fetch(index, from, { maxBytes: MAX_JSON_BLOB_BYTES, signal: env.signal }))) return 0;
  const parsed = DatasetIndex.safeParse(await env.blobs.getJson(index.hash));
  return parsed.success ? (parsed.data[env.me]?.train.size ?? 0) : 0;
}

/** `loadDataset`: the node's own dataset, the local shard, or the chunk named in the distributor's index. */
export async function runLoadDataset(env: EffectEnv, e: LoadDatasetEffect): Promise<Input> {
  const started = performance.now();
  const key = dataKey(env, e.job);
  const owner = { member: env.me, trainSeed: env.tree.manifest.train.seed };
  try {
    let loaded: { train: number };
    const own = env.ownerDatasets.get(e.job) ?? env.localDataset;
    if (own) {
      loaded = await env.compute.loadData({ key, source: { kind: 'local', dataset: own, partition: { kind: 'iid' }, seed: 0, shard: { index: 0, of: 1 } }, owner }, { signal: env.signal });
    } else if (e.source.kind === 'local') {
      loaded = await env.compute.loadData(
        { key, source: { kind: 'local', dataset: e.source.dataset, partition: e.source.partition, seed: e.source.seed, shard: e.source.shard }, owner },
        { signal: env.signal },
      );
    } else {
      const from = [env.peers.peerOf(e.source.from)];
      if (!(await env.blobs.fetch(e.source.index, from, { maxBytes: MAX_JSON_BLOB_BYTES, signal: env.signal }))) throw new Error('the dataset index is not available from the distributor');
      const index = DatasetIndex.safeParse(await env.blobs.getJson(e.source.index.hash));
      if (!index.success) throw new Error('the distributor sent a malformed dataset index');
      const entry = index.data[e.source.member];
      if (!entry) throw new Error(`the dataset index has no chunk for ${e.source.member}`);
      if (!(await env.blobs.fetch(entry.train, from, { maxBytes: env.maxDataBytes, signal: env.signal }))) throw new Error('the dataset chunk could not be fetched intact');
      loaded = await env.compute.loadData({ key, source: { kind: 'chunk', bytes: await env.blobs.store.get(entry.train.hash) }, owner }, { signal: env.signal });
    }
    const ms = Math.round(performance.now() - started);
    env.log.info({ job: e.job, samples: loaded.train, ms }, 'dataset loaded');
    env.events.emit('task:done', { rootId: env.tree.rootId, job: e.job, task: 'loadDataset', round: 0, ms });
    return { type: 'datasetLoaded', job: e.job, samples: Math.max(1, loaded.train) };
  } catch (err) {
    const reason = (err as Error).message;
    env.log.warn({ job: e.job, err: reason }, 'dataset load failed; retrying on the next heartbeat');
    return { type: 'datasetFailed', job: e.job, reason };
  }
}

/** `prepareDataset`: partition once, store one chunk per client (served to it alone) and one index per leaf job. */
export async function runPrepareDataset(env: EffectEnv, e: PrepareDatasetEffect): Promise<Input | undefined> {
  try {
    const chunks = await env.compute.prepareChunks({ dataset: e.dataset, partition: e.partition, seed: e.seed, shards: e.shards }, { signal: env.signal });
    const indexes: Record<string, BlobRef> = {};
    for (const j of e.jobs) {
      const index: Record<string, { train: BlobRef; test: BlobRef; samples: number }> = {};
      for (const [i, client] of j.clients.entries()) {
        const chunk = chunks[env.tree.shardIndex.get(client) ?? j.firstShard + i];
        if (!chunk) throw new Error(`no shard for ${client}`);
        const ref = await env.blobs.store.put(chunk.bytes);
        env.blobs.restrict(ref.hash, [env.peers.peerOf(client)]);
        // One chunk holds both the member's training and test parts (ml/dataChunk.ts).
        index[client] = { train: ref, test: ref, samples: chunk.train };
      }
      indexes[j.job] = await env.blobs.putJson(index);
    }
    env.log.info({ jobs: e.jobs.length, shards: e.shards }, 'dataset prepared');
    return { type: 'datasetPrepared', indexes };
  } catch (err) {
    // The machine retries on its next heartbeat, and after its last attempt has the root end the job (§5.4).
    const reason = (err as Error).message;
    env.log.error({ err: reason }, 'could not prepare the dataset');
    return { type: 'datasetFailed', job: env.tree.root, reason };
  }
}

/**
 * A restored distributor's indexes (PROTOCOL.md §6.15): checks every index and chunk is still
 * stored intact and serves each chunk to its client alone again. Returns what is wrong, or
 * undefined when all is there.
 */
export async function regrantDatasetChunks(env: EffectEnv, indexes: Readonly<Record<string, BlobRef>>): Promise<string | undefined> {
  for (const [job, ref] of Object.entries(indexes)) {
    const index = DatasetIndex.safeParse(await env.blobs.getJson(ref.hash).catch(() => undefined));
    if (!index.success) return `the dataset index of ${job} is missing or malformed`;
    for (const [client, entry] of Object.entries(index.data)) {
      if (!(await env.blobs.store.has(entry.train.hash))) return `the dataset chunk of ${client} is missing or was corrupt`;
      env.blobs.restrict(entry.train.hash, [env.peers.peerOf(client)]);
    }
  }
  return undefined;
}
