import type { Invitation } from '../api/types';

// Plain-language descriptions of what a job asks for, for owners who are not ML engineers.

const modelNames: Record<Invitation['model']['kind'], string> = {
  logreg: 'Logistic regression',
  mlp: 'Multilayer perceptron',
  '2nn': 'Two-layer network (2NN)',
  cnn: 'Convolutional network',
  'mcmahan-cnn': 'McMahan CNN',
};

/** "Multilayer perceptron · 784 → 10 classes". */
export function describeModel(m: Invitation['model']): string {
  return `${modelNames[m.kind]} · ${m.inputShape.join('×')} → ${m.numClasses} classes`;
}

const partitions: Record<Invitation['dataset']['partition']['kind'], string> = { iid: 'an even (IID) share', dirichlet: 'a label-skewed share', shards: 'a few-classes share', quantity: 'a size-skewed share' };

/** "an even (IID) share (1 of 4) of MNIST digits". */
export function describeDataset(d: Invitation['dataset']): string {
  const src = d.source.kind === 'mnist' ? 'MNIST digits' : d.source.kind === 'fashion-mnist' ? 'Fashion-MNIST' : `CSV table ${d.source.path}`;
  const shard = d.shard ? ` (${d.shard.index + 1} of ${d.shard.of})` : '';
  return `${partitions[d.partition.kind]}${shard} of ${src}`;
}
