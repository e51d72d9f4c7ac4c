import * as tf from '@tensorflow/tfjs';

/** What {@link softmaxCrossEntropy} returns: the mean loss (differentiable) and the number of correct predictions. */
export interface LossResult {
  readonly loss: tf.Scalar;
  /** int32 scalar; not part of the gradient. The caller owns it (it survives tidy) and must dispose it. */
  readonly correct: tf.Scalar;
}

/**
 * Mean softmax cross-entropy of `logits` [n, k] against one-hot `labels` [n, k], with a fused
 * gradient (softmax − labels)/n. tf.losses.softmaxCrossEntropy takes ~15 kernels for the
 * same result; per-kernel overhead dominates small models on wasm.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor2D): LossResult {
  let correct: tf.Scalar | undefined;
  const op = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
    // Shift by the row max so exp cannot overflow.
    const z = tf.sub(x, tf.max(x, 1, true));
    const e = tf.exp(z);
    const s = tf.sum(e, 1, true);
    const zTrue = tf.sum(tf.mul(z, labels), 1);
    const loss = tf.mean(tf.sub(tf.squeeze(tf.log(s), [1]), zTrue));
    // argMax takes the first of tied maxima, as PyTorch does, so all-equal logits are not all "right".
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(x, 1), tf.argMax(labels, 1)), 'int32')) as tf.Scalar);
    save([e, s]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, [eSaved, sSaved]: tf.Tensor[]) => [tf.mul(tf.sub(tf.div(eSaved!, sSaved!), labels), tf.div(dy, x.shape[0]))],
    };
  }) as never) as unknown as (x: tf.Tensor2D) => tf.Scalar;
  const loss = op(logits);
  return { loss, correct: correct! };
}
