/**
 * Exact Euclidean distance transform with anisotropic voxel spacing, by the separable lower-envelope-of-parabolas
 * algorithm of Felzenszwalb & Huttenlocher (2012), O(voxels) per axis. Written here (no maintained npm package
 * does N-D EDT with spacing on typed arrays).
 *
 * @module
 */
import { stridesOf, voxelCount } from "./types.ts";

/**
 * Squared distance in mm² from every voxel to the nearest voxel where `features` is non-zero (0 on features,
 * Infinity everywhere when there is none). Row-major data, `spacing[d]` mm along axis `d`; equals
 * `scipy.ndimage.distance_transform_edt(features == 0, sampling=spacing) ** 2`.
 */
export function squaredDistanceTransform(
  features: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
): Float64Array {
  const n = voxelCount(shape);
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) dist[i] = features[i] ? 0 : Infinity;
  const strides = stridesOf(shape);
  const longest = Math.max(...shape);
  const line = new Float64Array(longest), out = new Float64Array(longest);
  const vertices = new Int32Array(longest), bounds = new Float64Array(longest + 1);
  // Last axis first: it is contiguous, and after it most lines of a sparse feature set are already finite.
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const length = shape[axis], stride = strides[axis], block = length * stride, h = spacing[axis];
    for (let outer = 0; outer < n; outer += block) {
      for (let inner = 0; inner < stride; inner++) {
        const base = outer + inner;
        let any = false;
        for (let q = 0, i = base; q < length; q++, i += stride) {
          const v = dist[i];
          line[q] = v;
          if (v !== Infinity) any = true;
        }
        if (!any) continue;
        lowerEnvelope(line, out, length, h, vertices, bounds);
        for (let q = 0, i = base; q < length; q++, i += stride) dist[i] = out[q];
      }
    }
  }
  return dist;
}

/**
 * 1-D squared distance transform of sampled function `f` (length `n`, sample spacing `h`):
 * out[q] = min_p (h·(q − p))² + f[p]. Infinite samples are skipped (they never win).
 */
function lowerEnvelope(
  f: Float64Array,
  out: Float64Array,
  n: number,
  h: number,
  v: Int32Array,
  z: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    const xq = q * h, cq = fq + xq * xq;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // Pop parabolas hidden by the new one; z[0] = −∞ stops the loop at the first.
    let s: number;
    for (;;) {
      const p = v[k], xp = p * h;
      s = (cq - (f[p] + xp * xp)) / (2 * (xq - xp));
      if (s > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    const x = q * h;
    while (z[k + 1] < x) k++;
    const dx = x - v[k] * h;
    out[q] = dx * dx + f[v[k]];
  }
}
