/**
 * Surface distances between two binary masks in mm (anisotropic spacing), from exact Euclidean distance
 * transforms, and the centre-of-mass distance.
 *
 * Definitions: the surface of a mask is the set of its voxels with a face neighbour outside it (see
 * {@link surface}); for every surface voxel of one mask we take the distance (between voxel centres) to the nearest
 * surface voxel of the other. Hausdorff = max of both directed maxima; Hausdorff95 = max of the two directed 95th
 * percentiles (numpy's linear interpolation), as NiftyNet and MONAI; average distance = (Σ d(seg→ref) +
 * Σ d(ref→seg)) / (|∂seg| + |∂ref|), the average symmetric surface distance.
 *
 * Empty masks: when both are empty every distance is 0 (perfect agreement, matching dice = 1); when exactly one is
 * empty every distance is +Infinity (there is no surface to reach).
 *
 * Normalised surface Dice at tolerance τ mm (Nikolov et al. 2021, MONAI's `compute_surface_dice` without
 * sub-voxels): (|{d ∈ seg→ref : d ≤ τ}| + |{d ∈ ref→seg : d ≤ τ}|) / (|∂seg| + |∂ref|), over the same surface voxels
 * and distances as above. As MONAI: NaN when both masks are empty (no boundary at all), 0 when exactly one is.
 *
 * @module
 */
import { squaredDistanceTransform } from "./edt.ts";
import { surface } from "./morphology.ts";
import { type Mask, stridesOf } from "./types.ts";

/** Directed surface distances in mm: one entry per surface voxel of seg (to ref) and of ref (to seg). */
export interface SurfaceDistances {
  readonly segToRef: Float64Array;
  readonly refToSeg: Float64Array;
  /** Which masks are empty (distances are then empty arrays and the metrics follow the documented rule). */
  readonly segEmpty: boolean;
  readonly refEmpty: boolean;
}

/** Bounding box `[lo, hi)` per axis of the non-zero voxels of any of `masks`, or undefined when all are empty. */
function boundingBox(masks: Mask[], shape: readonly number[]): { lo: number[]; hi: number[] } | undefined {
  const rank = shape.length, strides = stridesOf(shape);
  const lo = shape.map((n) => n), hi = shape.map(() => 0);
  let any = false;
  const n = masks[0].length;
  for (let i = 0; i < n; i++) {
    let set = false;
    for (const m of masks) if (m[i]) set = true;
    if (!set) continue;
    any = true;
    let rest = i;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(rest / strides[d]);
      rest -= c * strides[d];
      if (c < lo[d]) lo[d] = c;
      if (c + 1 > hi[d]) hi[d] = c + 1;
    }
  }
  return any ? { lo, hi } : undefined;
}

/** Copies the box `[lo, hi)` of a row-major array into a new array of shape `hi − lo`. */
function crop(mask: Mask, shape: readonly number[], lo: number[], hi: number[]): Mask {
  const rank = shape.length, strides = stridesOf(shape);
  const size = hi.map((h, d) => h - lo[d]);
  const out = new Uint8Array(size.reduce((a, b) => a * b, 1));
  const inner = size[rank - 1];
  const coord = new Array(rank - 1).fill(0);
  for (let o = 0; o < out.length; o += inner) {
    let src = lo[rank - 1];
    for (let d = 0; d < rank - 1; d++) src += (coord[d] + lo[d]) * strides[d];
    out.set(mask.subarray(src, src + inner), o);
    for (let d = rank - 2; d >= 0; d--) {
      if (++coord[d] < size[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

/**
 * Directed surface distances between `seg` and `ref`. Work is confined to the bounding box of both masks: nearest
 * surface points of one mask from the other's lie inside it, so the result is exact.
 */
export function surfaceDistances(
  seg: Mask,
  ref: Mask,
  shape: readonly number[],
  spacing: readonly number[],
): SurfaceDistances {
  const box = boundingBox([seg, ref], shape);
  if (!box) return { segToRef: new Float64Array(0), refToSeg: new Float64Array(0), segEmpty: true, refEmpty: true };
  const size = box.hi.map((h, d) => h - box.lo[d]);
  const s = surface(crop(seg, shape, box.lo, box.hi), size);
  const r = surface(crop(ref, shape, box.lo, box.hi), size);
  const directed = (from: Mask, to: Mask): Float64Array => {
    let count = 0;
    for (let i = 0; i < from.length; i++) count += from[i];
    const out = new Float64Array(count);
    let hasTarget = false;
    for (let i = 0; i < to.length && !hasTarget; i++) hasTarget = to[i] === 1;
    if (!hasTarget) return out.fill(Infinity);
    const d2 = squaredDistanceTransform(to, size, spacing);
    for (let i = 0, k = 0; i < from.length; i++) if (from[i]) out[k++] = Math.sqrt(d2[i]);
    return out;
  };
  const segToRef = directed(s, r), refToSeg = directed(r, s);
  return { segToRef, refToSeg, segEmpty: segToRef.length === 0, refEmpty: refToSeg.length === 0 };
}

/** Empty-mask rule shared by the distance metrics: 0 when both are empty, Infinity when one is, else undefined. */
function emptyCase(d: SurfaceDistances): number | undefined {
  if (d.segEmpty && d.refEmpty) return 0;
  if (d.segEmpty || d.refEmpty) return Infinity;
  return undefined;
}

function max(values: Float64Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/** The p-th percentile (0–100) with linear interpolation between order statistics, as `numpy.percentile`. */
export function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Symmetric Hausdorff distance between the surfaces, mm. */
export function hausdorffDistance(d: SurfaceDistances): number {
  return emptyCase(d) ?? Math.max(max(d.segToRef), max(d.refToSeg));
}

/** Max of the two directed 95th-percentile surface distances, mm. */
export function hausdorff95Distance(d: SurfaceDistances): number {
  return emptyCase(d) ?? Math.max(percentile(d.segToRef, 95), percentile(d.refToSeg, 95));
}

/** Average symmetric surface distance, mm. */
export function averageDistance(d: SurfaceDistances): number {
  const special = emptyCase(d);
  if (special !== undefined) return special;
  let sum = 0;
  for (const v of d.segToRef) sum += v;
  for (const v of d.refToSeg) sum += v;
  return sum / (d.segToRef.length + d.refToSeg.length);
}

/**
 * Normalised surface Dice: the fraction of both surfaces (counted in voxels) lying within `tolerance` mm of the other
 * surface. NaN when both masks are empty, 0 when one is (see the module doc).
 *
 * @example
 * ```ts
 * const nsd = surfaceDice(surfaceDistances(seg, ref, [40, 64, 64], [2, 0.8, 0.8]), 1); // 1 mm tolerance
 * ```
 */
export function surfaceDice(d: SurfaceDistances, tolerance: number): number {
  checkTolerance(tolerance);
  const total = d.segToRef.length + d.refToSeg.length;
  if (total === 0) return NaN;
  let within = 0;
  for (const v of d.segToRef) if (v <= tolerance) within++;
  for (const v of d.refToSeg) if (v <= tolerance) within++;
  return within / total;
}

/** Refuses a surface tolerance that is not a finite number of mm ≥ 0. */
export function checkTolerance(tolerance: number): number {
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new Error(`surface tolerance ${tolerance}: expected a finite number of mm >= 0`);
  }
  return tolerance;
}

/** Centre of mass of a mask in mm (voxel index × spacing), or undefined when empty. */
export function centreOfMass(mask: Mask, shape: readonly number[], spacing: readonly number[]): number[] | undefined {
  const rank = shape.length, sums = new Array(rank).fill(0), coord = new Int32Array(rank);
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      count++;
      for (let d = 0; d < rank; d++) sums[d] += coord[d];
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return count ? sums.map((s, d) => (s / count) * spacing[d]) : undefined;
}

/** Euclidean distance in mm between the centres of mass of seg and ref; 0 if both empty, Infinity if one is. */
export function centreOfMassDistance(
  seg: Mask,
  ref: Mask,
  shape: readonly number[],
  spacing: readonly number[],
): number {
  const a = centreOfMass(seg, shape, spacing), b = centreOfMass(ref, shape, spacing);
  if (!a && !b) return 0;
  if (!a || !b) return Infinity;
  return Math.hypot(...a.map((x, d) => x - b[d]));
}
