import type { Invitation } from '../api/types';
import { kerasSummary } from '../api/modelSummary';

// Plain-language descriptions of what a job asks for, for owners who are not ML engineers.

const modelNames: Record<Invitation['model']['kind'], string> = {
  logreg: 'Logistic regression',
  mlp: 'Multilayer perceptron',
  '2nn': 'Two-layer network (2NN)',
  cnn: 'Convolutional network',
  'mcmahan-cnn': 'McMahan CNN',
  keras: 'Keras model',
};

/** "Multilayer perceptron · 784 → 10 classes"; a job's own model: "Keras model (9 layers, 61,706 parameters) · 28×28×1 → 10 classes". */
export function describeModel(m: Invitation['model']): string {
  const own = kerasSummary(m);
  const size = own === undefined ? '' : ` (${own.layers} layers, ${own.params.toLocaleString('en')} parameters)`;
  return `${modelNames[m.kind]}${size} · ${m.inputShape.join('×')} → ${m.numClasses} classes`;
}

const partitions: Record<Invitation['dataset']['partition']['kind'], string> = { iid: 'an even (IID) share', dirichlet: 'a label-skewed share', shards: 'a few-classes share', quantity: 'a size-skewed share' };

/** "an even (IID) share (1 of 4) of MNIST digits". */
export function describeDataset(d: Invitation['dataset']): string {
  const src = d.source.kind === 'mnist' ? 'MNIST digits' : d.source.kind === 'fashion-mnist' ? 'Fashion-MNIST' : `CSV table ${d.source.path}`;
  const shard = d.shard ? ` (${d.shard.index + 1} of ${d.shard.of})` : '';
  return `${partitions[d.partition.kind]}${shard} of ${src}`;
}

/**
 * What the job does to keep a data owner's contribution private, in words: whether its
 * cluster adds differential-privacy noise (with ε and δ explained) and that secure aggregation
 * is not used, so the cluster's workers see each update.
 */
export function describePrivacy(p: Invitation['privacy']): { dp: string; secureAggregation: string } {
  const secureAggregation = "Not used: the cluster's workers see each client's model update (never its data).";
  if (!p) return { dp: 'Not used: the cluster passes on its combined update without added noise.', secureAggregation };
  const d = p.dp;
  const budget =
    d.budget === undefined
      ? 'No limit on ε is set: it grows with every round.'
      : `The job stops before ε would pass ${d.budget}.`;
  return {
    dp:
      `Yes. Each client's update is cut down to size ${d.clip}, and random noise (${d.noiseMultiplier}× that size) is added to the cluster's sum before it leaves the cluster, ` +
      `so what others learn from the model about any one participant is bounded by ε (smaller is more private; under 1 is strong, 10 is weak) except with probability δ = ${d.delta}. ${budget}`,
    secureAggregation,
  };
}
