/** Sample indices grouped by label, ascending within each class; throws RangeError on a label outside 0..numClasses-1. */
export function indicesByClass(labels: Int32Array, numClasses: number): number[][] {
  const groups: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const g = groups[y];
    if (g === undefined) throw new RangeError(`label ${y} at index ${i} is outside 0..${numClasses - 1}`);
    g.push(i);
  }
  return groups;
}
