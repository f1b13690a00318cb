/**
 * Reusable layers for networks, with NiftyNet's scope and variable names.
 *
 * @module
 */
export * from "./activation.ts";
export * from "./bn.ts";
export * from "./convolution.ts";
