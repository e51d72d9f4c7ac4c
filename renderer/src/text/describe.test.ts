import { describe, expect, it } from 'vitest';
import { describeModel, describePrivacy } from './describe';

describe('describeModel', () => {
  it("says a job's own model's layers and parameters, and a built-in's kind", () => {
    const topology = {
      class_name: 'Sequential',
      config: { layers: [{ class_name: 'Flatten', config: { name: 'flat', batch_input_shape: [null, 28, 28, 1] } }, { class_name: 'Dense', config: { name: 'out', units: 10, activation: 'softmax' } }] },
    };
    expect(describeModel({ kind: 'keras', inputShape: [28, 28, 1], numClasses: 10, topology })).toBe('Keras model (3 layers, 7,850 parameters) · 28×28×1 → 10 classes');
    expect(describeModel({ kind: 'mlp', inputShape: [784], numClasses: 10 })).toBe('Multilayer perceptron · 784 → 10 classes');
  });
});

describe('describePrivacy', () => {
  it.each([
    ['no privacy', undefined, /^Not used: the cluster passes on its combined update without added noise\.$/],
    ['DP without a budget', { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } }, /^Yes\. Each client's update is cut down to size 1, and random noise \(1\.1× that size\).*δ = 0\.00001\. No limit on ε is set: it grows with every round\.$/],
    ['DP with a budget', { dp: { clip: 0.5, noiseMultiplier: 2, delta: 1e-6, budget: 8 } }, /^Yes\. .*δ = 0\.000001\. The job stops before ε would pass 8\.$/],
  ] as const)('%s', (_name, privacy, dp) => {
    const text = describePrivacy(privacy);
    expect(text.dp).toMatch(dp);
    expect(text.secureAggregation).toBe("Not used: the cluster's workers see each client's model update (never its data).");
  });
});
