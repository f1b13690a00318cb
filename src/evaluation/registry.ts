/**
 * The metric registry, by NiftyNet's `[EVALUATION] evaluations` names (plus `ppv`, `npv`, `com_distance`,
 * `surface_dice`, `psnr`, `ssim`). Plugins add entries with {@link registerMetric}.
 *
 * @module
 */
import { classificationAccuracy, rocAuc } from "./classification.ts";
import {
  averageDistance,
  centreOfMassDistance,
  hausdorff95Distance,
  hausdorffDistance,
  surfaceDice,
  type SurfaceDistances,
} from "./distance.ts";
import * as overlap from "./overlap.ts";
import { meanAbsoluteError, meanSquaredError, psnr, ssim } from "./regression.ts";
import type { Mask, VoxelData } from "./types.ts";
import { closestMatch } from "../util/suggest.ts";

/** What a segmentation metric sees: one pair of binary masks, with cached counts and surface distances. */
export interface SegmentationContext {
  readonly seg: Mask;
  readonly ref: Mask;
  readonly shape: readonly number[];
  readonly spacing: readonly number[];
  /** Tolerance of `surface_dice` in mm (`[EVALUATION] surface_tolerance`, `--surface-tolerance`; default 1). */
  readonly surfaceTolerance: number;
  confusion(): overlap.Confusion;
  distances(): SurfaceDistances;
}

/** A metric of one binary segmentation against its reference. */
export interface SegmentationMetric {
  readonly kind: "segmentation";
  readonly name: string;
  compute(context: SegmentationContext): number;
}

/** A metric of one image against a reference image (same shape). */
export interface RegressionMetric {
  readonly kind: "regression";
  readonly name: string;
  compute(seg: VoxelData, ref: VoxelData, shape: readonly number[]): number;
}

/** A metric over many subjects' predicted vs true classes (or scores). */
export interface ClassificationMetric {
  readonly kind: "classification";
  readonly name: string;
  compute(predicted: ArrayLike<number>, truth: ArrayLike<number>): number;
}

/** Any registered metric. */
export type MetricDefinition = SegmentationMetric | RegressionMetric | ClassificationMetric;

const metrics = new Map<string, MetricDefinition>();

/** Adds (or replaces) a metric under its name. */
export function registerMetric(definition: MetricDefinition): void {
  metrics.set(definition.name, definition);
}

/** Registered metric names, sorted; only those of one kind when given. */
export function metricNames(kind?: MetricDefinition["kind"]): string[] {
  return [...metrics.values()].filter((m) => !kind || m.kind === kind).map((m) => m.name).sort();
}

/** Looks a metric up by name, or fails with `unknown evaluation "X"; did you mean "Y"?`. */
export function getMetric(name: string): MetricDefinition {
  const found = metrics.get(name);
  if (found) return found;
  const best = closestMatch(name, metrics.keys());
  throw new Error(`unknown evaluation "${name}"${best ? `; did you mean "${best}"?` : ""}`);
}

function counts(name: string, fn: (c: overlap.Confusion) => number): SegmentationMetric {
  return { kind: "segmentation", name, compute: (ctx) => fn(ctx.confusion()) };
}

const overlapMetrics: [string[], (c: overlap.Confusion) => number][] = [
  [["dice", "Dice"], overlap.dice],
  [["jaccard", "Jaccard", "intersection_over_union"], overlap.jaccard],
  [["n_pos_ref"], (c) => c.tp + c.fn],
  [["n_neg_ref"], (c) => c.tn + c.fp],
  [["n_pos_seg"], (c) => c.tp + c.fp],
  [["n_neg_seg"], (c) => c.tn + c.fn],
  [["tp", "n_intersection"], (c) => c.tp],
  [["fp"], (c) => c.fp],
  [["fn"], (c) => c.fn],
  [["tn"], (c) => c.tn],
  [["n_union"], (c) => c.tp + c.fp + c.fn],
  [["sensitivity"], overlap.sensitivity],
  [["specificity"], overlap.specificity],
  [["accuracy"], overlap.accuracy],
  [["false_positive_rate"], overlap.falsePositiveRate],
  [["positive_predictive_values", "ppv"], overlap.positivePredictiveValue],
  [["negative_predictive_values", "npv"], overlap.negativePredictiveValue],
  [["informedness"], overlap.informedness],
  [["markedness"], overlap.markedness],
  [["vol_diff"], overlap.volumeRatio],
];
for (const [names, fn] of overlapMetrics) for (const name of names) registerMetric(counts(name, fn));

registerMetric({ kind: "segmentation", name: "average_distance", compute: (ctx) => averageDistance(ctx.distances()) });
registerMetric({
  kind: "segmentation",
  name: "hausdorff_distance",
  compute: (ctx) => hausdorffDistance(ctx.distances()),
});
registerMetric({
  kind: "segmentation",
  name: "hausdorff95_distance",
  compute: (ctx) => hausdorff95Distance(ctx.distances()),
});
registerMetric({
  kind: "segmentation",
  name: "surface_dice",
  compute: (ctx) => surfaceDice(ctx.distances(), ctx.surfaceTolerance),
});
registerMetric({
  kind: "segmentation",
  name: "com_distance",
  compute: (ctx) => centreOfMassDistance(ctx.seg, ctx.ref, ctx.shape, ctx.spacing),
});

registerMetric({ kind: "regression", name: "mse", compute: meanSquaredError });
registerMetric({ kind: "regression", name: "rmse", compute: (a, b) => Math.sqrt(meanSquaredError(a, b)) });
registerMetric({ kind: "regression", name: "mae", compute: meanAbsoluteError });
registerMetric({ kind: "regression", name: "psnr", compute: (a, b) => psnr(a, b) });
registerMetric({ kind: "regression", name: "ssim", compute: (a, b, shape) => ssim(a, b, shape) });

registerMetric({ kind: "classification", name: "classification_accuracy", compute: classificationAccuracy });
registerMetric({ kind: "classification", name: "roc_auc", compute: rocAuc });
