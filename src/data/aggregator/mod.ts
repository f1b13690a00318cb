/**
 * Aggregators (grid with border cropping, constant/Gaussian blending of the same regions, resize, classification)
 * and writing outputs on the input's original grid.
 *
 * @module
 */
export * from "./grid.ts";
export * from "./resize.ts";
export * from "./output.ts";
