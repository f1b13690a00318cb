/**
 * Voxel-by-voxel steps of an inference chain on channels-last host arrays, in place.
 *
 * @module
 */
import type { EltwiseOp } from "../kernels/fast/mod.ts";
import type { PointwiseStep } from "./_trace.ts";

/** oneDNN's definition of each element-wise algorithm (`dnnl_types.h`), in TypeScript. */
export function eltwiseFunction(op: EltwiseOp): (v: number) => number {
  const alpha = op.alpha ?? 0, beta = op.beta ?? 0;
  switch (op.alg) {
    case "relu":
      return alpha === 0 ? (v) => (v > 0 ? v : 0) : (v) => (v > 0 ? v : alpha * v);
    case "elu":
      return (v) => (v > 0 ? v : alpha * Math.expm1(v));
    case "tanh":
      return Math.tanh;
    case "logistic":
      return (v) => 1 / (1 + Math.exp(-v));
    case "linear":
      return (v) => alpha * v + beta;
    case "boundedRelu":
      return (v) => Math.min(Math.max(v, 0), alpha);
    case "geluTanh":
      return (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    case "geluErf":
      throw new Error("gelu (erf) has no TypeScript implementation here");
  }
}

/** Applies `steps` in order to `data` (channels-last, `channels` per voxel), in place. */
export function applyPointwise(steps: readonly PointwiseStep[], data: Float32Array, channels: number): void {
  for (const step of steps) {
    if (step.kind === "affine") {
      const { scale, shift } = step;
      for (let i = 0; i < data.length; i += channels) {
        for (let c = 0; c < channels; c++) data[i + c] = data[i + c] * scale[c] + shift[c];
      }
    } else if (step.kind === "prelu") {
      const { alpha } = step;
      for (let i = 0; i < data.length; i += channels) {
        for (let c = 0; c < channels; c++) if (data[i + c] < 0) data[i + c] *= alpha[c];
      }
    } else if (step.kind === "eltwise") {
      const f = eltwiseFunction(step.op);
      for (let i = 0; i < data.length; i++) data[i] = f(data[i]);
    } else {
      for (let i = 0; i < data.length; i += channels) {
        let max = -Infinity;
        for (let c = 0; c < channels; c++) max = Math.max(max, data[i + c]);
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += data[i + c] = Math.exp(data[i + c] - max);
        for (let c = 0; c < channels; c++) data[i + c] /= sum;
      }
    }
  }
}

/** Writes the index of the largest channel of each voxel of `data` into `labels` from `offset` on. */
export function argmaxInto(data: Float32Array, channels: number, labels: Int32Array, offset: number): void {
  for (let i = 0, v = offset; i < data.length; i += channels, v++) {
    let best = 0, max = data[i];
    for (let c = 1; c < channels; c++) {
      if (data[i + c] > max) {
        max = data[i + c];
        best = c;
      }
    }
    labels[v] = best;
  }
}
