/**
 * The data pipeline: reading subjects (input sections, splits, lazy loading), preprocessing with inverses,
 * augmentation, window samplers, and the one window pipeline (visits in this thread or on worker threads →
 * checkpointable batches → read-ahead queue), and aggregators that write results on the
 * input's original grid.
 *
 * @module
 */
export * from "./types.ts";
export * from "./reader/mod.ts";
export * from "./preprocess/mod.ts";
export * from "./augment/mod.ts";
export * from "./sampler/mod.ts";
export * from "./aggregator/mod.ts";
export * from "./pipeline.ts";
export * from "./parallel.ts";
export * from "./batch_source.ts";
export * from "./window_batches.ts";
