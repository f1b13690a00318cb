/**
 * Evaluation metrics on plain typed arrays (no tfjs): segmentation overlap and surface distances (mm, anisotropic
 * spacing, exact EDT) per label / foreground / connected component, regression (mse, rmse, mae, psnr, ssim) and
 * classification (accuracy, ROC AUC), a registry by NiftyNet metric names, and the evaluation CSV.
 *
 * @example
 * ```ts
 * import { evaluatePair, formatCsv } from "./mod.ts";
 * const rows = evaluatePair(seg, ref, { evaluations: ["dice", "hausdorff95_distance"], units: ["label"] });
 * console.log(formatCsv(rows, { evaluations: ["dice", "hausdorff95_distance"] }));
 * ```
 *
 * @module
 */
export { checkVolume, type Mask, type Volume, type VoxelData } from "./types.ts";
export { squaredDistanceTransform } from "./edt.ts";
export {
  type Components,
  connectedComponents,
  type Connectivity,
  fillHoles,
  keepLargestComponent,
  type LabelArray,
  surface,
} from "./morphology.ts";
export {
  accuracy,
  type Confusion,
  confusion,
  dice,
  falsePositiveRate,
  informedness,
  jaccard,
  markedness,
  negativePredictiveValue,
  positivePredictiveValue,
  sensitivity,
  specificity,
  volumeRatio,
} from "./overlap.ts";
export {
  averageDistance,
  centreOfMass,
  centreOfMassDistance,
  hausdorff95Distance,
  hausdorffDistance,
  percentile,
  surfaceDice,
  type SurfaceDistances,
  surfaceDistances,
} from "./distance.ts";
export { dataRangeOf, meanAbsoluteError, meanSquaredError, psnr, ssim } from "./regression.ts";
export { classificationAccuracy, rocAuc } from "./classification.ts";
export {
  type ClassificationMetric,
  getMetric,
  type MetricDefinition,
  metricNames,
  registerMetric,
  type RegressionMetric,
  type SegmentationContext,
  type SegmentationMetric,
} from "./registry.ts";
export {
  type EvaluateOptions,
  evaluatePair,
  type EvaluationRow,
  evaluationRows,
  type EvaluationUnit,
  type SubjectPair,
  summarizeRows,
} from "./evaluate.ts";
export { formatCsv, formatNumber, parseEvaluationCsv, splitCsvLine } from "./csv.ts";
export { evaluateResumable, type EvaluateResumableOptions, previousRows } from "./resume.ts";
export { evaluateImageFiles, evaluationVolume } from "./image_files.ts";
