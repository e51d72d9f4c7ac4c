/** One client's share of a partition. */
export interface ClientStats {
  readonly client: number;
  readonly count: number;
  /** Samples per class. */
  readonly histogram: readonly number[];
  /** Number of classes with at least one sample. */
  readonly classes: number;
}

/** A partition summarised for reports. */
export interface PartitionStats {
  readonly clients: readonly ClientStats[];
  readonly total: number;
  readonly minCount: number;
  readonly maxCount: number;
  readonly meanCount: number;
  /**
   * Label skew: the mean over clients of the total-variation distance between the client's
   * label distribution and the whole dataset's, in [0, 1]. About 0 for IID, near 1 when each
   * client holds one rare class.
   */
  readonly labelSkew: number;
}

/** Per-client sizes and label histograms of a partition, plus summary numbers. */
export function partitionStats(parts: readonly ArrayLike<number>[], labels: Int32Array, numClasses: number): PartitionStats {
  const global = new Array<number>(numClasses).fill(0);
  const clients = parts.map((part, client) => {
    const histogram = new Array<number>(numClasses).fill(0);
    for (let j = 0; j < part.length; j++) {
      const y = labels[part[j]!];
      if (y === undefined || histogram[y] === undefined) throw new RangeError(`partitionStats: part ${client} has index ${part[j]} with no valid label`);
      histogram[y]++;
      global[y]!++;
    }
    return { client, count: part.length, histogram, classes: histogram.filter((n) => n > 0).length };
  });
  const total = clients.reduce((a, c) => a + c.count, 0);
  const counts = clients.map((c) => c.count);
  const tv = (h: readonly number[], n: number): number =>
    n === 0 ? 0 : h.reduce((a, x, k) => a + Math.abs(x / n - global[k]! / total), 0) / 2;
  return {
    clients,
    total,
    // reduce, not Math.min(...), which overflows the call stack for very many clients.
    minCount: counts.length ? counts.reduce((a, b) => Math.min(a, b)) : 0,
    maxCount: counts.length ? counts.reduce((a, b) => Math.max(a, b)) : 0,
    meanCount: counts.length ? total / counts.length : 0,
    labelSkew: clients.length ? clients.reduce((a, c) => a + tv(c.histogram, c.count), 0) / clients.length : 0,
  };
}
