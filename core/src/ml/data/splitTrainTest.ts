import { BadInputError, Rng } from '../../util/index.js';
import type { LabeledData } from '../types.js';
import { apportion } from './apportion.js';
import { indicesByClass } from './indicesByClass.js';
import { subset } from './subset.js';

/** A dataset cut in two disjoint parts. */
export interface TrainTest {
  readonly train: LabeledData;
  readonly test: LabeledData;
}

/**
 * Seeded, stratified train/test split: the test part takes round(count × testFraction)
 * samples (at least one, and leaving at least one for training), spread over the classes in
 * proportion to their sizes, so both parts keep the dataset's label distribution. Within each
 * class the samples are chosen at random. Both parts come out in shuffled order, because
 * source files are often grouped by class and a consumer that forgets to shuffle would
 * otherwise train on one class at a time.
 */
export function splitTrainTest(data: LabeledData, testFraction: number, seed: number, source = 'dataset'): TrainTest {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new BadInputError(`${source}: testFraction must be strictly between 0 and 1, got ${testFraction}`);
  }
  if (data.count < 2) {
    throw new BadInputError(`${source}: has ${data.count} sample(s); a train/test split needs at least 2`);
  }
  const rng = Rng.fromSeed(seed).fork('splitTrainTest');
  const byClass = indicesByClass(data.labels, data.numClasses);
  const testTotal = Math.min(data.count - 1, Math.max(1, Math.round(data.count * testFraction)));
  const testPerClass = apportion(
    testTotal,
    byClass.map((ix) => ix.length),
  );
  const train: number[] = [];
  const test: number[] = [];
  byClass.forEach((ix, c) => {
    rng.shuffle(ix);
    const k = testPerClass[c]!;
    for (let j = 0; j < ix.length; j++) (j < k ? test : train).push(ix[j]!);
  });
  rng.shuffle(train);
  rng.shuffle(test);
  return { train: subset(data, train), test: subset(data, test) };
}
