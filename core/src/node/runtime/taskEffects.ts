import { z } from 'zod';
import type { AggregateEffect, EvaluateEffect, FetchBlobEffect, InitParamsEffect, TrainEffect } from '../../protocol/effects.js';
import type { Input } from '../../protocol/inputs.js';
import { BlobRef } from '../../protocol/messages/common.js';
import type { AggregateInput, TrainProgress } from '../../compute/computeBackend.js';
import { MAX_JSON_BLOB_BYTES, type EffectEnv } from './effectEnv.js';
import { globalProviders, inputProviders } from './providers.js';

// The compute effects of the shell contract (docs/PROTOCOL.md §8): fetch the blobs a task
// needs, run it on the compute backend, store what it makes, and answer with the input the
// machine expects. Any failure becomes `taskFailed` (or `blobFetched{ok:false}`): the
// machine then acts as a straggler, which the protocol's deadlines and quorum absorb.

/** The inputs blob a host names in `state.inputs` (§6.4): the round's accepted submissions, sorted by client. */
export const InputsBlob = z.array(z.strictObject({ client: z.string(), ref: BlobRef, samples: z.number().positive() })).max(100_000);

/** The key under which a member's data for a job is loaded in the compute backend. */
export function dataKey(env: EffectEnv, job: string): string {
  return `${env.tree.rootId}/${job}`;
}

const peersOf = (env: EffectEnv, members: readonly string[]) => members.map((m) => env.peers.peerOf(m));

/** `fetchBlob` (a client fetching the round's global parameters). */
export async function fetchGlobal(env: EffectEnv, e: FetchBlobEffect): Promise<Input> {
  const providers = peersOf(env, globalProviders(env.tree, e.job, e.from));
  const ok = await env.blobs.fetch(e.ref, providers, { maxBytes: env.compute.paramsLimit(env.tree.manifest.model), signal: env.signal });
  return { type: 'blobFetched', job: e.job, ref: e.ref, ok };
}

/** `train`: local training from the global parameters, seeded per member and round as the baseline does. */
export async function runTrain(env: EffectEnv, e: TrainEffect): Promise<Input> {
  const started = performance.now();
  try {
    const global = await env.blobs.store.get(e.global.hash);
    const shard = env.tree.shardIndex.get(env.me) ?? 0;
    const seed = e.train.seed + e.round * 100_003 + shard;
    const rootId = env.tree.rootId;
    const onProgress = (p: TrainProgress) => {
      // Samples so far over time so far: the live figure the app shows while a round trains.
      const seconds = (performance.now() - started) / 1000;
      const samplesPerSec = seconds > 0 ? ((p.epoch * p.batches + p.batch) * e.train.batchSize) / seconds : 0;
      env.events.emit('train:progress', { rootId, job: e.job, round: e.round, epoch: p.epoch, epochs: p.epochs, batch: p.batch, batches: p.batches, samplesPerSec });
    };
    const r = await env.compute.train({ key: dataKey(env, e.job), model: e.model, train: e.train, global, seed }, { onProgress, signal: env.signal });
    // Diverged parameters would poison the aggregate: a failure the host is told of (§6.13).
    if (!Number.isFinite(r.loss)) throw new Error(`training diverged: the loss is ${r.loss} (try a smaller learning rate)`);
    const ref = await env.blobs.store.put(r.params);
    if (r.backend !== undefined && r.samplesPerSec !== undefined) env.events.emit('backend:measured', { backend: r.backend, samplesPerSec: r.samplesPerSec });
    done(env, e.job, 'train', e.round, started);
    return { type: 'trained', job: e.job, round: e.round, ref, samples: r.samples, loss: finite(r.loss, 1e9), accuracy: finite(r.accuracy, 0) };
  } catch (err) {
    return failed(env, e.job, 'train', e.round, err);
  }
}

/** `evaluate`: the round's global model on this member's test split. */
export async function runEvaluate(env: EffectEnv, e: EvaluateEffect): Promise<Input> {
  const started = performance.now();
  try {
    const params = await env.blobs.store.get(e.params.hash);
    const r = await env.compute.evaluate({ key: dataKey(env, e.job), model: e.model, params }, { signal: env.signal });
    done(env, e.job, 'evaluate', e.round, started);
    return { type: 'evaluated', job: e.job, round: e.round, loss: finite(r.loss, 1e9), accuracy: finite(r.accuracy, 0), samples: r.samples };
  } catch (err) {
    return failed(env, e.job, 'evaluate', e.round, err);
  }
}

/** `aggregate`: the host's inputs blob, every submission in it, and the base; aggregated in the listed order. */
export async function runAggregate(env: EffectEnv, e: AggregateEffect): Promise<Input> {
  const started = performance.now();
  try {
    const node = env.tree.jobs.get(e.job)!;
    const host = env.peers.peerOf(node.host);
    if (!(await env.blobs.fetch(e.inputs, [host], { maxBytes: MAX_JSON_BLOB_BYTES, signal: env.signal }))) throw new Error('inputs blob not available from the host');
    const entries = InputsBlob.parse(await env.blobs.getJson(e.inputs.hash));
    const limit = env.compute.paramsLimit(e.model);
    const wanted = [
      env.blobs.fetch(e.base, peersOf(env, globalProviders(env.tree, e.job, node.host)), { maxBytes: limit, signal: env.signal }),
      ...entries.map((x) => env.blobs.fetch(x.ref, peersOf(env, inputProviders(env.tree, e.job, x.client)), { maxBytes: limit, signal: env.signal })),
    ];
    const got = await Promise.all(wanted);
    if (got.some((ok) => !ok)) throw new Error(`${got.filter((ok) => !ok).length} of ${got.length} parameter blobs could not be fetched`);
    const base = await env.blobs.store.get(e.base.hash);
    const inputs: AggregateInput[] = [];
    for (const x of entries) inputs.push({ memberId: x.client, params: await env.blobs.store.get(x.ref.hash), weight: x.samples });
    const params = await env.compute.aggregate({ stateKey: `${env.tree.rootId}/${e.job}`, model: e.model, aggregator: e.aggregator, base, inputs }, { signal: env.signal });
    const ref = await env.blobs.store.put(params);
    done(env, e.job, 'aggregate', e.round, started);
    return { type: 'aggregated', job: e.job, round: e.round, attempt: e.attempt, ref };
  } catch (err) {
    return failed(env, e.job, 'aggregate', e.round, err);
  }
}

/** `initParams`: a fresh model from the manifest's seed (step 5). */
export async function runInitParams(env: EffectEnv, e: InitParamsEffect): Promise<Input> {
  const started = performance.now();
  try {
    const ref = await env.blobs.store.put(await env.compute.initParams({ model: e.model, seed: e.seed }, { signal: env.signal }));
    done(env, e.job, 'initParams', 0, started);
    return { type: 'initialized', job: e.job, ref };
  } catch (err) {
    return failed(env, e.job, 'initParams', 0, err);
  }
}

function done(env: EffectEnv, job: string, task: 'train' | 'evaluate' | 'aggregate' | 'initParams', round: number, started: number): void {
  const ms = Math.round(performance.now() - started);
  env.log.info({ job, task, round, ms }, 'task done');
  env.events.emit('task:done', { rootId: env.tree.rootId, job, task, round, ms });
}

function failed(env: EffectEnv, job: string, task: 'train' | 'evaluate' | 'aggregate' | 'initParams', round: number, err: unknown): Input {
  const reason = (err as Error).message ?? String(err);
  env.log.warn({ job, task, round, err: reason }, 'task failed');
  return { type: 'taskFailed', job, task, round, reason };
}

// A diverged model can report NaN; the submit schema wants numbers, and a NaN must not
// make an honest client's submission undecodable.
function finite(x: number, fallback: number): number {
  return Number.isFinite(x) ? x : fallback;
}
