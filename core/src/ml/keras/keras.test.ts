import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, UnsupportedError } from '../../util/errors.js';
import { initBackend } from '../backend.js';
import { loadMnist } from '../data/loadMnist.js';
import { paramCount, paramLayout } from '../layout.js';
import { createModel, getParams, initialParams, setParams } from '../models.js';
import { decodeParams, encodeParams } from '../params.js';
import { chooseEngine, evaluate, trainLocal } from '../train.js';
import { analyzeKeras } from '../../spec/keras/topology.js';
import { ModelSpec, type TrainSpec } from '../../spec/ml.js';
import type { DataSplit } from '../types.js';

const example = (file: string): Record<string, unknown> =>
  (JSON.parse(readFileSync(new URL(`../../../../examples/models/${file}`, import.meta.url), 'utf8')) as { modelTopology: Record<string, unknown> }).modelTopology;
const lenet = example('lenet5.json');
const resnet = example('resnet-small.json');
const spec = (topology: Record<string, unknown>): ModelSpec => ({ kind: 'keras', inputShape: [28, 28, 1], numClasses: 10, topology });
const sgd: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 3 };

let mnist: DataSplit;
beforeAll(async () => {
  await initBackend('wasm');
  mnist = await loadMnist({ seed: 1 });
});

describe('keras topologies', () => {
  it.each([
    ['lenet5', lenet, 61_706, 10],
    ['resnet-small', resnet, 2_618, 14],
  ] as const)('%s: the layout is the weights tfjs builds, in order, and the count tfjs counts', (_, topology, params, tensors) => {
    const s = spec(topology);
    expect(paramCount(s)).toBe(params);
    expect(paramLayout(s)).toHaveLength(tensors);
    const model = createModel(s, 1);
    try {
      expect(model.variables.map((v) => v.shape)).toEqual(paramLayout(s).map((p) => p.shape));
      expect(getParams(model)).toEqual(initialParams(s, 1));
      const x = tf.zeros([2, 784]);
      const logits = model.logits(x);
      expect(logits.shape).toEqual([2, 10]);
      tf.dispose([x, logits]);
    } finally {
      model.dispose();
    }
  });

  it('residual CNN: BatchNormalization moving statistics are parameters but not trained by gradients', () => {
    const model = createModel(spec(resnet), 1);
    try {
      const names = paramLayout(spec(resnet)).map((p) => p.name);
      expect(names.filter((n) => n.startsWith('res_bn/'))).toEqual(['res_bn/gamma', 'res_bn/beta', 'res_bn/moving_mean', 'res_bn/moving_variance']);
      expect(model.trainable).toHaveLength(model.variables.length - 2);
    } finally {
      model.dispose();
    }
  });

  it.each([
    ['lenet5', lenet],
    ['resnet-small', resnet],
  ] as const)('%s trains on MNIST through trainLocal (tfjs engine), deterministically, and evaluation improves', async (name, topology) => {
    const s = spec(topology);
    const train = { ...mnist.train, count: 1024, features: mnist.train.features.subarray(0, 1024 * 784), labels: mnist.train.labels.subarray(0, 1024) };
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const model = createModel(s, 7);
      try {
        const before = await evaluate(model, mnist.test);
        // The residual CNN is small (2,618 parameters, global pooling): Adam gets it moving in two epochs.
        const optimizer = name === 'lenet5' ? sgd.optimizer : ({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const);
        const r = await trainLocal(model, train, { ...sgd, optimizer, epochs: 2 });
        const after = await evaluate(model, mnist.test);
        runs.push({ before, after, r, engine: r.engine, params: getParams(model) });
      } finally {
        model.dispose();
      }
    }
    expect(runs[0]!.engine).toBe('tfjs');
    // The second epoch's training loss and accuracy (batch statistics in BatchNormalization)...
    expect(runs[0]!.r.loss).toBeLessThan(runs[0]!.before.loss - 0.04);
    expect(runs[0]!.r.accuracy).toBeGreaterThan(0.25);
    // ...and, for LeNet, the test set (the residual CNN's moving statistics need more steps than two epochs of 1,024 samples).
    if (name === 'lenet5') expect(runs[0]!.after.accuracy).toBeGreaterThan(runs[0]!.before.accuracy + 0.1);
    expect(runs[1]!.params).toEqual(runs[0]!.params);
  }, 120_000);

  it('chooseEngine falls back to tfjs for a keras model and says why; asking for fast is an error', () => {
    const model = createModel(spec(lenet), 1);
    try {
      expect(chooseEngine(model, sgd)).toEqual({ engine: 'tfjs', reason: 'a keras topology trains on tfjs' });
      expect(() => chooseEngine(model, sgd, 'fast')).toThrow(UnsupportedError);
    } finally {
      model.dispose();
    }
  });

  it('parameter blobs describe every tensor and refuse another topology', () => {
    const s = spec(lenet);
    const bytes = encodeParams(s, initialParams(s, 2));
    const decoded = decodeParams(bytes, s);
    expect(decoded.shapes).toEqual(paramLayout(s).map((p) => p.shape));
    expect(() => decodeParams(bytes, spec(resnet))).toThrow(/another model/);
    const model = createModel(s, 9);
    setParams(model, decoded.params);
    expect(getParams(model)).toEqual(initialParams(s, 2));
    model.dispose();
  });
});

/** A copy of a topology with `edit` applied to its JSON. */
function edited(topology: Record<string, unknown>, edit: (t: { config: { layers: Record<string, unknown>[] } }) => void): Record<string, unknown> {
  const copy = structuredClone(topology) as { config: { layers: Record<string, unknown>[] } };
  edit(copy);
  return copy as unknown as Record<string, unknown>;
}

describe('keras topologies that are refused, each with one line naming the layer', () => {
  const lambda = edited(lenet, (t) => {
    t.config.layers[4] = { class_name: 'Lambda', config: { name: 'evil', function: ['print(1)', null, null] } };
  });
  const custom = edited(resnet, (t) => {
    t.config.layers[3]!.class_name = 'MyResidual';
  });
  const lstm = edited(lenet, (t) => {
    t.config.layers[5]!.class_name = 'LSTM';
  });
  const regularised = edited(lenet, (t) => {
    (t.config.layers[5]!.config as Record<string, unknown>).kernel_regularizer = { class_name: 'L2', config: { l2: 0.01 } };
  });
  const shared = edited(resnet, (t) => {
    const l = t.config.layers.find((x) => x.name === 'res_conv1')!;
    l.inbound_nodes = [[['pool1', 0, 0, {}]], [['pool1', 0, 0, {}]]];
  });
  const sigmoidOut = edited(lenet, (t) => {
    (t.config.layers[7]!.config as Record<string, unknown>).activation = 'sigmoid';
  });
  const customActivation = edited(lenet, (t) => {
    (t.config.layers[5]!.config as Record<string, unknown>).activation = 'my_activation';
  });
  const tooSmall = edited(lenet, (t) => {
    (t.config.layers[2]!.config as Record<string, unknown>).kernel_size = [30, 30];
  });
  const huge = edited(lenet, (t) => {
    (t.config.layers[5]!.config as Record<string, unknown>).units = 100_000;
  });
  it.each([
    ['a Lambda layer', lambda, undefined, /layer 'evil' \(Lambda\): Lambda layers carry code/],
    ['an unknown (custom) layer class', custom, undefined, /layer 'res_conv1' \(MyResidual\): layer class 'MyResidual' is not allowed/],
    ['a recurrent layer', lstm, undefined, /layer 'f5' \(LSTM\): recurrent layers are not supported/],
    ['a regulariser', regularised, undefined, /layer 'f5' \(Dense\): 'kernel_regularizer' is set/],
    ['a shared layer', shared, undefined, /layer 'res_conv1' \(Conv2D\) is called 2 times/],
    ['a sigmoid output', sigmoidOut, undefined, /output layer 'output' ends in 'sigmoid'/],
    ['an unknown activation', customActivation, undefined, /layer 'f5' \(Dense\): activation 'my_activation' is not one of/],
    ['a kernel larger than its input', tooSmall, undefined, /layer 'c3' \(Conv2D\): a 30-wide window does not fit an input 14 wide/],
    ['too many parameters', huge, undefined, /more than the limit of 20000000/],
    ['an input that does not fit the data', lenet, { inputShape: [32, 32, 3], numClasses: 10 }, /input layer 'c1_input' takes \[28, 28, 1\] \(784 values\) but the data's samples are \[32, 32, 3\]/],
    ['a class count that does not fit the data', resnet, { inputShape: [28, 28, 1], numClasses: 4 }, /output layer 'output' gives 10 scores but the data has 4 classes/],
    ['not a model', { class_name: 'Adam', config: {} }, undefined, /class_name "Adam" is not a Keras model/],
  ] as const)('%s', (_, topology, fit, message) => {
    let error: unknown;
    try {
      analyzeKeras(topology, fit);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('a job manifest model spec with a bad topology fails validation with the layer named', () => {
    const r = ModelSpec.safeParse(spec(lambda));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['topology']);
    expect(r.error?.issues[0]?.message).toMatch(/layer 'evil' \(Lambda\)/);
    expect(ModelSpec.safeParse(spec(lenet)).success).toBe(true);
  });
});
