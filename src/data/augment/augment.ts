/**
 * One entry point for training-time augmentation of a subject, driven by NiftyNet's [TRAINING] keys plus the
 * extras: spatial steps (flip, rotation/scaling, elastic) apply to every role with one draw (labels nearest),
 * intensity steps (bias field, noise, gamma, blur) to intensity roles only.
 *
 * @module
 */
import type { InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume } from "../types.ts";
import { makeRandom, type RandomStream } from "../_random.ts";
import { drawFlipAxes, flipVolume } from "./flip.ts";
import { randomAffine, type RandomAffineOptions } from "./spatial.ts";
import { randomElastic } from "./elastic.ts";
import { gaussianNoise, randomBiasField, randomBlur, randomGamma } from "./intensity.ts";

/** Augmentation settings; field names mirror the INI keys (empty ranges switch a step off). */
export interface AugmentationOptions extends Omit<RandomAffineOptions, "seed"> {
  /** INI `random_flipping_axes` (default none). */
  randomFlippingAxes?: readonly number[];
  /** INI `do_elastic_deformation` (default false). */
  doElasticDeformation?: boolean;
  /** INI `num_ctrl_points` (default 4). */
  numCtrlPoints?: number;
  /** INI `deformation_sigma` (default 15). */
  deformationSigma?: number;
  /** INI `proportion_to_deform` (default 0.5). */
  proportionToDeform?: number;
  /** INI `bias_field_range` (default none). */
  biasFieldRange?: readonly number[];
  /** INI `bf_order` (default 3). */
  bfOrder?: number;
  /** Extra: Gaussian noise standard deviation range (default none). */
  noiseStd?: readonly number[];
  /** Extra: log-gamma range (default none). */
  logGammaRange?: readonly number[];
  /** Extra: blur σ range in voxels (default none). */
  blurSigmaRange?: readonly number[];
  /** Roles that get intensity augmentation (default `["image"]`). */
  intensityRoles?: readonly string[];
  /** Spatial interpolation order for non-label roles (default 3). */
  order?: InterpOrder;
}

/** Applies every configured augmentation to a subject's volumes with one seeded stream. */
export function augmentVolumes(
  volumes: Readonly<Record<string, ChannelVolume>>,
  options: AugmentationOptions,
  seed?: number | RandomStream,
): Record<string, ChannelVolume> {
  const rng = makeRandom(seed);
  let out: Record<string, ChannelVolume> = { ...volumes };
  const axes = drawFlipAxes(rng, { randomFlippingAxes: options.randomFlippingAxes ?? [] });
  if (axes.length) { for (const r of Object.keys(out)) out[r] = flipVolume(out[r], axes); }
  out = randomAffine(out, { ...options, seed: rng });
  if (options.doElasticDeformation) out = randomElastic(out, { ...options, seed: rng });
  const intensity = options.intensityRoles ?? ["image"];
  for (const r of Object.keys(out)) {
    if (!intensity.includes(r)) continue;
    let v = out[r];
    if (options.biasFieldRange?.length) {
      v = randomBiasField(v, { biasFieldRange: options.biasFieldRange, bfOrder: options.bfOrder, seed: rng });
    }
    if (options.noiseStd?.length) v = gaussianNoise(v, { std: options.noiseStd, seed: rng });
    if (options.logGammaRange?.length) v = randomGamma(v, { logGammaRange: options.logGammaRange, seed: rng });
    if (options.blurSigmaRange?.length) v = randomBlur(v, { sigmaRange: options.blurSigmaRange, seed: rng });
    out[r] = v;
  }
  return out;
}
