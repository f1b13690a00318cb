/**
 * Point-wise interpolation with `scipy.ndimage.map_coordinates` semantics (`mode="constant"`: a coordinate
 * outside `[0, n − 1]` on any axis gives `cval`; spline taps beyond the edge are mirrored; order 3 uses the
 * mirror-boundary B-spline prefilter of src/geometry).
 *
 * @module
 */
import { type InterpOrder, splineFilter3d } from "../../geometry/resample.ts";
import type { Spatial3 } from "../types.ts";

function mirror(idx: number, n: number): number {
  if (n <= 1) return 0;
  const p = 2 * n - 2;
  let i = idx % p;
  if (i < 0) i += p;
  return i < n ? i : p - i;
}

function taps(c: number, order: InterpOrder, w: Float64Array): number {
  if (order === 0) {
    w[0] = 1;
    return Math.floor(c + 0.5);
  }
  const f = Math.floor(c), t = c - f;
  if (order === 1) {
    w[0] = 1 - t;
    w[1] = t;
    return f;
  }
  const u = 1 - t;
  w[0] = (u * u * u) / 6;
  w[1] = (t * t * (t - 2) * 3 + 4) / 6;
  w[2] = (u * u * (u - 2) * 3 + 4) / 6;
  w[3] = 1 - w[0] - w[1] - w[2];
  return f - 1;
}

/**
 * Interpolates one 3-D volume (x fastest) at `coords` = three planes `[x…, y…, z…]` of `n` points each; returns
 * `n` float64 values.
 */
export function mapCoordinates(
  input: ArrayLike<number>,
  shape: Spatial3,
  coords: ArrayLike<number>,
  options: { order?: InterpOrder; cval?: number } = {},
): Float64Array {
  const order = options.order ?? 3, cval = options.cval ?? 0;
  const n = coords.length / 3;
  const src = order === 3 ? splineFilter3d(input, shape) : input;
  const [nx, ny, nz] = shape;
  const out = new Float64Array(n);
  const k = order + 1;
  const wx = new Float64Array(4), wy = new Float64Array(4), wz = new Float64Array(4);
  const ix = new Int32Array(4), iy = new Int32Array(4), iz = new Int32Array(4);
  for (let p = 0; p < n; p++) {
    const cx = coords[p], cy = coords[n + p], cz = coords[2 * n + p];
    if (!(cx >= 0 && cx <= nx - 1 && cy >= 0 && cy <= ny - 1 && cz >= 0 && cz <= nz - 1)) {
      out[p] = cval;
      continue;
    }
    const x0 = taps(cx, order, wx), y0 = taps(cy, order, wy), z0 = taps(cz, order, wz);
    for (let t = 0; t < k; t++) {
      ix[t] = mirror(x0 + t, nx);
      iy[t] = mirror(y0 + t, ny) * nx;
      iz[t] = mirror(z0 + t, nz) * nx * ny;
    }
    let acc = 0;
    for (let c = 0; c < k; c++) {
      for (let b = 0; b < k; b++) {
        const row = iz[c] + iy[b];
        let ax = 0;
        for (let a = 0; a < k; a++) ax += wx[a] * src[row + ix[a]];
        acc += wz[c] * wy[b] * ax;
      }
    }
    out[p] = acc;
  }
  return out;
}
