import { BadInputError, Rng } from '../../util/index.js';
import type { PartitionSpec } from '../../spec/ml.js';
import { partitionDirichlet } from './partitionDirichlet.js';
import { partitionIid } from './partitionIid.js';
import { partitionQuantity } from './partitionQuantity.js';
import { partitionShards } from './partitionShards.js';

/**
 * Splits a dataset among `clients` as `spec` says, returning each client's sample indices
 * (ascending). The result is a pure function of its arguments: the same seed gives the same
 * parts on every machine. Every index in 0..labels.length-1 appears in exactly one part, and
 * every part is non-empty.
 */
export function partition(labels: Int32Array, numClasses: number, clients: number, spec: PartitionSpec, seed: number): Int32Array[] {
  if (!Number.isInteger(clients) || clients < 1) {
    throw new BadInputError(`partition: the number of clients must be a positive integer, got ${clients}`);
  }
  if (labels.length < clients) {
    throw new BadInputError(
      `partition: ${labels.length} sample(s) cannot give each of ${clients} clients at least one; use fewer clients or more data`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new BadInputError(`partition: numClasses must be a positive integer, got ${numClasses}`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) throw new BadInputError(`partition: label ${y} of sample ${i} is outside 0..${numClasses - 1}`);
  }
  // A stream per strategy, so that e.g. an iid and a quantity split of one seed are unrelated.
  const rng = Rng.fromSeed(seed).fork(`partition:${spec.kind}`);
  // Ascending order makes the output canonical and gives subset() sequential reads; the
  // order carries no information, since training shuffles anyway.
  return split(labels, numClasses, clients, spec, rng).map((p) => p.sort());
}

function split(labels: Int32Array, numClasses: number, clients: number, spec: PartitionSpec, rng: Rng): Int32Array[] {
  switch (spec.kind) {
    case 'iid':
      return partitionIid(labels.length, clients, rng);
    case 'dirichlet':
      return partitionDirichlet(labels, numClasses, clients, spec.alpha, rng);
    case 'shards':
      return partitionShards(labels, numClasses, clients, spec.classesPerClient, rng);
    case 'quantity':
      return partitionQuantity(labels.length, clients, spec.alpha, rng);
  }
}
