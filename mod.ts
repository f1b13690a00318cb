/**
 * NiftyTS: deep learning for medical imaging, in TypeScript on Deno (and browsers).
 *
 * @example
 * ```ts
 * import * as nifty from "./mod.ts";
 * await nifty.useBackend("cpu");
 * const net = new nifty.ToyNet({ numClasses: 2 });
 * const store = new nifty.VariableStore();
 * const logits = nifty.applyNetwork(net, [nifty.tf.zeros([1, 8, 8, 8, 1])], { store });
 * ```
 *
 * @module
 */
export { tf } from "./src/deps.ts";
export { VERSION } from "./src/version.ts";
export * from "./src/backend.ts";
export * from "./src/dsl/mod.ts";
export * from "./src/kernels/mod.ts";
export * from "./src/weights/mod.ts";
export { importPlugin, isModuleReference } from "./src/util/plugin.ts";
export * from "./src/viz/mod.ts";
export { type LossFunction, optimizerSlots, trainStep, trainStepLoss } from "./src/engine/train_step.ts";
export { Progress } from "./src/engine/progress.ts";
export * from "./layers/mod.ts";
export * from "./networks/mod.ts";
export * from "./src/inference/mod.ts";
export * from "./src/io/mod.ts";
export * from "./src/geometry/mod.ts";
export * from "./src/data/mod.ts";
// Losses and metrics share names (`dice` is both): they are reached as `losses.getLoss`, `evaluation.evaluatePair`.
export * as losses from "./src/losses/mod.ts";
export * as evaluation from "./src/evaluation/mod.ts";
export * from "./src/engine/mod.ts";
export * from "./src/applications/mod.ts";
export { convertCommand, type ConvertOptions, infoCommand, parseConvertFlags } from "./src/commands/info_convert.ts";
// The model zoo: `zoo.load(id)`, `zoo.segment(id, image)`, manifests and the pipeline's steps.
export * as zoo from "./zoo/mod.ts";
