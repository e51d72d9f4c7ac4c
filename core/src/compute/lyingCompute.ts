import type { Log } from '../util/log.js';
import type { ComputeBackend } from './computeBackend.js';

/**
 * Fault injection, for tests of the protocol's defences and the simulator's fidelity mode: a
 * backend that, as a worker, votes a wrong but well-formed aggregate. It aggregates honestly
 * first (so a stateful aggregator's server state moves as everyone else's does), then returns
 * the aggregate without the last input, or the base when there is only one. No node uses it
 * unless it is built with it (`canopy node --fault lie-aggregate`, hidden, for the e2e tests).
 * In an artifact job it sits under the artifact backend, so it lies about a train step's
 * weights; analytics answers are merged by the artifact backend itself.
 */
export function lyingCompute(inner: ComputeBackend, opts: { readonly log?: Log } = {}): ComputeBackend {
  return {
    kind: inner.kind,
    loadData: (key, source, owner, o) => inner.loadData(key, source, owner, o),
    initParams: (model, seed, o) => inner.initParams(model, seed, o),
    train: (key, model, train, global, seed, o) => inner.train(key, model, train, global, seed, o),
    evaluate: (key, model, params, o) => inner.evaluate(key, model, params, o),
    aggregate: async (stateKey, model, aggregator, base, inputs, o) => {
      await inner.aggregate(stateKey, model, aggregator, base, inputs, o);
      // State keys are `<rootId>/<job>`; the lie keeps a server state of its own per job.
      const job = stateKey.slice(stateKey.indexOf('/') + 1);
      opts.log?.warn({ job }, 'fault injection: voting a wrong aggregate');
      return inputs.length > 1 ? inner.aggregate(`lie/${job}`, model, aggregator, base, inputs.slice(0, -1), o) : base;
    },
    prepareChunks: (dataset, partition, seed, shards, o) => inner.prepareChunks(dataset, partition, seed, shards, o),
    paramsLimit: (model) => inner.paramsLimit(model),
    stop: () => inner.stop(),
  };
}
