/**
 * Nyúl histogram standardisation (Nyúl, Udupa & Zhang 2000) with NiftyNet's conventions: 13 landmarks per image
 * (the `cutoff` percentiles and 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90 %) over the foreground; training maps
 * each image's cutoff range linearly onto [0, 100] and averages the landmarks; applying maps an image piecewise
 * linearly through the `norm_type` subset of landmarks (`percentile`, `quartile` or `median`), extending the end
 * segments linearly. Reference file (`histogram_ref_file`): one `name v1 v2 …` line per modality.
 *
 * @module
 */

/** INI `norm_type`. */
export type NormType = "percentile" | "quartile" | "median";

const INNER = [0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9];
const SUBSETS: Record<NormType, readonly number[]> = {
  quartile: [0, 3, 6, 9, 12],
  percentile: [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12],
  median: [0, 6, 12],
};

/** `numpy.percentile` (linear interpolation) of already sorted values; `q` in [0, 100]. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error("percentile of an empty set");
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Sorted copy of the values under a mask (all values when no mask). */
export function maskedSorted(data: ArrayLike<number>, mask?: ArrayLike<number>): Float64Array {
  const vals: number[] = [];
  for (let i = 0; i < data.length; i++) if (!mask || mask[i]) vals.push(data[i]);
  return Float64Array.from(vals).sort();
}

/** The 13 landmarks of one image (NiftyNet's `__compute_percentiles`), `cutoff` as fractions. */
export function computeLandmarks(
  data: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  cutoff: readonly [number, number],
): Float64Array {
  const sorted = maskedSorted(data, mask);
  return Float64Array.from([cutoff[0], ...INNER, cutoff[1]], (p) => percentileSorted(sorted, 100 * p));
}

/** NiftyNet's cutoff rule: ordered, within [0, 1], and outside the inner landmarks (≤ 0.09 / ≥ 0.91, quartile 0.24 / 0.76). */
export function standardiseCutoff(cutoff: readonly number[], normType: NormType): [number, number] {
  if (cutoff.length < 2) return [0.01, 0.99];
  let lo = Math.min(...cutoff), hi = Math.max(...cutoff);
  lo = Math.max(0, lo);
  hi = Math.min(1, hi);
  return normType === "quartile" ? [Math.min(lo, 0.24), Math.max(hi, 0.76)] : [Math.min(lo, 0.09), Math.max(hi, 0.91)];
}

/** Options for {@link trainLandmarks} and {@link standardiseHistogram}. */
export interface HistogramOptions {
  /** INI `cutoff` (default `[0.01, 0.99]`). */
  cutoff?: readonly [number, number];
  /** INI `norm_type` (default `percentile`). */
  normType?: NormType;
}

/**
 * Reference landmarks from training images (NiftyNet's averaged mapping onto the standard range [0, 100]).
 * Each item is one channel's voxels and optional mask.
 */
export function trainLandmarks(
  images: Iterable<{ data: ArrayLike<number>; mask?: ArrayLike<number> }>,
  options: HistogramOptions = {},
): Float64Array {
  const cutoff = options.cutoff ?? [0.01, 0.99];
  const perc = [...images].map(({ data, mask }) => computeLandmarks(data, mask, cutoff));
  if (perc.length === 0) throw new Error("histogram standardisation: no training image to learn landmarks from");
  const [s1, s2] = [0, 100];
  const slopes = perc.map((p) => {
    const s = (s2 - s1) / (p[12] - p[0]);
    return Number.isFinite(s) ? s : 0;
  });
  const out = new Float64Array(13);
  for (let k = 0; k < 13; k++) out[k] = perc.reduce((acc, p, i) => acc + slopes[i] * p[k], 0) / perc.length;
  const intercept = perc.reduce((acc, p, i) => acc + (s1 - slopes[i] * p[0]), 0) / perc.length;
  return out.map((v) => v + intercept);
}

/** Maps one image through reference `landmarks` (piecewise linear between its own landmarks). */
export function standardiseHistogram(
  data: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  landmarks: ArrayLike<number>,
  options: HistogramOptions = {},
): Float32Array {
  const normType = options.normType ?? "percentile";
  const subset = SUBSETS[normType];
  if (!subset) throw new Error(`invalid norm_type "${normType}": expected percentile, quartile or median`);
  if (landmarks.length < 13) throw new Error(`histogram reference has ${landmarks.length} landmarks, expected 13`);
  const cutoff = standardiseCutoff(options.cutoff ?? [0.01, 0.99], normType);
  const perc = computeLandmarks(data, mask, cutoff);
  const ref = subset.map((i) => landmarks[i]), src = subset.map((i) => perc[i]);
  const slope: number[] = [], inter: number[] = [];
  for (let k = 0; k + 1 < src.length; k++) {
    const d = src[k + 1] - src[k];
    // Two equal landmarks (e.g. a large background): that segment is flat, as NiftyNet.
    slope.push(d === 0 ? 0 : (ref[k + 1] - ref[k]) / d);
    inter.push(ref[k] - slope[k] * src[k]);
  }
  const inner = src.slice(1, -1);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // numpy.digitize(v, inner, right=False): number of inner landmarks <= v.
    let b = 0;
    while (b < inner.length && inner[b] <= v) b++;
    out[i] = slope[b] * v + inter[b];
  }
  return out;
}

/** Parses a `histogram_ref_file` (`name v1 v2 …` per line). */
export function parseHistogramRef(text: string, path = "histogram_ref_file"): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  text.split(/\r?\n/).forEach((line, i) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2 || parts[0] === "") return;
    const values = parts.slice(1).map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      throw new Error(`"${path}" line ${i + 1}: non-numeric landmark in "${line}"`);
    }
    out.set(parts[0], Float64Array.from(values));
  });
  return out;
}

/** Formats landmarks per modality as a `histogram_ref_file`. */
export function formatHistogramRef(ref: ReadonlyMap<string, ArrayLike<number>>): string {
  return [...ref].map(([name, v]) => `${name} ${Array.from(v).join(" ")}\n`).join("");
}
