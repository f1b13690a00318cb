/**
 * Percentile clipping and intensity rescaling (MONAI `ScaleIntensityRangePercentiles`-style), each returning the
 * linear map applied so that outputs can be mapped back.
 *
 * @module
 */
import { maskedSorted, percentileSorted } from "./histogram_standardisation.ts";

/** Options for {@link rescaleIntensity}. */
export interface RescaleOptions {
  /** Lower / upper percentile of the input range, in [0, 100] (default 0, 100: min and max). */
  lowerPercentile?: number;
  upperPercentile?: number;
  /** Output range (default 0, 1). */
  outMin?: number;
  outMax?: number;
  /** Clip values outside the percentile range (default true). */
  clip?: boolean;
  /** Compute percentiles over this mask only. */
  mask?: ArrayLike<number>;
}

/** A linear intensity map `y = x · scale + offset`. */
export interface LinearMap {
  readonly scale: number;
  readonly offset: number;
}

/** The values at the given percentiles (numpy's linear rule). */
export function percentiles(data: ArrayLike<number>, qs: readonly number[], mask?: ArrayLike<number>): number[] {
  const sorted = maskedSorted(data, mask);
  return qs.map((q) => percentileSorted(sorted, q));
}

/** Clips values to `[p_lower, p_upper]` percentiles. */
export function clipPercentiles(
  data: ArrayLike<number>,
  options: { lowerPercentile: number; upperPercentile: number; mask?: ArrayLike<number> },
): Float32Array {
  const [lo, hi] = percentiles(data, [options.lowerPercentile, options.upperPercentile], options.mask);
  return Float32Array.from(data, (v) => Math.min(hi, Math.max(lo, v)));
}

/** Maps the percentile range linearly onto `[outMin, outMax]`; returns the data and the map (invert with {@link invertLinear}). */
export function rescaleIntensity(
  data: ArrayLike<number>,
  options: RescaleOptions = {},
): { data: Float32Array; map: LinearMap } {
  const [lo, hi] = percentiles(data, [options.lowerPercentile ?? 0, options.upperPercentile ?? 100], options.mask);
  const outMin = options.outMin ?? 0, outMax = options.outMax ?? 1;
  const scale = hi > lo ? (outMax - outMin) / (hi - lo) : 0;
  const offset = outMin - lo * scale;
  const clip = options.clip ?? true;
  const out = Float32Array.from(data, (v) => (clip ? Math.min(hi, Math.max(lo, v)) : v) * scale + offset);
  return { data: out, map: { scale, offset } };
}

/** The inverse of a {@link LinearMap} applied to data (clipped values stay at the range ends). */
export function invertLinear(data: ArrayLike<number>, map: LinearMap): Float32Array {
  if (map.scale === 0) throw new Error("cannot invert a rescale of a constant image (scale 0)");
  return Float32Array.from(data, (v) => (v - map.offset) / map.scale);
}
