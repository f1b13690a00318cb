/**
 * webgpu and webgl `ResizeBilinearGrad` and `ResizeNearestNeighborGrad` that honour `halfPixelCenters` (tfjs 4.22's ignore
 * it on every backend). A 2D resize is separable, out = Rᵧ · in · Rₓᵀ per image and channel, with interpolation
 * matrices that depend only on the sizes and flags; its adjoint is dx = Rᵧᵀ · dy · Rₓ. The matrices are built on
 * the host from the same sampling rule as the forward (`linearTaps`/`nearestTaps`) and applied with two matMuls on
 * the device, so no data leaves the GPU.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { linearTaps, nearestTaps } from "../resize.ts";
import { composedKernel, type GpuBackend } from "./_compose.ts";

type Method = "bilinear" | "nearest";

/** The [out, in] matrix of a 1D resize along one axis, transposed to [in, out]. */
function adjointMatrix(method: Method, inSize: number, outSize: number, align: boolean, half: boolean): tf.Tensor2D {
  const m = new Float32Array(inSize * outSize);
  if (method === "bilinear") {
    const { lo, hi, frac } = linearTaps(inSize, outSize, align, half);
    for (let o = 0; o < outSize; o++) {
      m[lo[o] * outSize + o] += 1 - frac[o];
      m[hi[o] * outSize + o] += frac[o];
    }
  } else {
    const taps = nearestTaps(inSize, outSize, align, half);
    for (let o = 0; o < outSize; o++) m[taps[o] * outSize + o] = 1;
  }
  return tf.tensor2d(m, [inSize, outSize]);
}

/** Applies the [in, out] matrix `a` along axis 1 of a rank-4 tensor [n, out, k, c] → [n, in, k, c]. */
function alongAxis1(t: tf.Tensor, a: tf.Tensor2D): tf.Tensor {
  const [n, out, k, c] = t.shape;
  const moved = tf.reshape(tf.transpose(t, [1, 0, 2, 3]), [out, n * k * c]);
  return tf.transpose(tf.reshape(tf.matMul(a, moved), [a.shape[0], n, k, c]), [1, 0, 2, 3]);
}

function resizeGradConfig(
  kernelName: "ResizeBilinearGrad" | "ResizeNearestNeighborGrad",
  method: Method,
  backend: GpuBackend,
) {
  return composedKernel(kernelName, () => true, ({ images, dy }, attrs) => {
    const { alignCorners = false, halfPixelCenters = false } = attrs as {
      alignCorners?: boolean;
      halfPixelCenters?: boolean;
    };
    const [, h, w] = images.shape, [, oh, ow] = dy.shape;
    const ry = adjointMatrix(method, h, oh, alignCorners, halfPixelCenters);
    const rx = adjointMatrix(method, w, ow, alignCorners, halfPixelCenters);
    const alongH = alongAxis1(dy, ry); // [n, h, ow, c]
    return tf.transpose(alongAxis1(tf.transpose(alongH, [0, 2, 1, 3]), rx), [0, 2, 1, 3]);
  }, backend);
}

/** `ResizeBilinearGrad` on a GPU backend. */
export const resizeBilinearGradConfig = (backend: GpuBackend): tf.KernelConfig =>
  resizeGradConfig("ResizeBilinearGrad", "bilinear", backend);

/** `ResizeNearestNeighborGrad` on a GPU backend. */
export const resizeNearestGradConfig = (backend: GpuBackend): tf.KernelConfig =>
  resizeGradConfig("ResizeNearestNeighborGrad", "nearest", backend);
