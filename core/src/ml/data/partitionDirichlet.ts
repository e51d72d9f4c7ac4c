import type { Rng } from '../../util/index.js';
import { apportion } from './apportion.js';
import { dirichletShares } from './dirichletShares.js';
import { indicesByClass } from './indicesByClass.js';

/**
 * Label skew by Dirichlet(alpha), as in Hsu et al. (2019): for each class, draw client shares
 * p ~ Dir(alpha, …, alpha) and deal that class's shuffled samples out in those proportions.
 * Small alpha concentrates each class on few clients; large alpha approaches IID.
 *
 * Every client is guaranteed at least one sample: after the draw, each empty client (in
 * index order) takes one randomly chosen sample from the client that currently holds the
 * most. This moves at most `clients` samples, touches only the largest parts, and, unlike
 * redrawing until no part is empty, always terminates however small alpha is.
 */
export function partitionDirichlet(labels: Int32Array, numClasses: number, clients: number, alpha: number, rng: Rng): Int32Array[] {
  const parts: number[][] = Array.from({ length: clients }, () => []);
  for (const members of indicesByClass(labels, numClasses)) {
    // Drawn even for an empty class, so the random stream does not depend on which classes are present.
    const shares = dirichletShares(rng, alpha, clients);
    rng.shuffle(members);
    const counts = apportion(members.length, shares);
    let at = 0;
    counts.forEach((n, c) => {
      for (let j = 0; j < n; j++) parts[c]!.push(members[at++]!);
    });
  }
  fillEmptyParts(parts, rng);
  return parts.map((p) => Int32Array.from(p));
}

/** Gives each empty part one random sample of the currently largest part (lowest index on ties). */
function fillEmptyParts(parts: number[][], rng: Rng): void {
  for (const empty of parts) {
    if (empty.length > 0) continue;
    let donor = parts[0]!;
    for (const p of parts) if (p.length > donor.length) donor = p;
    const j = rng.int(donor.length);
    empty.push(donor[j]!);
    donor[j] = donor[donor.length - 1]!;
    donor.pop();
  }
}
