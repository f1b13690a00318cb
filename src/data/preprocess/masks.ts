/**
 * Foreground masks (NiftyNet's binary masking layer): a threshold rule per channel (`otsu_plus`, `otsu_minus`,
 * `threshold_plus`, `threshold_minus`, `mean_plus`), then two 6-connected dilations and hole filling, combined
 * across modalities with `and` / `or` (or kept per channel with `multi`).
 *
 * @module
 */
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { channelOf, spatialSize } from "../types.ts";

/** INI `foreground_type`. */
export type ForegroundType = "otsu_plus" | "otsu_minus" | "threshold_plus" | "threshold_minus" | "mean_plus";
/** INI `multimod_foreground_type` (default `and`). */
export type MultimodForegroundType = "and" | "or" | "multi";

const TYPES: readonly ForegroundType[] = ["otsu_plus", "otsu_minus", "threshold_plus", "threshold_minus", "mean_plus"];

/** `numpy.histogram(values, bins)` counts and bin edges (equal-width bins over [min, max]). */
export function histogram(values: ArrayLike<number>, bins: number): { counts: Float64Array; edges: Float64Array } {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Float64Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    let b = Math.floor((values[i] - lo) * scale);
    // numpy's correction at bin edges that rounding put on the wrong side.
    if (b >= bins) b = bins - 1;
    else if (values[i] < edges[b]) b--;
    else if (b + 1 < bins && values[i] >= edges[b + 1]) b++;
    counts[b]++;
  }
  return { counts, edges };
}

/** Otsu's threshold over a 256-bin histogram, as NiftyNet's `otsu_threshold` (a bin centre). */
export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  const { counts, edges } = histogram(values, bins);
  const half = (edges[1] - edges[0]) / 2;
  const centres = Float64Array.from({ length: bins }, (_, i) => edges[i] + half);
  const w1 = new Float64Array(bins),
    m1 = new Float64Array(bins),
    w2 = new Float64Array(bins),
    m2 = new Float64Array(bins);
  for (let i = 0; i < bins; i++) {
    w1[i] = (i ? w1[i - 1] : 0) + counts[i];
    m1[i] = (i ? m1[i - 1] : 0) + counts[i] * centres[i];
    const j = bins - 1 - i;
    w2[j] = (i ? w2[j + 1] : 0) + counts[j];
    m2[j] = (i ? m2[j + 1] : 0) + counts[j] * centres[j];
  }
  let best = 0, threshold = centres[0];
  for (let i = 0; i < bins - 1; i++) {
    const t = w1[i] * w2[i + 1] * (m1[i] / w1[i] - m2[i + 1] / w2[i + 1]) ** 2;
    if (t > best) {
      best = t;
      threshold = centres[i];
    }
  }
  return threshold;
}

/** One 6-connected binary dilation (scipy `binary_dilation` with the default cross, outside counts as 0). */
function dilate(mask: Uint8Array, shape: Spatial3): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(mask.length);
  let p = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, p++) {
        out[p] = mask[p] || (x > 0 && mask[p - 1]) || (x < nx - 1 && mask[p + 1]) ||
            (y > 0 && mask[p - nx]) || (y < ny - 1 && mask[p + nx]) ||
            (z > 0 && mask[p - nx * ny]) || (z < nz - 1 && mask[p + nx * ny])
          ? 1
          : 0;
      }
    }
  }
  return out;
}

/** scipy `binary_fill_holes`: background not 6-connected to the array border becomes foreground. */
export function fillHoles(mask: Uint8Array, shape: Spatial3): Uint8Array {
  const [nx, ny, nz] = shape;
  const outside = new Uint8Array(mask.length);
  const stack: number[] = [];
  const push = (p: number) => {
    if (!mask[p] && !outside[p]) {
      outside[p] = 1;
      stack.push(p);
    }
  };
  let p = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, p++) {
        if (x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1) push(p);
      }
    }
  }
  while (stack.length) {
    const q = stack.pop()!;
    const x = q % nx, y = Math.floor(q / nx) % ny, z = Math.floor(q / (nx * ny));
    if (x > 0) push(q - 1);
    if (x < nx - 1) push(q + 1);
    if (y > 0) push(q - nx);
    if (y < ny - 1) push(q + nx);
    if (z > 0) push(q - nx * ny);
    if (z < nz - 1) push(q + nx * ny);
  }
  return outside.map((o) => (o ? 0 : 1));
}

/** Options for {@link foregroundMask}. */
export interface ForegroundOptions {
  /** INI `foreground_type` (default `otsu_plus`). */
  foregroundType?: ForegroundType;
  /** Threshold of the `threshold_*` types (default 0). */
  threshold?: number;
}

/** The foreground mask of one channel (1 = foreground). Throws when it is empty, as NiftyNet. */
export function foregroundMask(data: ArrayLike<number>, shape: Spatial3, options: ForegroundOptions = {}): Uint8Array {
  const type = options.foregroundType ?? "otsu_plus";
  if (!TYPES.includes(type)) throw new Error(`invalid foreground_type "${type}": expected one of ${TYPES.join(", ")}`);
  let thr = options.threshold ?? 0;
  let anyNonZero = false, sum = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0) anyNonZero = true;
    sum += data[i];
  }
  if (type.startsWith("otsu") && anyNonZero) thr = otsuThreshold(data);
  if (type === "mean_plus") thr = sum / data.length;
  let mask: Uint8Array = new Uint8Array(data.length);
  const plus = type.endsWith("plus");
  for (let i = 0; i < data.length; i++) mask[i] = (plus ? data[i] > thr : data[i] < thr) ? 1 : 0;
  mask = fillHoles(dilate(dilate(mask, shape), shape), shape);
  if (!mask.some((v) => v)) {
    throw new Error(`no foreground with foreground_type "${type}" (threshold ${thr}); choose another foreground_type`);
  }
  return mask;
}

/**
 * Masks of every channel of a volume, combined across channels (`and`: intersection, `or`: union, `multi`: each
 * channel its own). All-zero channels take no part, as in NiftyNet. Returns one mask per channel.
 */
export function multimodMask(
  volume: ChannelVolume,
  options: ForegroundOptions & { multimodForegroundType?: MultimodForegroundType } = {},
): Uint8Array[] {
  const n = spatialSize(volume.shape);
  const masks: (Uint8Array | undefined)[] = [];
  for (let c = 0; c < volume.channels; c++) {
    const ch = channelOf(volume, c);
    masks.push(ch.some((v) => v !== 0) ? foregroundMask(ch, volume.shape, options) : undefined);
  }
  const fusion = options.multimodForegroundType ?? "and";
  const used = masks.filter((m): m is Uint8Array => m !== undefined);
  if (fusion === "multi" || used.length === 0) return masks.map((m) => m ?? new Uint8Array(n));
  const joint = new Uint8Array(n);
  for (let i = 0; i < n; i++) joint[i] = (fusion === "and" ? used.every((m) => m[i]) : used.some((m) => m[i])) ? 1 : 0;
  return masks.map((m) => (m ? joint : new Uint8Array(n)));
}
