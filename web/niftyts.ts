/**
 * NiftyTS for browsers: the library without what needs Deno (command line, file system, FFI kernels, TensorBoard
 * writer). `deno task bundle` builds it into one ES module, `web/dist/niftyts.js`. Files come in as bytes
 * (`parseNifti`, `decodeSafetensors`), go out as bytes (`encodeNifti1`, `encodeSafetensors`), and zoo weights are
 * fetched (`zoo.fetchZooModel`).
 *
 * @example
 * ```ts
 * import * as nifty from "./dist/niftyts.js";
 * await nifty.useBrowserBackend("webgl", { fallback: true });
 * const image = nifty.parseNifti(bytes, "t1.nii.gz");
 * const model = await nifty.zoo.fetchZooModel("gwm-light", new URL("/zoo/", location.href));
 * const { labels, volumes } = nifty.zoo.segmentImage(model, image);
 * ```
 *
 * @module
 */
export { tf } from "../src/deps.ts";
export { VERSION } from "../src/version.ts";
export * from "./backend.ts";
export * from "../src/dsl/mod.ts";
export * from "../src/kernels/mod.ts";
export * from "../src/weights/mod.ts";
export { type LossFunction, optimizerSlots, trainStep, trainStepLoss } from "../src/engine/train_step.ts";
export { fineTune, type FineTuneOptions, labelledWindow } from "../src/engine/finetune.ts";
export * from "../layers/mod.ts";
export * from "../networks/mod.ts";
export * from "../src/inference/mod.ts";
export * from "../src/io/mod.ts";
export * from "../src/geometry/mod.ts";
export * from "../src/data/mod.ts";
export * as losses from "../src/losses/mod.ts";
export * as evaluation from "../src/evaluation/mod.ts";
export * as zoo from "../zoo/portable.ts";
