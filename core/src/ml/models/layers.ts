import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../layout.js';

// Layers with hand-written gradients. tfjs's generic gradients for fused matMul use
// transposed BatchMatMul, which on wasm falls off XNNPACK onto a scalar loop (≈5x slower), and
// they always compute the gradient w.r.t. the input, which the first layer never needs. These
// use explicit transposes (fast XNNPACK matmuls) and skip the first layer's input gradient.

type Grads = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type CustomOp = (...inputs: tf.Tensor[]) => tf.Tensor;

export function custom(forward: (save: (t: tf.Tensor[]) => void) => { value: tf.Tensor; gradFunc: Grads }): CustomOp {
  return tf.customGrad(((...args: unknown[]) => forward(args[args.length - 1] as (t: tf.Tensor[]) => void)) as never) as unknown as CustomOp;
}

/** Column sums of g [m, n]. wasm's Sum over the axes of an NHWC tensor is ~2x slower than over axis 0 of its 2-D view. */
export function sumRows(g: tf.Tensor): tf.Tensor1D {
  return tf.sum(g, 0);
}

// tf.fused.* fall back to separate bias and activation kernels whenever a gradient is being
// recorded (as in every training step), since tfjs cannot differentiate through the fusion.
// Our layers supply their own gradients, so they call the fused kernels directly.

/** activation(x·W + b) in one kernel. */
function fusedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  const attrs = { transposeA: false, transposeB: false, activation };
  // The kernel takes batched (3-D) operands.
  const [a3, b3] = [tf.expandDims(x, 0), tf.expandDims(w, 0)];
  const y = tf.engine().runKernel('_FusedMatMul', { a: a3, b: b3, bias: b }, attrs as never) as tf.Tensor3D;
  return tf.squeeze(y, [0]);
}

/** activation(conv(x, W) + b), stride 1, NHWC, in one kernel. */
export function fusedConv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined, padding: 'same' | 'valid', activation: Activation): tf.Tensor4D {
  const attrs = { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation };
  const inputs: tf.NamedTensorMap = { x, filter: w };
  if (b !== undefined) inputs.bias = b;
  return tf.engine().runKernel('FusedConv2D', inputs, attrs as never) as tf.Tensor4D;
}

function applyActivation(z: tf.Tensor, activation: Activation): tf.Tensor {
  return activation === 'relu' ? tf.relu(z) : z;
}

/** dy masked by the activation's derivative at the layer's output y. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, activation: Activation): tf.Tensor {
  return activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
}

/**
 * A fully connected layer, activation(x·W + b). `inputGrad` false skips computing the
 * gradient w.r.t. x; only valid when x does not depend on trainable variables.
 *
 * Products are arranged so that XNNPACK's right operand is small where possible: XNNPACK packs
 * the right operand afresh whenever its tensor changes (the weights: after every optimiser
 * step), and for McMahan's 3136×512 layer that packing costs several times the multiply.
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation, inputGrad: boolean): tf.Tensor2D {
  const op = custom((save) => {
    const units = w.shape[1];
    // x·W packs W (inputs×units); (Wᵀ·xᵀ)ᵀ packs xᵀ (inputs×batch) but transposes W and x.
    const y =
      units <= x.shape[0]
        ? fusedMatMul(x, w, b, activation)
        : applyActivation(tf.add(tf.transpose(tf.matMul(tf.transpose(w), tf.transpose(x))), b), activation);
    // Only saved tensors outlive the forward pass's tidy scope.
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy, [xIn, wIn, yOut]) => {
        const g = activationGrad(dy, yOut!, activation);
        // Placeholder for the unused input gradient: tfjs prunes it from the tape unread.
        const dx = inputGrad ? tf.transpose(tf.matMul(wIn!, tf.transpose(g))) : tf.zeros([1]);
        return [dx, tf.matMul(tf.transpose(xIn!), g), sumRows(g)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}

/** A stride-1 2-D convolution, activation(conv(x, W) + b), NHWC. `inputGrad` as for {@link dense}. */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  padding: 'same' | 'valid',
  activation: Activation,
  inputGrad: boolean,
): tf.Tensor4D {
  const op = custom((save) => {
    const y = fusedConv2d(x, w, b, padding, activation);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy, [xIn, wIn, yOut]) => {
        const g = activationGrad(dy, yOut!, activation) as tf.Tensor4D;
        const attrs = { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dimRoundingMode: undefined };
        const dx = inputGrad
          ? (tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter: wIn! }, { ...attrs, inputShape: xIn!.shape } as never) as tf.Tensor)
          : tf.zeros([1]);
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xIn!, dy: g }, { ...attrs, filterShape: wIn!.shape } as never) as tf.Tensor;
        return [dx, dw, sumRows(tf.reshape(g, [-1, g.shape[3]]))];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

/**
 * 2×2 max pooling with stride 2 (odd trailing rows/columns dropped, as in tfjs 'valid').
 * wasm's MaxPoolGrad is a scalar loop (≈4× slower than this); see {@link maxPoolGrad}.
 */
export function maxPool2x2(x: tf.Tensor4D): tf.Tensor4D {
  const even = cropEven(x);
  const op = custom((save) => {
    const y = tf.maxPool(even, 2, 2, 'valid');
    save([even, y]);
    return { value: y, gradFunc: (dy, [xIn, yOut]) => [maxPoolGrad(dy as tf.Tensor4D, xIn as tf.Tensor4D, yOut as tf.Tensor4D)] };
  });
  return op(even) as tf.Tensor4D;
}

/** x without its last row and column when they are odd: the part 2×2 pooling reads. */
export function cropEven(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return h % 2 === 0 && w % 2 === 0 ? x : tf.slice(x, [0, 0, 0, 0], [n, h - (h % 2), w - (w % 2), c]);
}

/**
 * The gradient of 2×2/2 max pooling y = maxPool(x) for even-sized x: dy goes to the positions
 * equal to their window's max. Unlike TF, an exact tie passes the gradient to every tied
 * position; after a ReLU the common tie (all zeros) gets no gradient either way.
 *
 * Windows are compared by viewing x as [n, h/2, 2, w/2, 2, c] against y and dy broadcast as
 * [n, h/2, 1, w/2, 1, c]: three kernels over x, with no upsampled copies of y or dy.
 */
export function maxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const windows = [n, h / 2, 2, w / 2, 2, c];
  const pooled = [n, h / 2, 1, w / 2, 1, c];
  // Window max minus input is 0 exactly at the max; wasm's Equal is ~20x slower than Sub/Step.
  const isMax = tf.sub(1, tf.step(tf.sub(tf.reshape(y, pooled), tf.reshape(x, windows))));
  return tf.reshape(tf.mul(tf.reshape(dy, pooled), isMax), x.shape);
}
