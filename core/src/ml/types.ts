/**
 * An in-memory labelled dataset. Samples are stored flat and row-major: sample i occupies
 * `features[i * sampleSize .. (i + 1) * sampleSize)`, where sampleSize is the product of
 * `sampleShape`. Pixel data is scaled to [0, 1].
 */
export interface LabeledData {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  /** Shape of one sample, e.g. [28, 28, 1] for images or [d] for a table row. */
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly count: number;
  readonly classNames?: readonly string[];
}

/** A dataset's train and test parts. */
export interface DataSplit {
  readonly name: string;
  readonly train: LabeledData;
  readonly test: LabeledData;
}

/** Loss and accuracy of a model over some samples. */
export interface EvalResult {
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
}

/** What one call of local training did. `loss`/`accuracy` are means over the last epoch's batches. */
export interface TrainResult {
  readonly samples: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly samplesPerSec: number;
  readonly wallSeconds: number;
  /** Which implementation trained: Canopy's compiled 'fast' step or the 'tfjs' layers. */
  readonly engine?: 'fast' | 'tfjs';
}

/** Progress reported by training and evaluation. */
export interface BatchProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
}

/** One member's submission to an aggregation. `weight` is normally its sample count. */
export interface AggregationInput {
  readonly memberId: string;
  readonly params: Float32Array;
  readonly weight: number;
}
