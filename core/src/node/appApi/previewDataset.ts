import type { LabeledData } from '../../ml/types.js';
import type { DatasetPreview, LocalDataset, SampleImage } from './contract.js';

/** How many example images a preview shows per class, and in all. */
const PER_CLASS = 2;
const MAX_IMAGES = 20;

/**
 * Summarises a labelled dataset for the owner: a label histogram and a few images (one or two
 * per class), so they can see what they are about to train on before approving. Pure.
 */
export function summariseDataset(name: string, data: LabeledData): DatasetPreview {
  const histogram = new Array<number>(data.numClasses).fill(0);
  for (let i = 0; i < data.count; i++) histogram[data.labels[i]!] = (histogram[data.labels[i]!] ?? 0) + 1;
  return { name, samples: data.count, classes: data.numClasses, histogram, images: sampleImages(data) };
}

/** Loads a local dataset (Node only) and summarises its training part. */
export async function previewDataset(source: LocalDataset, signal?: AbortSignal): Promise<DatasetPreview> {
  // Imported lazily: the loaders pull in file readers the UI server does not otherwise need.
  const { loadDataset } = await import('../../ml/data/loadDataset.js');
  const split = await loadDataset(source, signal ? { signal } : {});
  return summariseDataset(split.name, split.train);
}

function sampleImages(data: LabeledData): SampleImage[] {
  const side = imageSide(data.sampleShape);
  if (side === undefined) return [];
  const size = side.width * side.height;
  const taken = new Array<number>(data.numClasses).fill(0);
  const images: SampleImage[] = [];
  for (let i = 0; i < data.count && images.length < MAX_IMAGES; i++) {
    const label = data.labels[i]!;
    if ((taken[label] ?? 0) >= PER_CLASS) continue;
    taken[label] = (taken[label] ?? 0) + 1;
    const bytes = new Uint8Array(size);
    const features = data.features.subarray(i * size, (i + 1) * size);
    // Features are scaled to [0, 1]; clamp so a standardised table cannot wrap around.
    for (let p = 0; p < size; p++) bytes[p] = Math.round(Math.min(1, Math.max(0, features[p]!)) * 255);
    images.push({ label, width: side.width, height: side.height, pixels: Buffer.from(bytes).toString('base64') });
  }
  return images.sort((a, b) => a.label - b.label);
}

/** The image size of a sample shape, if it is a grayscale image ([h, w], [h, w, 1] or a square [n]). */
function imageSide(shape: readonly number[]): { width: number; height: number } | undefined {
  if ((shape.length === 2 || (shape.length === 3 && shape[2] === 1)) && shape[0]! <= 256 && shape[1]! <= 256) return { height: shape[0]!, width: shape[1]! };
  if (shape.length === 1) {
    const n = Math.round(Math.sqrt(shape[0]!));
    // Only a perfect square of a plausible image size; a 16-feature table is not a 4x4 picture.
    if (n * n === shape[0] && n >= 8 && n <= 256) return { width: n, height: n };
  }
  return undefined;
}
