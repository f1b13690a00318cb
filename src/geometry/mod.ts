/**
 * Image geometry: the in-memory {@link Image} (voxels, shape, affine), affine maths, orientation (axis codes, reorientation), resampling and conforming, each with an
 * inverse that puts results back on the original grid.
 *
 * @module
 */
export * from "./image.ts";
export * from "./affine.ts";
export * from "./orientation.ts";
export * from "./resample.ts";
export * from "./conform.ts";
