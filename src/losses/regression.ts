/**
 * Regression losses with NiftyNet 0.6 semantics (`niftynet/layer/loss_regression.py`): each is computed per batch
 * element on the flattened image and averaged over the batch (and over scales for a list of predictions).
 *
 * Edge cases: an all-zero weight map gives loss 0 (NiftyNet divides 0 by 0); the square roots in `RMSE` and
 * `Cosine` have gradient 0 at 0 instead of NaN.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { checkParams, constantMask, type LossParams, numberParam, safeDivide, safeSqrt } from "./_util.ts";
import type { DataLoss } from "./segmentation.ts";

/** One batch element: prediction and target `[N]` (`[N, d]` for `Cosine`), optional weights `[N]`. */
export type RegressionSampleLoss = (
  prediction: tf.Tensor,
  groundTruth: tf.Tensor,
  weight: tf.Tensor1D | undefined,
  params: LossParams,
) => tf.Scalar;

/** A regression loss by NiftyNet `loss_type` name. */
export interface RegressionLossSpec {
  readonly name: string;
  /** Accepted `loss_func_params` keys. */
  readonly params: readonly string[];
  /** True for vector targets `[B, ...spatial, d]` (Cosine): the last axis is kept. */
  readonly vector: boolean;
  readonly sample: RegressionSampleLoss;
}

/** Σ w·x / Σ w (0 when Σ w = 0), or mean(x) without weights. */
function weightedMean(x: tf.Tensor, weight: tf.Tensor1D | undefined): tf.Scalar {
  if (!weight) return tf.mean(x);
  return safeDivide(tf.sum(tf.mul(x, weight)), tf.sum(weight), 0) as tf.Scalar;
}

/** L1: mean |p − t| (weighted: Σ w|p − t| / Σ w). */
export function l1Loss(prediction: tf.Tensor, target: tf.Tensor, weight?: tf.Tensor1D): tf.Scalar {
  return weightedMean(tf.abs(tf.sub(prediction, target)), weight);
}

/** L2 as `tf.nn.l2_loss`: Σ r² / 2 with r = p − t, or r = w·(p − t) / Σ w when weighted (NiftyNet's form). */
export function l2Loss(prediction: tf.Tensor, target: tf.Tensor, weight?: tf.Tensor1D): tf.Scalar {
  let residual = tf.sub(prediction, target);
  if (weight) residual = tf.mul(residual, safeDivide(weight, tf.mul(tf.onesLike(weight), tf.sum(weight)), 0));
  return tf.div(tf.sum(tf.square(residual)), 2);
}

/** RMSE: √(mean (p − t)²); weighted √(mean(w (p − t)²) / mean(w)). */
export function rmseLoss(prediction: tf.Tensor, target: tf.Tensor, weight?: tf.Tensor1D): tf.Scalar {
  return safeSqrt(weightedMean(tf.square(tf.sub(prediction, target)), weight)) as tf.Scalar;
}

/** Huber: ½ r² for |r| ≤ δ, δ(|r| − δ/2) beyond; mean (weighted Σ w·h / Σ w). */
export function huberLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  { weight, delta = 1 }: { weight?: tf.Tensor1D; delta?: number } = {},
): tf.Scalar {
  // ½ min(a, δ)² + δ (a − min(a, δ)) is the same piecewise function without a comparison on the tape.
  const a = tf.abs(tf.sub(prediction, target));
  const inside = tf.minimum(a, delta);
  return weightedMean(tf.add(tf.mul(0.5, tf.square(inside)), tf.mul(delta, tf.sub(a, inside))), weight);
}

/**
 * NiftyNet's smooth L1 with threshold τ (default 0.5, and τ > 1 means 1/τ): a = |r|; a ← τa² if a < τ else
 * a + τ³ − τ; then a ← a² + T − T² where a > T = 1/τ (applied to the already transformed value, as NiftyNet does).
 */
export function smoothL1Loss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  { weight, valueThresh = 0.5 }: { weight?: tf.Tensor1D; valueThresh?: number } = {},
): tf.Scalar {
  const low = valueThresh > 1 ? 1 / valueThresh : valueThresh;
  const high = valueThresh > 1 ? valueThresh : 1 / valueThresh;
  const a = tf.abs(tf.sub(prediction, target));
  const isLow = constantMask(a, (v) => tf.less(v, low));
  const inner = tf.where(isLow, tf.mul(low, tf.square(a)), tf.add(a, low ** 3 - low));
  const isHigh = constantMask(inner, (v) => tf.greater(v, high));
  const outer = tf.where(isHigh, tf.add(tf.square(inner), high - high ** 2), inner);
  return weightedMean(outer, weight);
}

/**
 * Cosine loss between vectors `[N, d]`: Σ w (1 − p̂·t̂) / Σ w, with each vector first completed to unit length by
 * an extra component √(1 − min(|v|², 1)) (`to_complete`, default true) and normalised by max(|v|, 1e-5).
 */
export function cosineLoss(
  prediction: tf.Tensor2D,
  target: tf.Tensor2D,
  { weight, toComplete = true }: { weight?: tf.Tensor1D; toComplete?: boolean } = {},
): tf.Scalar {
  const complete = (v: tf.Tensor2D) =>
    toComplete ? tf.concat([v, safeSqrt(tf.sub(1, tf.minimum(tf.sum(tf.square(v), -1, true), 1)))], -1) : v;
  const unit = (v: tf.Tensor) => tf.div(v, tf.maximum(tf.norm(v, "euclidean", -1, true), 1e-5));
  const cos = tf.sum(tf.mul(unit(complete(prediction)), unit(complete(target))), -1);
  return weightedMean(tf.sub(1, cos), weight);
}

/** The regression losses, by NiftyNet `loss_type` name. */
export const REGRESSION_LOSSES: readonly RegressionLossSpec[] = [
  { name: "L1Loss", params: [], vector: false, sample: (p, t, w) => l1Loss(p, t, w) },
  { name: "L2Loss", params: [], vector: false, sample: (p, t, w) => l2Loss(p, t, w) },
  { name: "RMSE", params: [], vector: false, sample: (p, t, w) => rmseLoss(p, t, w) },
  { name: "MAE", params: [], vector: false, sample: (p, t, w) => l1Loss(p, t, w) },
  {
    name: "Huber",
    params: ["delta"],
    vector: false,
    sample: (p, t, w, params) => huberLoss(p, t, { weight: w, delta: numberParam(params, "delta", 1, "Huber") }),
  },
  {
    name: "SmoothL1",
    params: ["value_thresh"],
    vector: false,
    sample: (p, t, w, params) =>
      smoothL1Loss(p, t, { weight: w, valueThresh: numberParam(params, "value_thresh", 0.5, "SmoothL1") }),
  },
  {
    name: "Cosine",
    params: ["to_complete"],
    vector: true,
    sample: (p, t, w, params) =>
      cosineLoss(p as tf.Tensor2D, t as tf.Tensor2D, { weight: w, toComplete: params.to_complete !== false }),
  },
];

/** Wraps a per-sample regression loss into NiftyNet's batch (and multi-scale) averaging. */
export function regressionLoss(spec: RegressionLossSpec, { params = {} }: { params?: LossParams } = {}): DataLoss {
  checkParams(params, spec.params, spec.name);
  return (prediction, groundTruth, weightMap) =>
    tf.tidy(() => {
      const batch = groundTruth.shape[0];
      const dim = spec.vector ? groundTruth.shape[groundTruth.rank - 1] : 1;
      const n = groundTruth.size / (batch * dim);
      const t = tf.reshape(tf.cast(groundTruth, "float32"), spec.vector ? [batch, n, dim] : [batch, n]);
      if (weightMap && weightMap.size !== batch * n) {
        throw new Error(
          `loss_type ${spec.name}: weight map shape [${weightMap.shape}] should have ${
            batch * n
          } values (one per voxel)`,
        );
      }
      const w = weightMap ? tf.reshape(tf.cast(weightMap, "float32"), [batch, n]) : undefined;
      const predictions = Array.isArray(prediction) ? prediction : [prediction as tf.Tensor];
      const perScale = predictions.map((pred) => {
        if (pred.size !== t.size) {
          throw new Error(
            `loss_type ${spec.name}: prediction shape [${pred.shape}] does not match ground truth [${groundTruth.shape}]`,
          );
        }
        const p = tf.reshape(tf.cast(pred, "float32"), t.shape);
        // Slices rather than tf.unstack: the Unpack gradient from the union bundle rejects core tensors.
        const row = (x: tf.Tensor, b: number) => tf.reshape(tf.slice(x, b, 1), x.shape.slice(1));
        const losses = [];
        for (let b = 0; b < batch; b++) {
          losses.push(spec.sample(row(p, b), row(t, b), w ? row(w, b) as tf.Tensor1D : undefined, params));
        }
        return tf.mean(tf.stack(losses));
      });
      return tf.mean(tf.stack(perScale)) as tf.Scalar;
    });
}
