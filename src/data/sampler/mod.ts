/**
 * Samplers (uniform, weighted, balanced, resize, grid, random vector, linear interpolation), the class of a
 * window, padding windows and batch tensors, and the read-ahead queue.
 *
 * @module
 */
export * from "./crop.ts";
export * from "./window_sizes.ts";
export * from "./random_samplers.ts";
export * from "./grid.ts";
export * from "./resize.ts";
export * from "./vectors.ts";
export * from "./batch.ts";
export * from "./queue.ts";
export * from "./window_class.ts";
