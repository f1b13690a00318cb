/**
 * Segmentation losses with NiftyNet 0.6 semantics (`niftynet/layer/loss_segmentation.py`), channels-last, 2D or 3D.
 *
 * Each loss is computed per batch element on the prediction flattened to `[N voxels, C classes]` and then averaged
 * over the batch (and over scales when a list of predictions is given), as NiftyNet's `LossFunction` does. The
 * prediction is passed through a softmax first unless the loss takes logits (cross-entropies, `DicePlusXEnt`) or
 * `softmax: false` is asked for. Labels are integers `[B, ...spatial]` or `[B, ...spatial, 1]` (dense losses take
 * `[B, ...spatial, C]`); a weight map is `[B, ...spatial]` or `[B, ...spatial, 1]`.
 *
 * Edge cases (defined so that no loss returns NaN): where NiftyNet divides 0 by 0 we return the value of a perfect
 * score instead (see each loss); an all-zero weight map therefore gives loss 0 for the weighted Dice family,
 * cross-entropy and GDSC.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { checkParams, type LossParams, numberParam, oneHot, safeDivide, sparseSoftmaxCrossEntropy } from "./_util.ts";

const EPSILON = 1e-5;

/** One batch element: prediction `[N, C]`, labels `[N]` (or `[N, C]` for dense losses), optional weights `[N]`. */
export type SampleLoss = (
  prediction: tf.Tensor2D,
  groundTruth: tf.Tensor,
  weight: tf.Tensor1D | undefined,
  params: LossParams,
) => tf.Scalar;

/** How a segmentation loss is fed: the per-sample function and what it accepts. */
export interface SegmentationLossSpec {
  /** NiftyNet `loss_type` name. */
  readonly name: string;
  /** True when the loss wants raw logits (it applies its own softmax): no softmax is applied before it. */
  readonly takesLogits: boolean;
  /** True when the ground truth is dense `[…, C]` (one-hot or probabilities) rather than integer labels. */
  readonly dense: boolean;
  /** False when a weight map is rejected (NiftyNet raises or silently ignores it there). */
  readonly weighted: boolean;
  /** Accepted `loss_func_params` keys. */
  readonly params: readonly string[];
  /** The loss of one batch element. */
  readonly sample: SampleLoss;
}

/** NiftyNet's default label distance matrix for WGDL (its `M_tree`, BraTS labels). */
export const M_TREE: readonly (readonly number[])[] = [
  [0, 1, 1, 1, 1],
  [1, 0, 0.6, 0.2, 0.5],
  [1, 0.6, 0, 0.6, 0.7],
  [1, 0.2, 0.6, 0, 0.5],
  [1, 0.5, 0.7, 0.5, 0],
];

/** Labels of one sample as `[N]`: the last column when given as `[N, k]` (NiftyNet's `ground_truth[..., -1]`). */
function labelsOf(groundTruth: tf.Tensor): tf.Tensor1D {
  if (groundTruth.rank === 1) return groundTruth as tf.Tensor1D;
  const [n, k] = groundTruth.shape;
  return tf.reshape(tf.slice(groundTruth, [0, k - 1], [n, 1]), [n]);
}

/** `sum over voxels` of `x [N, C]`, optionally weighted by `w [N]`, giving `[C]`. */
function voxelSum(x: tf.Tensor, weight: tf.Tensor1D | undefined): tf.Tensor1D {
  return tf.sum(weight ? tf.mul(x, tf.expandDims(weight, 1)) : x, 0) as tf.Tensor1D;
}

/** Sparse softmax cross-entropy on logits; weighted: Σ w·xent / max(Σ w, 1e-6), so zero weights give 0. */
export function crossEntropy(logits: tf.Tensor2D, groundTruth: tf.Tensor, weight?: tf.Tensor1D): tf.Scalar {
  const entropy = sparseSoftmaxCrossEntropy(logits, labelsOf(groundTruth));
  if (!weight) return tf.mean(entropy);
  return tf.div(tf.sum(tf.mul(entropy, weight)), tf.maximum(tf.sum(weight), 1e-6));
}

/** Softmax cross-entropy against a dense target `[N, C]` (probabilities), averaged over voxels. */
export function crossEntropyDense(logits: tf.Tensor2D, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.neg(tf.sum(tf.mul(tf.cast(target, "float32"), tf.logSoftmax(logits)), -1)));
}

/**
 * Soft Dice (Milletari 2016): 1 − mean_c (2 Σ w·p·g + ε) / (Σ w·p² + Σ w·g + ε), ε = 1e-5; `squared: false` gives
 * `Dice_NS` with Σ w·p in the denominator. A class absent from both labels and prediction scores 1.
 */
export function dice(
  probs: tf.Tensor2D,
  groundTruth: tf.Tensor,
  { weight, squared = true }: { weight?: tf.Tensor1D; squared?: boolean } = {},
): tf.Scalar {
  const g = oneHot(labelsOf(groundTruth), probs.shape[1]);
  const numerator = tf.mul(2, voxelSum(tf.mul(g, probs), weight));
  const denominator = tf.add(voxelSum(squared ? tf.square(probs) : probs, weight), voxelSum(g, weight));
  return tf.sub(1, tf.mean(tf.div(tf.add(numerator, EPSILON), tf.add(denominator, EPSILON))));
}

/** Dice against a dense target `[N, C]`; `squared` squares both denominator terms (NiftyNet `Dice_Dense`). */
export function diceDense(probs: tf.Tensor2D, target: tf.Tensor, { squared = true } = {}): tf.Scalar {
  const g = tf.cast(target, "float32");
  const numerator = tf.mul(2, tf.sum(tf.mul(probs, g), 0));
  const denominator = squared
    ? tf.add(tf.sum(tf.square(probs), 0), tf.sum(tf.square(g), 0))
    : tf.add(tf.sum(probs, 0), tf.sum(g, 0));
  return tf.sub(1, tf.mean(tf.div(tf.add(numerator, EPSILON), tf.add(denominator, EPSILON))));
}

/**
 * Tversky (Salehi 2017) over all voxels and classes at once: 1 − TP / (TP + α·FP + β·FN + ε), with
 * TP = Σ w·p·g, FP = Σ w·p·(1−g), FN = Σ w·(1−p)·g.
 */
export function tversky(
  probs: tf.Tensor2D,
  groundTruth: tf.Tensor,
  { weight, alpha = 0.5, beta = 0.5 }: { weight?: tf.Tensor1D; alpha?: number; beta?: number } = {},
): tf.Scalar {
  const g = oneHot(labelsOf(groundTruth), probs.shape[1]);
  const w = weight ? tf.expandDims(weight, 1) : tf.scalar(1);
  const tp = tf.sum(tf.mul(w, tf.mul(probs, g)));
  const fp = tf.mul(alpha, tf.sum(tf.mul(w, tf.mul(probs, tf.sub(1, g)))));
  const fn = tf.mul(beta, tf.sum(tf.mul(w, tf.mul(tf.sub(1, probs), g))));
  return tf.sub(1, tf.div(tp, tf.add(tf.add(tf.add(tp, fp), fn), EPSILON)));
}

/** Weighting of classes in the generalised Dice loss: 1/V² ("square"), 1/V ("simple") or 1 ("uniform"). */
export type GdscWeight = "square" | "simple" | "uniform";

/**
 * Generalised Dice loss (Sudre 2017): 1 − 2 Σ_c ω_c I_c / Σ_c ω_c max(S_c + R_c, 1), with ω_c from the (weighted)
 * reference volume R_c. A class with R_c = 0 gets the largest finite weight of the others (0 if none), as in
 * NiftyNet; when every weight is 0 (e.g. a zero weight map) the score is 1 and the loss 0.
 */
export function generalisedDice(
  probs: tf.Tensor2D,
  groundTruth: tf.Tensor,
  { weight, typeWeight = "square" }: { weight?: tf.Tensor1D; typeWeight?: GdscWeight } = {},
): tf.Scalar {
  const g = oneHot(labelsOf(groundTruth), probs.shape[1]);
  const refVol = voxelSum(g, weight);
  const intersect = voxelSum(tf.mul(g, probs), weight);
  const segVol = voxelSum(probs, weight);
  let classWeights: tf.Tensor = typeWeight === "square"
    ? tf.reciprocal(tf.square(refVol))
    : typeWeight === "simple"
    ? tf.reciprocal(refVol)
    : tf.onesLike(refVol);
  const infinite = tf.isInf(classWeights);
  const finiteMax = tf.max(tf.where(infinite, tf.zerosLike(classWeights), classWeights));
  classWeights = tf.where(infinite, tf.mul(tf.onesLike(classWeights), finiteMax), classWeights);
  const numerator = tf.mul(2, tf.sum(tf.mul(classWeights, intersect)));
  const denominator = tf.sum(tf.mul(classWeights, tf.maximum(tf.add(segVol, refVol), 1)));
  return tf.sub(1, safeDivide(numerator, denominator, 1)) as tf.Scalar;
}

/**
 * Generalised Wasserstein Dice loss (Fidon 2017) with label distance matrix `m` (at least C×C; background is
 * class 0): δ_n = Σ_ij M_ij p_ni g_nj, TP = Σ_n M_{0,label_n} (1 − δ_n), loss = 1 − 2TP / (2TP + Σ δ).
 * When 2TP + Σδ = 0 (all background, perfectly predicted) the loss is 0.
 */
export function wassersteinDice(
  probs: tf.Tensor2D,
  groundTruth: tf.Tensor,
  m: readonly (readonly number[])[],
): tf.Scalar {
  const nClasses = probs.shape[1];
  const block = m.slice(0, nClasses).map((row) => row.slice(0, nClasses));
  const g = oneHot(labelsOf(groundTruth), nClasses);
  // (g Mᵀ)[n, i] = M[i, label_n], so δ = Σ_i p_ni M[i, label_n].
  const delta = tf.sum(tf.mul(probs, tf.matMul(g, tf.tensor2d(block as number[][]), false, true)), 1);
  const allError = tf.sum(delta);
  const backgroundDistance = tf.matMul(g, tf.tensor2d(block[0] as number[], [nClasses, 1]));
  const truePos = tf.sum(tf.mul(tf.reshape(backgroundDistance, [-1]), tf.sub(1, delta)));
  const twoTp = tf.mul(2, truePos);
  return tf.sub(1, safeDivide(twoTp, tf.add(twoTp, allError), 1)) as tf.Scalar;
}

/**
 * Sensitivity–specificity loss (Brosch 2015), NiftyNet's form: with E = (g − p)²,
 * Σ_c r·(Σ E·g / (Σ g + ε)) + (1 − r)·(Σ E·(1−g) / (Σ (1−g) + ε)), ε = 1e-5, r = 0.05.
 */
export function sensitivitySpecificity(probs: tf.Tensor2D, groundTruth: tf.Tensor, { r = 0.05 } = {}): tf.Scalar {
  const g = oneHot(labelsOf(groundTruth), probs.shape[1]);
  const cold = tf.sub(1, g);
  const error = tf.square(tf.sub(g, probs));
  const hotPart = tf.div(tf.sum(tf.mul(error, g), 0), tf.add(tf.sum(g, 0), EPSILON));
  const coldPart = tf.div(tf.sum(tf.mul(error, cold), 0), tf.add(tf.sum(cold, 0), EPSILON));
  return tf.sum(tf.add(tf.mul(r, hotPart), tf.mul(1 - r, coldPart)));
}

/**
 * Volume enforcement: mean_c |(R_c + ε)/(S_c + ε) − (S_c + ε)/(R_c + ε)|, ε = 1e-3, with R and S the (weighted)
 * reference and predicted volumes; `hard` counts argmax voxels for S (no gradient). NiftyNet writes
 * √(x²); |x| is the same value without the NaN gradient at 0.
 */
export function volumeEnforcement(
  probs: tf.Tensor2D,
  groundTruth: tf.Tensor,
  { weight, eps = 1e-3, hard = false }: { weight?: tf.Tensor1D; eps?: number; hard?: boolean } = {},
): tf.Scalar {
  const nClasses = probs.shape[1];
  const g = oneHot(labelsOf(groundTruth), nClasses);
  const refVol = tf.add(voxelSum(g, weight), eps);
  const seg = hard ? oneHot(tf.argMax(probs, -1), nClasses) : probs;
  const segVol = tf.add(voxelSum(seg, weight), eps);
  return tf.mean(tf.abs(tf.sub(tf.div(refVol, segVol), tf.div(segVol, refVol))));
}

/**
 * Dice plus cross-entropy (Isensee 2018, nnU-Net), on logits: xent − mean_c (2 Σ w·p·g + ε) / (Σ w·p + Σ w·g + ε)
 * with p = softmax(logits). NiftyNet returns the per-class vector and its driver averages it; this is that mean.
 */
export function dicePlusCrossEntropy(logits: tf.Tensor2D, groundTruth: tf.Tensor, weight?: tf.Tensor1D): tf.Scalar {
  const xent = crossEntropy(logits, groundTruth, weight);
  const softDice = tf.sub(1, dice(tf.softmax(logits), groundTruth, { weight, squared: false }));
  return tf.sub(xent, softDice);
}

function typeWeightParam(params: LossParams): GdscWeight {
  const value = params.type_weight ?? "square";
  const lower = String(value).toLowerCase();
  if (lower === "square" || lower === "simple" || lower === "uniform") return lower;
  throw new Error(
    `loss_type GDSC: parameter "type_weight" must be Square, Simple or Uniform, got ${JSON.stringify(value)}`,
  );
}

function distanceMatrixParam(params: LossParams, nClasses: number): readonly (readonly number[])[] {
  const m = params.M ?? M_TREE;
  if (!Array.isArray(m) || m.length < nClasses || m.some((row) => !Array.isArray(row) || row.length < nClasses)) {
    throw new Error(
      `loss_type WGDL: parameter "M" must be a label distance matrix of at least ${nClasses}x${nClasses}` +
        (params.M === undefined ? ` (the default M_tree is 5x5)` : ""),
    );
  }
  return m as readonly (readonly number[])[];
}

/** The segmentation losses, by NiftyNet `loss_type` name. */
export const SEGMENTATION_LOSSES: readonly SegmentationLossSpec[] = [
  {
    name: "CrossEntropy",
    takesLogits: true,
    dense: false,
    weighted: true,
    params: [],
    sample: (p, g, w) => crossEntropy(p, g, w),
  },
  {
    name: "CrossEntropy_Dense",
    takesLogits: true,
    dense: true,
    weighted: false,
    params: [],
    sample: (p, g) => crossEntropyDense(p, g),
  },
  {
    name: "Dice",
    takesLogits: false,
    dense: false,
    weighted: true,
    params: [],
    sample: (p, g, w) => dice(p, g, { weight: w }),
  },
  {
    name: "Dice_NS",
    takesLogits: false,
    dense: false,
    weighted: true,
    params: [],
    sample: (p, g, w) => dice(p, g, { weight: w, squared: false }),
  },
  {
    name: "Dice_Dense",
    takesLogits: false,
    dense: true,
    weighted: false,
    params: [],
    sample: (p, g) => diceDense(p, g),
  },
  {
    name: "Dice_Dense_NS",
    takesLogits: false,
    dense: true,
    weighted: false,
    params: [],
    sample: (p, g) => diceDense(p, g, { squared: false }),
  },
  {
    name: "Tversky",
    takesLogits: false,
    dense: false,
    weighted: true,
    params: ["alpha", "beta"],
    sample: (p, g, w, params) =>
      tversky(p, g, {
        weight: w,
        alpha: numberParam(params, "alpha", 0.5, "Tversky"),
        beta: numberParam(params, "beta", 0.5, "Tversky"),
      }),
  },
  {
    name: "GDSC",
    takesLogits: false,
    dense: false,
    weighted: true,
    params: ["type_weight"],
    sample: (p, g, w, params) => generalisedDice(p, g, { weight: w, typeWeight: typeWeightParam(params) }),
  },
  {
    name: "DicePlusXEnt",
    takesLogits: true,
    dense: false,
    weighted: true,
    params: [],
    sample: (p, g, w) => dicePlusCrossEntropy(p, g, w),
  },
  {
    name: "WGDL",
    takesLogits: false,
    dense: false,
    weighted: false,
    params: ["M"],
    sample: (p, g, _w, params) => wassersteinDice(p, g, distanceMatrixParam(params, p.shape[1])),
  },
  {
    name: "SensSpec",
    takesLogits: false,
    dense: false,
    weighted: false,
    params: ["r"],
    sample: (p, g, _w, params) => sensitivitySpecificity(p, g, { r: numberParam(params, "r", 0.05, "SensSpec") }),
  },
  {
    name: "VolEnforcement",
    takesLogits: false,
    dense: false,
    weighted: true,
    params: ["eps", "hard"],
    sample: (p, g, w, params) =>
      volumeEnforcement(p, g, {
        weight: w,
        eps: numberParam(params, "eps", 1e-3, "VolEnforcement"),
        hard: !!params.hard,
      }),
  },
];

/** Options for {@link segmentationLoss}. */
export interface SegmentationLossOptions {
  /** Number of classes C (the prediction's last axis). */
  nClasses: number;
  /** Apply a softmax to the prediction first (NiftyNet default true; ignored by losses that take logits). */
  softmax?: boolean;
  /** NiftyNet `loss_func_params`. */
  params?: LossParams;
}

/** A loss over a batch: prediction(s) `[B, ...spatial, C]`, ground truth, optional weight map; returns a scalar. */
export type DataLoss = (
  prediction: tf.Tensor | readonly tf.Tensor[],
  groundTruth: tf.Tensor,
  weightMap?: tf.Tensor,
) => tf.Scalar;

/** Reshapes `[B, ...]` to `[B, n, k]`; `k` must be a whole number. */
function perVoxel(t: tf.Tensor, batch: number, n: number, what: string, loss: string): tf.Tensor3D {
  if (t.shape[0] !== batch || t.size % (batch * n) !== 0) {
    throw new Error(
      `loss_type ${loss}: ${what} shape [${t.shape}] does not match the prediction's batch ${batch} × ${n} voxels`,
    );
  }
  return tf.reshape(t, [batch, n, t.size / (batch * n)]);
}

/** Wraps a per-sample segmentation loss into NiftyNet's batch (and multi-scale) averaging. */
export function segmentationLoss(spec: SegmentationLossSpec, options: SegmentationLossOptions): DataLoss {
  const { nClasses, softmax = true, params = {} } = options;
  if (!Number.isInteger(nClasses) || nClasses < 1) {
    throw new Error(`loss_type ${spec.name}: number of classes must be a positive integer, got ${nClasses}`);
  }
  checkParams(params, spec.params, spec.name);
  const applySoftmax = softmax && !spec.takesLogits;
  return (prediction, groundTruth, weightMap) => {
    if (weightMap && !spec.weighted) {
      throw new Error(`loss_type ${spec.name} does not take a weight map (NiftyNet ignores or rejects it)`);
    }
    return tf.tidy(() => {
      const predictions = Array.isArray(prediction) ? prediction : [prediction as tf.Tensor];
      const perScale = predictions.map((pred) => {
        if (pred.shape[pred.rank - 1] !== nClasses) {
          throw new Error(
            `loss_type ${spec.name}: prediction shape [${pred.shape}] should end with ${nClasses} classes`,
          );
        }
        const batch = pred.shape[0], n = pred.size / (batch * nClasses);
        const p3 = tf.reshape(tf.cast(pred, "float32"), [batch, n, nClasses]);
        const g3 = perVoxel(groundTruth, batch, n, "ground truth", spec.name);
        if (spec.dense && g3.shape[2] !== nClasses) {
          throw new Error(
            `loss_type ${spec.name}: dense ground truth shape [${groundTruth.shape}] needs ${nClasses} channels`,
          );
        }
        const w3 = weightMap ? perVoxel(weightMap, batch, n, "weight map", spec.name) : undefined;
        if (w3 && w3.shape[2] !== 1) {
          throw new Error(
            `loss_type ${spec.name}: weight map shape [${weightMap!.shape}] should have one value per voxel`,
          );
        }
        const losses: tf.Scalar[] = [];
        for (let b = 0; b < batch; b++) {
          let p = tf.reshape(tf.slice(p3, [b, 0, 0], [1, n, nClasses]), [n, nClasses]) as tf.Tensor2D;
          if (applySoftmax) p = tf.softmax(p);
          const k = g3.shape[2];
          const gb = tf.reshape(tf.slice(g3, [b, 0, 0], [1, n, k]), k === 1 ? [n] : [n, k]);
          const wb = w3
            ? tf.reshape(tf.cast(tf.slice(w3, [b, 0, 0], [1, n, 1]), "float32"), [n]) as tf.Tensor1D
            : undefined;
          losses.push(spec.sample(p, gb, wb, params));
        }
        return tf.mean(tf.stack(losses));
      });
      return tf.mean(tf.stack(perScale)) as tf.Scalar;
    });
  };
}
