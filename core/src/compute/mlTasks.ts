import type { BackendInfo, BackendPreference, DataSplit } from '../ml/index.js';
import { createAggregator, decodeParams, encodeParams, initBackend, loadDataset, splitForMembers, type ServerState } from '../ml/index.js';
import { BadInputError, throwIfAborted } from '../util/errors.js';
import type { TaskHandler } from './serveTasks.js';
import { trainTaskHandlers } from './trainTasks.js';
import type { DataSource, MlTasks } from './mlTaskTypes.js';

// The handlers a compute thread runs: training's (shared with the GPU window) and
// aggregation, which keeps each job's server-optimiser state on the thread.

/** Builds the task handlers for one compute thread. */
export function mlTaskHandlers(backend: BackendPreference = 'auto'): Record<keyof MlTasks, TaskHandler> {
  let started: Promise<BackendInfo> | undefined;
  const ready = () => (started ??= initBackend(backend));
  // Server optimiser states, per aggregation key.
  const serverStates = new Map<string, ServerState | undefined>();
  return {
    ...trainTaskHandlers({ ready, loadLocal: loadLocalShard }),
    aggregate: async ({ stateKey, model, aggregator, base, inputs }: MlTasks['aggregate']['payload'], _progress, signal) => {
      await ready();
      const global = decodeParams(base, model).params;
      const agg = createAggregator(aggregator, { global, ...(serverStates.get(stateKey) ? { serverState: serverStates.get(stateKey)! } : {}) });
      // Inputs arrive sorted by member id (protocol step 7); decode each straight into
      // aggregator memory so the hot loop reads it without another copy. Inputs with unusable
      // values are not errors here: they come back in `rejected`, the same on every worker.
      for (const input of inputs) {
        // Checked per input, as training checks per batch; an aborted aggregation keeps no state.
        throwIfAborted(signal, 'aggregation');
        const decoded = decodeParams(input.params, model).params;
        const slot = agg.allocate();
        slot.set(decoded);
        agg.add({ memberId: input.memberId, params: slot, weight: input.weight });
      }
      const r = agg.finish();
      serverStates.set(stateKey, r.serverState);
      const bytes = encodeParams(model, r.params);
      return { result: { params: bytes, inputs: r.inputs, totalWeight: r.totalWeight, rejected: [...r.rejected] }, transfer: [bytes.buffer as ArrayBuffer] };
    },
  };
}

// A member training on its own copy of a public dataset: it derives the same split every
// member derives from the manifest, and keeps its own shard.
async function loadLocalShard(source: Extract<DataSource, { kind: 'local' }>): Promise<DataSplit> {
  const full = await loadDataset(source.dataset, { seed: source.seed });
  const names = Array.from({ length: source.shard.of }, (_, i) => String(i));
  const parts = splitForMembers(full, names, source.partition, source.seed);
  const mine = parts.get(String(source.shard.index));
  if (!mine) throw new BadInputError(`shard ${source.shard.index} of ${source.shard.of} does not exist`);
  return mine;
}
