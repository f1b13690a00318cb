/**
 * Confusion counts of two binary masks and the overlap metrics derived from them (NiftyNet 0.6
 * `segmentation_evaluations.py` definitions).
 *
 * Zero denominators: a ratio whose denominator is 0 is undefined and returns NaN (e.g. sensitivity with an empty
 * reference), except the agreement measures `dice`, `jaccard` and `vol_diff`, which return 1 when both masks are
 * empty; `vol_diff` with an empty reference and a non-empty segmentation is +Infinity.
 *
 * @module
 */
import type { Mask } from "./types.ts";

/** Voxel counts of a segmentation (seg) against a reference (ref). */
export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

/** Counts true/false positives/negatives of `seg` against `ref`. */
export function confusion(seg: Mask, ref: Mask): Confusion {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < seg.length; i++) {
    const s = seg[i], r = ref[i];
    if (s) {
      if (r) tp++;
      else fp++;
    } else if (r) fn++;
  }
  return { tp, fp, fn, tn: seg.length - tp - fp - fn };
}

/** a / b, NaN when b = 0. */
function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** 2TP / (2TP + FP + FN); 1 when both masks are empty. */
export function dice({ tp, fp, fn }: Confusion): number {
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/** TP / (TP + FP + FN) (intersection over union); 1 when both masks are empty. */
export function jaccard({ tp, fp, fn }: Confusion): number {
  return tp + fp + fn === 0 ? 1 : tp / (tp + fp + fn);
}

/** TP / (TP + FN). */
export function sensitivity({ tp, fn }: Confusion): number {
  return ratio(tp, tp + fn);
}

/** TN / (TN + FP). */
export function specificity({ tn, fp }: Confusion): number {
  return ratio(tn, tn + fp);
}

/** (TP + TN) / all voxels. */
export function accuracy({ tp, fp, fn, tn }: Confusion): number {
  return ratio(tp + tn, tp + fp + fn + tn);
}

/** FP / (TN + FP). */
export function falsePositiveRate({ tn, fp }: Confusion): number {
  return ratio(fp, tn + fp);
}

/** TP / (TP + FP) (precision). */
export function positivePredictiveValue({ tp, fp }: Confusion): number {
  return ratio(tp, tp + fp);
}

/** TN / (TN + FN). */
export function negativePredictiveValue({ tn, fn }: Confusion): number {
  return ratio(tn, tn + fn);
}

/** Sensitivity + specificity − 1 (Youden's J). */
export function informedness(c: Confusion): number {
  return sensitivity(c) + specificity(c) - 1;
}

/** PPV + NPV − 1. */
export function markedness(c: Confusion): number {
  return positivePredictiveValue(c) + negativePredictiveValue(c) - 1;
}

/**
 * NiftyNet 0.6's `vol_diff`: segmented volume over reference volume, (TP + FP) / (TP + FN) — a ratio (1 is
 * perfect), not a difference. 1 when both are empty, +Infinity when only the reference is empty.
 */
export function volumeRatio({ tp, fp, fn }: Confusion): number {
  const seg = tp + fp, ref = tp + fn;
  if (ref === 0) return seg === 0 ? 1 : Infinity;
  return seg / ref;
}
