/**
 * The applications, registered under their NiftyNet names (`segmentation`, `regression`, `classification`,
 * `autoencoder`, `gan`) and sections, so the driver's `runAction` finds them from a config.
 *
 * @example
 * ```ts
 * import "./mod.ts";
 * import { runAction } from "../engine/mod.ts";
 * await runAction("train", "config.ini", ["--max_iter", "10"]);
 * ```
 *
 * @module
 */
import { registerApplication } from "./base.ts";
import { segmentationApplication } from "./segmentation.ts";
import { regressionApplication } from "./regression.ts";
import { classificationApplication } from "./classification.ts";
import { ganApplication } from "./gan.ts";
import { autoencoderApplication } from "./autoencoder.ts";

export * from "./base.ts";
export * from "./honoured_keys.ts";
export { segmentationApplication } from "./segmentation.ts";
export { cropBorder, regressionApplication } from "./regression.ts";
export { classificationApplication, classOf } from "./classification.ts";
export { ganApplication } from "./gan.ts";
export { autoencoderApplication } from "./autoencoder.ts";

registerApplication(segmentationApplication);
registerApplication(regressionApplication);
registerApplication(classificationApplication);
registerApplication(ganApplication);
registerApplication(autoencoderApplication);
