// Coordinates handled per block when robust aggregators gather one coordinate from every
// input: the block's inputs × coordinates stay in cache while each column is sorted.
const BLOCK = 512;

/**
 * Calls `reduce(column, i)` for every coordinate i, where `column` holds coordinate i of
 * every vector (in vector order), then sorted ascending. The column is scratch space that
 * is overwritten for the next coordinate. Sorting is by numeric value with −0 before +0
 * (TypedArray sort), which is fully determined for finite values.
 */
export function forEachSortedColumn(vectors: readonly Float32Array[], length: number, reduce: (column: Float64Array, i: number) => void): void {
  const n = vectors.length;
  const block = new Float64Array(n * BLOCK);
  for (let start = 0; start < length; start += BLOCK) {
    const width = Math.min(BLOCK, length - start);
    // transpose: read each input sequentially, write its values into every column
    for (let k = 0; k < n; k++) {
      const v = vectors[k]!;
      for (let j = 0; j < width; j++) block[j * n + k] = v[start + j]!;
    }
    for (let j = 0; j < width; j++) {
      const column = block.subarray(j * n, j * n + n);
      sortSmall(column);
      reduce(column, start + j);
    }
  }
}

// Insertion sort for short columns (the usual handful of workers' inputs), TypedArray sort
// otherwise; both put −0 before +0 so the order is the same either way.
function sortSmall(a: Float64Array): void {
  if (a.length > 24) {
    a.sort();
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && before(v, a[j]!)) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

function before(a: number, b: number): boolean {
  return a < b || (a === 0 && b === 0 && Object.is(a, -0) && Object.is(b, 0));
}
