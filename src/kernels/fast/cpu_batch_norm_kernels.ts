/**
 * The training batch-norm kernels (`NiftyBatchNormTraining`, `NiftyBatchNormTrainingGrad`, with no activation,
 * relu or prelu) on the cpu backend through oneDNN while the fast kernels are active, wrapped around the TypeScript
 * kernels of `src/kernels/batch_norm.ts`, which take every call the oneDNN path does not (oneDNN off or absent,
 * ranks other than 4 and 5, non-float32 inputs, geometries oneDNN rejects). Same inputs, attributes and outputs.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, type BatchNormActivation } from "../batch_norm.ts";
import type { BatchNormPlanCache, BatchNormSpec } from "./dnnl_batch_norm.ts";
import type { KernelCounts } from "./host_kernels.ts";
import { freshOutput } from "./_fresh_output.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];

function float32(backend: tf.KernelBackend, info: tf.TensorInfo | undefined): Float32Array | null {
  if (info?.dtype !== "float32") return null;
  const v = backend.readSync(info.dataId);
  return v instanceof Float32Array ? v : null;
}

function output(backend: tf.KernelBackend, values: Float32Array, shape: number[]): tf.TensorInfo {
  return { dataId: backend.write(values, shape, "float32"), shape, dtype: "float32" };
}

/** The geometry of channels-last `shape` (rank 4 or 5) with per-channel vectors of `channels`, or null. */
function specOf(shape: readonly number[], channels: number, activation: BatchNormActivation): BatchNormSpec | null {
  if (shape.length !== 4 && shape.length !== 5) return null;
  if (shape[shape.length - 1] !== channels || shape.some((n) => n < 1)) return null;
  return { batch: shape[0], channels, size: shape.slice(1, -1), activation };
}

/** Per-channel float32 inputs `names` of length `channels`, or null when one is missing or differs. */
function vectors(be: tf.KernelBackend, inputs: tf.NamedTensorInfoMap, names: string[], channels: number) {
  const out: Record<string, Float32Array> = {};
  for (const name of names) {
    const v = float32(be, inputs[name]);
    if (!v || v.length !== channels) return null;
    out[name] = v;
  }
  return out;
}

function forward(plans: BatchNormPlanCache, { inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] | null {
  const be = backend as tf.KernelBackend;
  const { eps, activation = "none" } = attrs as unknown as { eps: number; activation?: BatchNormActivation };
  const x = float32(be, inputs.x), channels = inputs.gamma?.shape[0] ?? 0;
  const spec = x && specOf(inputs.x!.shape, channels, activation);
  const v = spec &&
    vectors(be, inputs, activation === "prelu" ? ["gamma", "beta", "alpha"] : ["gamma", "beta"], channels);
  const plan = v && plans.forward(spec, eps);
  if (!x || !v || !plan) return null;
  const y = freshOutput(x.length);
  const { mean, variance } = plan.run(x, v.gamma, v.beta, v.alpha, y);
  const rstd = new Float32Array(channels);
  for (let c = 0; c < channels; c++) rstd[c] = 1 / Math.sqrt(variance[c] + eps);
  return [
    output(be, y, [...inputs.x!.shape]),
    output(be, mean, [channels]),
    output(be, variance, [channels]),
    output(be, rstd, [channels]),
  ];
}

function backward(plans: BatchNormPlanCache, { inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] | null {
  const be = backend as tf.KernelBackend;
  const activation = ((attrs ?? {}) as { activation?: BatchNormActivation }).activation ?? "none";
  const dy = float32(be, inputs.dy), x = float32(be, inputs.x), channels = inputs.gamma?.shape[0] ?? 0;
  const names = [
    "mean",
    "rstd",
    "gamma",
    ...(activation === "none" ? [] : ["beta"]),
    ...(activation === "prelu" ? ["alpha"] : []),
  ];
  const spec = x && dy && dy.length === x.length && specOf(inputs.x!.shape, channels, activation);
  const v = spec && vectors(be, inputs, names, channels);
  const plan = v && plans.backward(spec);
  if (!x || !dy || !v || !plan) return null;
  const dx = freshOutput(x.length);
  const r = plan.run(dy, x, { mean: v.mean, rstd: v.rstd, gamma: v.gamma, beta: v.beta, alpha: v.alpha }, dx);
  const out = [output(be, dx, [...inputs.x!.shape]), output(be, r.dGamma, [channels]), output(be, r.dBeta, [channels])];
  return r.dAlpha ? [...out, output(be, r.dAlpha, [channels])] : out;
}

/**
 * Wraps `fallback`, the TypeScript cpu kernel `NiftyBatchNormTraining` or `NiftyBatchNormTrainingGrad`: calls run
 * through the plans `plans()` returns (null while oneDNN is not active) and otherwise through `fallback`, counted in
 * `counts`.
 */
export function fastBatchNormKernelConfig(
  fallback: tf.KernelConfig,
  { plans, counts }: { plans: () => BatchNormPlanCache | null; counts: KernelCounts },
): tf.KernelConfig {
  const name = fallback.kernelName;
  if (name !== BATCH_NORM_TRAINING && name !== BATCH_NORM_TRAINING_GRAD) {
    throw new Error(`fast batch norm: expected ${BATCH_NORM_TRAINING} or ${BATCH_NORM_TRAINING_GRAD}, got ${name}`);
  }
  const run = name === BATCH_NORM_TRAINING ? forward : backward;
  return {
    ...fallback,
    kernelFunc: (args) => {
      counts[name] ??= { fast: 0, fallback: 0 };
      const cache = plans();
      const result = cache && run(cache, args);
      if (!result) {
        counts[name].fallback++;
        return fallback.kernelFunc(args);
      }
      counts[name].fast++;
      return result;
    },
  };
}
