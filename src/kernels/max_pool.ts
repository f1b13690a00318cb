/**
 * Correct max-pooling kernels for host-memory backends. tfjs-backend-wasm 4.22 starts its max search at FLT_MIN
 * (the smallest positive float) instead of −∞: `MaxPool3D` returns 1.18e−38 for every window whose maximum is
 * negative, and `MaxPool3DGrad`/`MaxPoolGrad` drop those windows' gradients. Here each window's value and gradient
 * go to its first (lowest index) maximum, as in PyTorch; padded positions never win.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { kernelInput, readFloat32, writeOutput } from "./_util.ts";

/** Pooling geometry, 2D pooling being depth 1. */
interface PoolGeometry {
  batch: number;
  channels: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  strides: [number, number, number];
  filter: [number, number, number];
  padsBefore: [number, number, number];
}

interface PoolAttrs {
  filterSize: number | number[];
  strides: number | number[];
  pad: "same" | "valid" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** Geometry of a 2D (NHWC) or 3D (NDHWC) max pool from tfjs's own shape logic. */
function poolGeometry(shape: readonly number[], a: PoolAttrs): PoolGeometry {
  if (shape.length === 4) {
    const i = tf.backend_util.computePool2DInfo(
      shape as [number, number, number, number],
      a.filterSize as [number, number],
      a.strides as [number, number],
      1,
      a.pad,
      a.dimRoundingMode,
    );
    return {
      batch: i.batchSize,
      channels: i.inChannels,
      inSize: [1, i.inHeight, i.inWidth],
      outSize: [1, i.outHeight, i.outWidth],
      strides: [1, i.strideHeight, i.strideWidth],
      filter: [1, i.filterHeight, i.filterWidth],
      padsBefore: [0, i.padInfo.top, i.padInfo.left],
    };
  }
  const i = tf.backend_util.computePool3DInfo(
    shape as [number, number, number, number, number],
    a.filterSize as [number, number, number],
    a.strides as [number, number, number],
    1,
    a.pad,
    a.dimRoundingMode,
  );
  return {
    batch: i.batchSize,
    channels: i.inChannels,
    inSize: [i.inDepth, i.inHeight, i.inWidth],
    outSize: [i.outDepth, i.outHeight, i.outWidth],
    strides: [i.strideDepth, i.strideHeight, i.strideWidth],
    filter: [i.filterDepth, i.filterHeight, i.filterWidth],
    padsBefore: [i.padInfo.front, i.padInfo.top, i.padInfo.left],
  };
}

/** Flat index into `x` of each output window's first maximum (−1 for a window lying wholly in the padding). */
export function windowArgmax(x: Float32Array, g: PoolGeometry): Int32Array {
  const [d, h, w] = g.inSize, [od, oh, ow] = g.outSize, c = g.channels;
  const out = new Int32Array(g.batch * od * oh * ow * c);
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let z = 0; z < od; z++) {
      const z0 = z * g.strides[0] - g.padsBefore[0];
      const z1 = Math.min(z0 + g.filter[0], d);
      for (let y = 0; y < oh; y++) {
        const y0 = y * g.strides[1] - g.padsBefore[1];
        const y1 = Math.min(y0 + g.filter[1], h);
        for (let x0 = 0; x0 < ow; x0++) {
          const xs = x0 * g.strides[2] - g.padsBefore[2];
          const xe = Math.min(xs + g.filter[2], w);
          for (let ch = 0; ch < c; ch++, o++) {
            let best = -1, bestValue = -Infinity;
            for (let zz = Math.max(z0, 0); zz < z1; zz++) {
              for (let yy = Math.max(y0, 0); yy < y1; yy++) {
                for (let xx = Math.max(xs, 0); xx < xe; xx++) {
                  const idx = (((b * d + zz) * h + yy) * w + xx) * c + ch;
                  if (best < 0 || x[idx] > bestValue) {
                    best = idx;
                    bestValue = x[idx];
                  }
                }
              }
            }
            out[o] = best;
          }
        }
      }
    }
  }
  return out;
}

function outputShape(g: PoolGeometry, rank: number): number[] {
  return rank === 4 ? [g.batch, g.outSize[1], g.outSize[2], g.channels] : [g.batch, ...g.outSize, g.channels];
}

/** `MaxPool3D` for a host-memory backend: each window's first maximum. */
export function maxPool3dConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: "MaxPool3D",
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const x = kernelInput(inputs, "x", "MaxPool3D");
      const g = poolGeometry(x.shape, attrs as unknown as PoolAttrs);
      const values = readFloat32(be, x, "x");
      const arg = windowArgmax(values, g);
      const out = new Float32Array(arg.length);
      arg.forEach((i, k) => out[k] = i < 0 ? -Infinity : values[i]);
      return writeOutput(be, out, outputShape(g, 5));
    },
  };
}

/** `MaxPool3DGrad` / `MaxPoolGrad` for a host-memory backend: dy of each window goes to its first maximum. */
export function maxPoolGradConfig(kernelName: "MaxPool3DGrad" | "MaxPoolGrad", backendName: string): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const input = kernelInput(inputs, "input", kernelName);
      const dy = readFloat32(be, kernelInput(inputs, "dy", kernelName), "dy");
      const arg = windowArgmax(
        readFloat32(be, input, "input"),
        poolGeometry(input.shape, attrs as unknown as PoolAttrs),
      );
      const dx = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
      arg.forEach((i, k) => {
        if (i >= 0) dx[i] += dy[k];
      });
      return writeOutput(be, dx, [...input.shape]);
    },
  };
}
