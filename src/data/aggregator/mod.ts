/**
 * Aggregators (grid with border cropping, average/Gaussian blending, test-time flips, resize, classification)
 * and writing outputs on the input's original grid.
 *
 * @module
 */
export * from "./grid.ts";
export * from "./resize.ts";
export * from "./output.ts";
