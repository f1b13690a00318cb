/**
 * Loss functions selected by NiftyNet `loss_type` names: segmentation, regression, classification, GAN and
 * autoencoder. All are tfjs ops (differentiable), channels-last, 2D or 3D.
 *
 * @example
 * ```ts
 * import { getLoss } from "./mod.ts";
 * const dice = getLoss("Dice", { nClasses: 2 });
 * const l2 = getLoss("L2Loss", { application: "regression" });
 * ```
 *
 * @module
 */
export {
  getLoss,
  loadLossPlugin,
  type LossApplication,
  type LossDefinition,
  type LossFunctions,
  lossNames,
  type LossOptions,
  registerLoss,
} from "./registry.ts";
export type { LossParams } from "./_util.ts";
export {
  crossEntropy,
  crossEntropyDense,
  type DataLoss,
  dice,
  diceDense,
  dicePlusCrossEntropy,
  type GdscWeight,
  generalisedDice,
  M_TREE,
  segmentationLoss,
  type SegmentationLossOptions,
  type SegmentationLossSpec,
  sensitivitySpecificity,
  tversky,
  volumeEnforcement,
  wassersteinDice,
} from "./segmentation.ts";
export { cosineLoss, huberLoss, l1Loss, l2Loss, regressionLoss, rmseLoss, smoothL1Loss } from "./regression.ts";
export {
  type AutoencoderLoss,
  classificationCrossEntropy,
  ganCrossEntropy,
  type GanLoss,
  type GanLosses,
  variationalLowerBound,
} from "./classification.ts";
