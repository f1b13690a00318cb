/**
 * Reusable layers for networks, with NiftyNet's scope and variable names.
 *
 * @module
 */
export * from "./activation.ts";
export * from "./bn.ts";
export * from "./convolution.ts";
export * from "./instance_norm.ts";
export * from "./gn.ts";
export * from "./normalization.ts";
export * from "./deconvolution.ts";
export * from "./fully_connected.ts";
export * from "./downsample.ts";
export * from "./upsample.ts";
export * from "./additive_upsample.ts";
export * from "./linear_resize.ts";
export * from "./crop.ts";
export * from "./elementwise.ts";
export * from "./residual_unit.ts";
export * from "./dilated_context.ts";
export * from "./squeeze_excitation.ts";
export * from "./dense_feature_stack.ts";
