/**
 * Preprocessing: padding, foreground masks, whitening, Nyúl histogram standardisation, percentile clipping and
 * rescaling, discrete label normalisation — each with the record needed to undo it.
 *
 * @module
 */
export * from "./padding.ts";
export * from "./masks.ts";
export * from "./whitening.ts";
export * from "./histogram_standardisation.ts";
export * from "./intensity.ts";
export * from "./label_normalisation.ts";
export * from "./pipeline.ts";
