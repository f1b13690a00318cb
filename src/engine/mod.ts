/**
 * The engine: the `Application` contract and registry, the config keys applications act on, configuration,
 * optimisers and learning-rate schedules, checkpoints in `model_dir`, early stopping and the driver that runs
 * training, inference and evaluation.
 *
 * @example
 * ```ts
 * import { runAction } from "./mod.ts";
 * await runAction("train", "config.ini", ["--max_iter", "10"], { application: "segmentation" });
 * ```
 *
 * @module
 */
export * from "./application.ts";
export * from "./honoured_keys.ts";
export * from "./config/mod.ts";
export * from "./optimizers.ts";
export * from "./schedules.ts";
export * from "./early_stopping.ts";
export * from "./checkpoints.ts";
export * from "./driver.ts";
export { type LossFunction, trainStep, trainStepLoss } from "./train_step.ts";
export { fineTune, type FineTuneOptions, labelledWindow } from "./finetune.ts";
export { formatDuration, Progress } from "./progress.ts";
export { variableGrads } from "./variable_grads.ts";
