import * as tf from '@tensorflow/tfjs';
import type { backend_util as BackendUtil, KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { UnsupportedError } from '../util/errors.js';

// Convolution gradients for the wasm backend, built from wasm's own XNNPACK-backed kernels.
//
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is a
// scalar C++ loop: about 9x slower than XNNPACK's Conv2D on McMahan's 14x14x32→64 layer. Both
// gradients are convolutions themselves, so we express them as Conv2D calls on transposed
// operands:
//
//   dW[fh,fw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+fh−top, ow·s+fw−left, ci] · dy[b,oh,ow,co]
//     = Conv2D(x as [ci,h,w,b], filter dy as [oh,ow,b,co], dilation s), read as [fh,fw,ci,co]
//   dx = Conv2D(dy, W rotated 180° with in/out swapped, "full" padding)     (stride 1)

const BACKEND = 'wasm';

/** Kernels this module registers or overrides on the wasm backend. */
export const WASM_CONV_GRAD_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const;

let registered = false;
let native: KernelConfig | undefined;
let nativeReady = false;

/**
 * Registers Conv2DBackpropFilter and a faster Conv2DBackpropInput on the 'wasm' backend.
 * Idempotent. Call after `@tensorflow/tfjs-backend-wasm` is imported (it registers the
 * kernels ours are built from); the backend need not be initialised yet.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  native = tf.getKernel('Conv2DBackpropInput', BACKEND);
  if (native !== undefined) tf.unregisterKernel('Conv2DBackpropInput', BACKEND);
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter as KernelFunc });
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInput as KernelFunc });
  registered = true;
}

/** The wasm backend's own Conv2DBackpropInput, kept for strides > 1 and for tests. */
export function nativeWasmConv2DBackpropInput(): KernelFunc | undefined {
  if (native === undefined) return undefined;
  return (args) => {
    // The backend runs setup only for kernels registered when it starts, and we unregister
    // this one before that, so bind its wasm function on first use.
    if (!nativeReady) native!.setupFunc?.(args.backend as never);
    nativeReady = true;
    return native!.kernelFunc(args);
  };
}

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}

/** Runs wasm kernels and frees every intermediate result it made, except the one kept. */
class KernelScope {
  private readonly made: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
    const kernel = tf.getKernel(kernelName, BACKEND);
    if (kernel === undefined) throw new UnsupportedError(`the wasm backend has no ${kernelName} kernel`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.made.push(out);
    return out;
  }

  /** Frees every intermediate but `result`. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.made) if (t !== result) this.backend.disposeData(t.dataId);
    return result;
  }
}

function checkAttrs(kernelName: string, attrs: NamedAttrMap): void {
  const { dataFormat } = attrs as { dataFormat?: string };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new UnsupportedError(`${kernelName} on wasm supports dataFormat 'NHWC' only, not '${dataFormat}'`);
  }
  const { dilations } = attrs as { dilations?: number | number[] };
  const dil = typeof dilations === 'number' ? [dilations] : (dilations ?? [1]);
  if (dil.some((d) => d !== 1)) {
    throw new UnsupportedError(`${kernelName} on wasm does not support dilations (${dil.join(',')}); use dilation 1`);
  }
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap): BackendUtil.Conv2DInfo {
  const { strides, pad, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  checkAttrs('Conv2DBackpropFilter', attrs);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfo(x.shape, filterShape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const scope = new KernelScope(backend);
  const xT = scope.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = scope.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  // A strided forward conv samples x every s pixels: the same as dilating dy by s here.
  let dw = scope.run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined as unknown as string,
    },
  );
  // Rows/columns the forward conv never reached (input not a multiple of the stride) give extra
  // outputs past the filter's extent; they are not part of dW.
  const [ci, fh, fw, co] = dw.shape as [number, number, number, number];
  if (fh !== info.filterHeight || fw !== info.filterWidth) {
    dw = scope.run('Slice', { x: dw }, { begin: [0, 0, 0, 0], size: [ci, info.filterHeight, info.filterWidth, co] });
  }
  return scope.finish(scope.run('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }));
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  checkAttrs('Conv2DBackpropInput', attrs);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfo(inputShape, filter.shape, attrs);
  const { top, left } = info.padInfo;
  const [fh, fw] = [info.filterHeight, info.filterWidth];
  const padTop = fh - 1 - top;
  const padLeft = fw - 1 - left;
  const padBottom = info.inHeight - info.outHeight + top;
  const padRight = info.inWidth - info.outWidth + left;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || Math.min(padTop, padLeft, padBottom, padRight) < 0) {
    // Strided convs would need a zero-dilated dy; none of our models has one, and the native
    // kernel is correct for them (see wasmConvGrad.test.ts), only slower.
    const fallback = nativeWasmConv2DBackpropInput();
    if (fallback === undefined) throw new UnsupportedError('Conv2DBackpropInput with strides > 1 is not available on wasm');
    return fallback(args as never) as TensorInfo;
  }
  const scope = new KernelScope(backend);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = scope.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  const dx = scope.run(
    'Conv2D',
    { x: dy, filter: swapped },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [padTop, padBottom],
        [padLeft, padRight],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined as unknown as string,
    },
  );
  return scope.finish(dx);
}
