/**
 * The applications. Importing this module registers them with the engine's registry
 * (`src/engine/application.ts`) under their NiftyNet names (`segmentation`, `regression`, `classification`,
 * `autoencoder`, `gan`), sections and aliases (`net_segment`, `segment` …), so the driver's `runAction` finds them
 * from a config. Each application module registers itself; the import order is the order of the columns of
 * docs/CONFIG.md.
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
export { segmentationApplication } from "./segmentation.ts";
export { cropBorder, regressionApplication } from "./regression.ts";
export { classificationApplication } from "./classification.ts";
export { autoencoderApplication } from "./autoencoder.ts";
export { ganApplication } from "./gan.ts";
