import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../layout.js';
import { cropEven, custom, fusedConv2d, maxPoolGrad, sumRows } from './layers.js';

/**
 * maxPool2x2(activation(conv(x, W) + b)): a stride-1 NHWC convolution followed by 2×2/2 max
 * pooling, as one op with a hand-written gradient. `inputGrad` false skips the gradient w.r.t.
 * x; only valid when x does not depend on trainable variables.
 *
 * Fusing the two saves the ReLU's own gradient pass: after pooling, gradient reaches only a
 * window's max, which is positive unless the whole window was clipped to 0; masking dy by
 * step(pooled) removes exactly those windows. It also lets single-channel inputs (the first
 * layer of every image model) take the fast filter gradient of {@link singleChannelFilterGrads}.
 */
export function convPool(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  padding: 'same' | 'valid',
  activation: Activation,
  inputGrad: boolean,
): tf.Tensor4D {
  const op = custom((save) => {
    const z = fusedConv2d(x, w, b, padding, activation);
    const zEven = cropEven(z);
    const y = tf.maxPool(zEven, 2, 2, 'valid');
    save([x, w, zEven, y]);
    return {
      value: y,
      gradFunc: (dy, [xIn, wIn, zIn, yOut]) => {
        const dyKept = activation === 'relu' ? tf.mul(dy, tf.step(yOut!)) : dy;
        let dz = maxPoolGrad(dyKept as tf.Tensor4D, zIn as tf.Tensor4D, yOut as tf.Tensor4D);
        // Odd trailing rows/columns of z were never pooled: their gradient is 0.
        const [, zh, zw] = z.shape;
        if (dz.shape[1] !== zh || dz.shape[2] !== zw) {
          dz = tf.pad(dz, [
            [0, 0],
            [0, zh - dz.shape[1]],
            [0, zw - dz.shape[2]],
            [0, 0],
          ]);
        }
        const attrs = { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dimRoundingMode: undefined };
        const dx = inputGrad
          ? (tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: wIn! }, { ...attrs, inputShape: xIn!.shape } as never) as tf.Tensor)
          : tf.zeros([1]);
        if (xIn!.shape[3] === 1) return [dx, ...singleChannelFilterGrads(xIn as tf.Tensor4D, dz, wIn!.shape as number[], padding)];
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xIn!, dy: dz }, { ...attrs, filterShape: wIn!.shape } as never) as tf.Tensor;
        return [dx, dw, sumRows(tf.reshape(dz, [-1, dz.shape[3]]))];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

/**
 * dW and db of a stride-1 conv over a one-channel x, given dz = ∂loss/∂(conv output):
 *
 *   dW[i,j,0,o] = Σ_{n,r,c} x[n, r+i, c+j] · dz[n,r,c,o],   db[o] = Σ_{n,r,c} dz[n,r,c,o]
 *
 * i.e. one matrix product dzᵀ [o, N] · cols [N, k+1] over the N = n·rows·cols output pixels,
 * where cols holds each pixel's k = fh·fw receptive field and a 1 (for the bias). cols is itself
 * a convolution of x with 0/1 selector filters (exact: each output is one x value times 1), so
 * both steps run on XNNPACK; the generic Conv2DBackpropFilter takes ~5× longer here.
 */
export function singleChannelFilterGrads(x: tf.Tensor4D, dz: tf.Tensor4D, filterShape: number[], padding: 'same' | 'valid'): [tf.Tensor, tf.Tensor] {
  const [fh, fw, , co] = filterShape as [number, number, number, number];
  const k = fh * fw;
  const select = new Float32Array(k * (k + 1));
  for (let i = 0; i < k; i++) select[i * (k + 1) + i] = 1;
  const ones = new Float32Array(k + 1);
  ones[k] = 1;
  const cols = fusedConv2d(x, tf.tensor4d(select, [fh, fw, 1, k + 1]), tf.tensor1d(ones), padding, 'linear');
  const dzT = tf.transpose(tf.reshape(dz, [-1, co]));
  // [k+1, co]: rows 0..k−1 are dW in [fh, fw, 1, co] order, row k is db.
  const grads = tf.transpose(tf.matMul(dzT, tf.reshape(cols, [-1, k + 1])));
  return [tf.reshape(tf.slice(grads, [0, 0], [k, co]), filterShape), tf.reshape(tf.slice(grads, [k, 0], [1, co]), [co])];
}
