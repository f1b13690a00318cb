/**
 * Corrected `ResizeBilinearGrad` and `ResizeNearestNeighborGrad` kernels (the gradients of `resize3d.ts`).
 *
 * tfjs 4.22's `ResizeBilinearGrad` ignores `halfPixelCenters` on every backend, and the cpu one labels its output
 * [b, w, h, c] (non-square inputs fail); its `ResizeNearestNeighborGrad` is wrong with `halfPixelCenters` (cpu,
 * wasm) and, on cpu, for any batch > 1. The kernels here are the exact adjoints of tfjs's forward resizes.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { kernelInput, readFloat32, writeOutput } from "./_util.ts";

/** Source coordinate sampling of a 1D linear resize: for each output index, two source indices and weights. */
export interface LinearTaps {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

/**
 * TensorFlow's (and tfjs's forward) 1D rule: scale = (in − 1)/(out − 1) with alignCorners (out > 1), else in/out;
 * src = (i + ½)·scale − ½ with halfPixelCenters, else i·scale; lo = max(⌊src⌋, 0), hi = min(⌈src⌉, in − 1),
 * weight of hi = src − ⌊src⌋.
 */
export function linearTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): LinearTaps {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), frac = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixelCenters ? (i + 0.5) * scale - 0.5 : i * scale;
    const f = Math.floor(src);
    lo[i] = Math.max(f, 0);
    hi[i] = Math.min(Math.ceil(src), inSize - 1);
    frac[i] = src - f;
  }
  return { lo, hi, frac };
}

/** Adjoint of 2D bilinear resize on host arrays: scatters each dy element to its 4 source pixels (NHWC). */
export function resizeBilinearGradHost(
  dy: Float32Array,
  dyShape: readonly number[],
  imageShape: readonly number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Float32Array {
  const [n, inH, inW, c] = imageShape;
  const [, outH, outW] = dyShape;
  const ty = linearTaps(inH, outH, alignCorners, halfPixelCenters);
  const tx = linearTaps(inW, outW, alignCorners, halfPixelCenters);
  const dx = new Float32Array(n * inH * inW * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      const fy = ty.frac[y], top = (b * inH + ty.lo[y]) * inW, bottom = (b * inH + ty.hi[y]) * inW;
      for (let x = 0; x < outW; x++) {
        const fx = tx.frac[x], l = tx.lo[x], r = tx.hi[x];
        const src = ((b * outH + y) * outW + x) * c;
        const tl = (top + l) * c, tr = (top + r) * c, bl = (bottom + l) * c, br = (bottom + r) * c;
        for (let ch = 0; ch < c; ch++) {
          const g = dy[src + ch];
          const gTop = g * (1 - fy), gBottom = g * fy;
          dx[tl + ch] += gTop * (1 - fx);
          dx[tr + ch] += gTop * fx;
          dx[bl + ch] += gBottom * (1 - fx);
          dx[br + ch] += gBottom * fx;
        }
      }
    }
  }
  return dx;
}

/** Builds a corrected `ResizeBilinearGrad` kernel config for a host-memory backend (`"cpu"`, `"wasm"`). */
export function resizeBilinearGradConfig(backendName: string): tf.KernelConfig {
  return resizeGradConfig("ResizeBilinearGrad", backendName, resizeBilinearGradHost);
}

/** A resize-gradient kernel config: reads `dy`, runs the host gradient, writes a tensor shaped like `images`. */
function resizeGradConfig(
  kernelName: "ResizeBilinearGrad" | "ResizeNearestNeighborGrad",
  backendName: string,
  host: (
    dy: Float32Array,
    dyShape: readonly number[],
    imagesShape: readonly number[],
    alignCorners: boolean,
    halfPixelCenters: boolean,
  ) => Float32Array,
): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const images = kernelInput(inputs, "images", kernelName);
      const dy = kernelInput(inputs, "dy", kernelName);
      const a = attrs as unknown as { alignCorners?: boolean; halfPixelCenters?: boolean };
      const dx = host(
        readFloat32(be, dy, "dy"),
        dy.shape,
        images.shape,
        a.alignCorners ?? false,
        a.halfPixelCenters ?? false,
      );
      return writeOutput(be, dx, [...images.shape]);
    },
  };
}

/**
 * tfjs's forward nearest rule per axis: ratio as for bilinear; src = (i + ½)·ratio with halfPixelCenters, else
 * i·ratio; index = round(src) with alignCorners, else ⌊src⌋, clamped to [0, in − 1].
 */
export function nearestTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Int32Array {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const taps = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixelCenters ? scale * (i + 0.5) : scale * i;
    taps[i] = Math.max(0, Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src)));
  }
  return taps;
}

/** Adjoint of 2D nearest-neighbour resize on host arrays: adds each dy element to its source pixel (NHWC). */
export function resizeNearestGradHost(
  dy: Float32Array,
  dyShape: readonly number[],
  imageShape: readonly number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Float32Array {
  const [n, inH, inW, c] = imageShape;
  const [, outH, outW] = dyShape;
  const ty = nearestTaps(inH, outH, alignCorners, halfPixelCenters);
  const tx = nearestTaps(inW, outW, alignCorners, halfPixelCenters);
  const dx = new Float32Array(n * inH * inW * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const src = ((b * outH + y) * outW + x) * c, dst = ((b * inH + ty[y]) * inW + tx[x]) * c;
        for (let ch = 0; ch < c; ch++) dx[dst + ch] += dy[src + ch];
      }
    }
  }
  return dx;
}

/** Builds a corrected `ResizeNearestNeighborGrad` kernel config for a host-memory backend (`"cpu"`, `"wasm"`). */
export function resizeNearestGradConfig(backendName: string): tf.KernelConfig {
  return resizeGradConfig("ResizeNearestNeighborGrad", backendName, resizeNearestGradHost);
}
