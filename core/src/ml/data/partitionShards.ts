import { BadInputError, type Rng } from '../../util/index.js';
import { indicesByClass } from './indicesByClass.js';

/**
 * Pathological non-IID shards, after McMahan et al. (2017): samples are sorted by label, cut
 * into clients × classesPerClient shards, and each client is dealt classesPerClient shards at
 * random. McMahan cut the sorted list into equal shards, which lets a shard straddle two
 * classes; here each class is cut into its own shards instead, so that no client ever holds
 * more than classesPerClient classes. Classes get shards in proportion to their size (at
 * least one each), by repeatedly giving the next shard to the class whose shards are
 * currently largest, which keeps shard sizes as even as the class sizes allow.
 */
export function partitionShards(labels: Int32Array, numClasses: number, clients: number, classesPerClient: number, rng: Rng): Int32Array[] {
  const classes = indicesByClass(labels, numClasses).filter((ix) => ix.length > 0);
  const totalShards = clients * classesPerClient;
  if (totalShards < classes.length) {
    throw new BadInputError(
      `shards partition: ${clients} client(s) × ${classesPerClient} class(es) per client = ${totalShards} shard(s) cannot hold ` +
        `the ${classes.length} classes present without mixing classes in a shard; raise classesPerClient or the number of clients`,
    );
  }
  if (labels.length < totalShards) {
    throw new BadInputError(
      `shards partition: ${labels.length} sample(s) cannot fill ${totalShards} shards (${clients} client(s) × ${classesPerClient}); ` +
        'lower classesPerClient or the number of clients',
    );
  }
  const shardsPerClass = classes.map(() => 1);
  for (let given = classes.length; given < totalShards; given++) {
    let best = 0;
    for (let k = 1; k < classes.length; k++) {
      if (classes[k]!.length * shardsPerClass[best]! > classes[best]!.length * shardsPerClass[k]!) best = k;
    }
    // The chosen class's samples-per-shard is the largest and, as count >= totalShards, above 1,
    // so it can take another shard and no shard is ever empty.
    shardsPerClass[best]! += 1;
  }
  const shards: number[][] = [];
  classes.forEach((members, k) => {
    rng.shuffle(members);
    const s = shardsPerClass[k]!;
    for (let j = 0; j < s; j++) {
      shards.push(members.slice(Math.floor((j * members.length) / s), Math.floor(((j + 1) * members.length) / s)));
    }
  });
  rng.shuffle(shards);
  return Array.from({ length: clients }, (_, c) =>
    Int32Array.from(shards.slice(c * classesPerClient, (c + 1) * classesPerClient).flat()),
  );
}
