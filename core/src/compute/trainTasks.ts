import type { BackendInfo } from '../ml/backend.js';
import { decodeDataChunk } from '../ml/dataChunk.js';
import { createModel, getParams, initialParams, setParams, type Model } from '../ml/models.js';
import { decodeParams, encodeParams } from '../ml/params.js';
import type { ModelSpec } from '../spec/ml.js';
import { evaluate, trainLocal } from '../ml/train.js';
import type { DataSplit } from '../ml/types.js';
import { hashJson } from '../util/hash.js';
import { BadInputError } from '../util/errors.js';
import type { DataSource, MlTasks } from './mlTaskTypes.js';
import type { TaskHandler } from './serveTasks.js';

/** The tasks that need only tfjs and a member's loaded data: what a GPU window can run. */
export type TrainTaskKind = 'loadData' | 'dropData' | 'initParams' | 'train' | 'evaluate';

/** Options of {@link trainTaskHandlers}. */
export interface TrainTaskInit {
  /** Starts the tfjs backend once; every task awaits it. */
  readonly ready: () => Promise<BackendInfo>;
  /** Loads a `local` data source; without it only `chunk` sources load (a browser has no files). */
  readonly loadLocal?: (source: Extract<DataSource, { kind: 'local' }>) => Promise<DataSplit>;
}

/**
 * The handlers of loading, training and evaluating on one thread or window. They import
 * nothing of Node.js, so a compute thread (mlTasks) and the desktop app's GPU window run the
 * very same code and differ only in the tfjs backend `ready` starts.
 */
export function trainTaskHandlers({ ready, loadLocal }: TrainTaskInit): Record<TrainTaskKind, TaskHandler> {
  const data = new Map<string, DataSplit>();
  const models = new Map<string, Model>();
  const modelFor = async (spec: ModelSpec) => {
    await ready();
    const key = hashJson(spec);
    let m = models.get(key);
    if (!m) {
      m = createModel(spec, 0);
      models.set(key, m);
    }
    return m;
  };
  const dataFor = (key: string) => {
    const d = data.get(key);
    if (!d) throw new BadInputError(`no data loaded under "${key}" in this compute thread; load it first`);
    return d;
  };
  const out = (bytes: Uint8Array) => ({ result: { params: bytes }, transfer: [bytes.buffer as ArrayBuffer] });

  return {
    loadData: async ({ key, source }: MlTasks['loadData']['payload']) => {
      if (source.kind === 'local' && !loadLocal) throw new BadInputError(`data under "${key}" must come as a chunk here: this compute target reads no local files`);
      const split = source.kind === 'chunk' ? decodeDataChunk(source.bytes) : await loadLocal!(source);
      data.set(key, split);
      return { result: { train: split.train.count, test: split.test.count, name: split.name } };
    },
    dropData: ({ key }: MlTasks['dropData']['payload']) => ({ result: { dropped: data.delete(key) } }),
    initParams: async ({ model, seed }: MlTasks['initParams']['payload']) => {
      await ready();
      return out(encodeParams(model, initialParams(model, seed)));
    },
    train: async ({ key, model, train, global, seed }: MlTasks['train']['payload'], progress, signal) => {
      const d = dataFor(key);
      const m = await modelFor(model);
      const g = decodeParams(global, model).params;
      setParams(m, g);
      const r = await trainLocal(m, d.train, { ...train, seed }, {
        globalParams: train.mu > 0 ? g : undefined,
        onProgress: (p) => progress(p),
        signal,
      });
      const bytes = encodeParams(model, getParams(m));
      return { result: { params: bytes, samples: r.samples, loss: r.loss, accuracy: r.accuracy, samplesPerSec: r.samplesPerSec, backend: (await ready()).name }, transfer: [bytes.buffer as ArrayBuffer] };
    },
    evaluate: async ({ key, model, params }: MlTasks['evaluate']['payload'], _progress, signal) => {
      const d = dataFor(key);
      const m = await modelFor(model);
      setParams(m, decodeParams(params, model).params);
      const r = await evaluate(m, d.test, { signal });
      return { result: { loss: r.loss, accuracy: r.accuracy, samples: r.samples } };
    },
  };
}
