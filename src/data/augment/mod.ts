/**
 * Seeded augmentation: flips, rotation/scaling, elastic deformation, bias field, noise, gamma, blur, and
 * `map_coordinates`-style interpolation.
 *
 * @module
 */
export * from "./flip.ts";
export * from "./spatial.ts";
export * from "./elastic.ts";
export * from "./intensity.ts";
export * from "./augment.ts";
export { mapCoordinates } from "../../geometry/resample.ts";
