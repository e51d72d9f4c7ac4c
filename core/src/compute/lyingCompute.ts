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
    loadData: (task, o) => inner.loadData(task, o),
    initParams: (task, o) => inner.initParams(task, o),
    train: (task, o) => inner.train(task, o),
    evaluate: (task, o) => inner.evaluate(task, o),
    aggregate: async (task, o) => {
      const { stateKey, base, inputs } = task;
      await inner.aggregate(task, o);
      // State keys are `<rootId>/<job>`; the lie keeps a server state of its own per job.
      const job = stateKey.slice(stateKey.indexOf('/') + 1);
      opts.log?.warn({ job }, 'fault injection: voting a wrong aggregate');
      return inputs.length > 1 ? inner.aggregate({ ...task, stateKey: `lie/${job}`, inputs: inputs.slice(0, -1) }, o) : base;
    },
    prepareChunks: (task, o) => inner.prepareChunks(task, o),
    paramsLimit: (model) => inner.paramsLimit(model),
    stop: () => inner.stop(),
  };
}
