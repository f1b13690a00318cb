/**
 * Fused batch-norm kernels for host-memory backends (cpu, wasm): training-mode forward (`y`, batch mean, biased
 * variance, 1/std in one pass over the data plus one for the variance) and its backward pass (dx, dγ, dβ). The op
 * formula spelled in tfjs ops allocates about six full-size temporaries forward and seven backward; a 3D network
 * spends much of its step time and memory on them. Channels-last: the channel is the fastest-varying index.
 * Accumulations are in float64. Used by `layers/bn.ts` when the backend has them, the op formula otherwise.
 *
 * Backward, with x̂ = (x − mean)·rstd and N elements per channel: dβ = Σdy, dγ = Σdy·x̂,
 * dx = γ·rstd/N·(N·dy − dβ − x̂·dγ).
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { kernelInput, readFloat32, writeOutput } from "./_util.ts";

/** Kernel names (ours; tfjs has no fused training batch norm). */
export const BATCH_NORM_TRAINING = "NiftyBatchNormTraining";
export const BATCH_NORM_TRAINING_GRAD = "NiftyBatchNormTrainingGrad";

/** Forward on host arrays: `x` channels-last with `channels` channels. */
export function batchNormTrainingHost(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): { y: Float32Array; mean: Float32Array; variance: Float32Array; rstd: Float32Array } {
  const channels = gamma.length, count = x.length / channels;
  const sum = new Float64Array(channels), squares = new Float64Array(channels);
  for (let i = 0, c = 0; i < x.length; i++) {
    sum[c] += x[i];
    if (++c === channels) c = 0;
  }
  const mean = new Float32Array(channels);
  for (let c = 0; c < channels; c++) mean[c] = sum[c] / count;
  for (let i = 0, c = 0; i < x.length; i++) {
    const d = x[i] - mean[c];
    squares[c] += d * d;
    if (++c === channels) c = 0;
  }
  const variance = new Float32Array(channels), rstd = new Float32Array(channels);
  const scale = new Float32Array(channels), shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    variance[c] = squares[c] / count;
    rstd[c] = 1 / Math.sqrt(variance[c] + eps);
    scale[c] = rstd[c] * gamma[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  const y = new Float32Array(x.length);
  for (let i = 0, c = 0; i < x.length; i++) {
    y[i] = x[i] * scale[c] + shift[c];
    if (++c === channels) c = 0;
  }
  return { y, mean, variance, rstd };
}

/** Backward on host arrays; `mean`/`rstd` are the forward's batch statistics. */
export function batchNormTrainingGradHost(
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  gamma: Float32Array,
): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } {
  const channels = gamma.length, count = x.length / channels;
  const dBeta64 = new Float64Array(channels), dGamma64 = new Float64Array(channels);
  for (let i = 0, c = 0; i < x.length; i++) {
    dBeta64[c] += dy[i];
    dGamma64[c] += dy[i] * (x[i] - mean[c]) * rstd[c];
    if (++c === channels) c = 0;
  }
  const dBeta = Float32Array.from(dBeta64), dGamma = Float32Array.from(dGamma64);
  const k = new Float64Array(channels);
  for (let c = 0; c < channels; c++) k[c] = (gamma[c] * rstd[c]) / count;
  const dx = new Float32Array(x.length);
  for (let i = 0, c = 0; i < x.length; i++) {
    const xhat = (x[i] - mean[c]) * rstd[c];
    dx[i] = k[c] * (count * dy[i] - dBeta64[c] - xhat * dGamma64[c]);
    if (++c === channels) c = 0;
  }
  return { dx, dGamma, dBeta };
}

/** The forward kernel: inputs x, gamma, beta; attr eps; outputs [y, mean, variance, rstd]. */
export function batchNormTrainingConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAINING,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const x = kernelInput(inputs, "x", BATCH_NORM_TRAINING);
      const gamma = kernelInput(inputs, "gamma", BATCH_NORM_TRAINING);
      const beta = kernelInput(inputs, "beta", BATCH_NORM_TRAINING);
      const r = batchNormTrainingHost(
        readFloat32(be, x, "x"),
        readFloat32(be, gamma, "gamma"),
        readFloat32(be, beta, "beta"),
        (attrs as unknown as { eps: number }).eps,
      );
      const channels = [gamma.shape[0]];
      return [
        writeOutput(be, r.y, [...x.shape]),
        writeOutput(be, r.mean, channels),
        writeOutput(be, r.variance, channels),
        writeOutput(be, r.rstd, channels),
      ];
    },
  };
}

/** The backward kernel: inputs dy, x, mean, rstd, gamma; outputs [dx, dGamma, dBeta]. */
export function batchNormTrainingGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAINING_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const be = backend as tf.KernelBackend;
      const read = (name: string) => readFloat32(be, kernelInput(inputs, name, BATCH_NORM_TRAINING_GRAD), name);
      const x = kernelInput(inputs, "x", BATCH_NORM_TRAINING_GRAD);
      const r = batchNormTrainingGradHost(read("dy"), read("x"), read("mean"), read("rstd"), read("gamma"));
      const channels = [r.dGamma.length];
      return [
        writeOutput(be, r.dx, [...x.shape]),
        writeOutput(be, r.dGamma, channels),
        writeOutput(be, r.dBeta, channels),
      ];
    },
  };
}
