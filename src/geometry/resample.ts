/**
 * Resampling with `scipy.ndimage.affine_transform` semantics: orders 0 (nearest), 1 (linear) and 3 (cubic B-spline
 * with scipy's mirror-boundary prefilter), `mode="constant"` (outputs whose source coordinate falls outside
 * `[0, n − 1]` on any axis get `cval`; inside, spline taps beyond the edge are mirrored). On top of that: resampling
 * to a voxel size (nibabel.processing's extent rule) and onto any grid, the inverse used to write predictions back.
 *
 * @module
 */
import type { Affine, Image, Shape5, VoxelData } from "./image.ts";
import { invertAffine, linearPart, matmul4, voxelSizes } from "./affine.ts";

/** Interpolation order: 0 nearest, 1 linear, 3 cubic B-spline. */
export type InterpOrder = 0 | 1 | 3;

const CUBIC_POLE = Math.sqrt(3) - 2;

/** In-place cubic B-spline prefilter of one line (scipy `spline_filter1d(order=3, mode="mirror")`). */
function splineFilterLine(c: Float64Array, n: number): void {
  if (n < 2) return;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i] *= gain;
  // Causal initialisation for a mirror-symmetric extension (Unser et al. 1991).
  const zn1 = Math.pow(z, n - 1);
  let c0 = c[0] + zn1 * c[n - 1];
  let zi = z;
  for (let i = 1; i < n - 1; i++) {
    c0 += zi * (c[i] + zn1 * c[n - 1 - i]);
    zi *= z;
  }
  c[0] = c0 / (1 - zn1 * zn1);
  for (let i = 1; i < n; i++) c[i] += z * c[i - 1];
  c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1);
  for (let i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1] - c[i]);
}

/** Cubic B-spline coefficients of a 3-D volume (x fastest), filtering along each axis in turn. */
export function splineFilter3d(data: ArrayLike<number>, shape: readonly [number, number, number]): Float64Array {
  const [nx, ny, nz] = shape;
  const out = Float64Array.from(data);
  const strides = [1, nx, nx * ny];
  const sizes = [nx, ny, nz];
  for (let axis = 0; axis < 3; axis++) {
    const n = sizes[axis], stride = strides[axis];
    if (n < 2) continue;
    const line = new Float64Array(n);
    const others = [0, 1, 2].filter((a) => a !== axis);
    const [a0, a1] = others;
    for (let j = 0; j < sizes[a1]; j++) {
      for (let i = 0; i < sizes[a0]; i++) {
        const base = i * strides[a0] + j * strides[a1];
        for (let k = 0; k < n; k++) line[k] = out[base + k * stride];
        splineFilterLine(line, n);
        for (let k = 0; k < n; k++) out[base + k * stride] = line[k];
      }
    }
  }
  return out;
}

/** Mirror an out-of-range tap index into [0, n) the way scipy does at the borders. */
function mirrorIndex(idx: number, n: number): number {
  if (n <= 1) return 0;
  const s2 = 2 * n - 2;
  if (idx < 0) {
    idx = s2 * Math.trunc(-idx / s2) + idx;
    return idx <= 1 - n ? idx + s2 : -idx;
  }
  if (idx >= n) {
    idx -= s2 * Math.trunc(idx / s2);
    if (idx >= n) idx = s2 - idx;
  }
  return idx;
}

/** Fills `w` with interpolation weights for coordinate `x` and returns the first tap index. */
function weights(x: number, order: InterpOrder, w: Float64Array): number {
  if (order === 0) {
    w[0] = 1;
    return Math.floor(x + 0.5);
  }
  const f = Math.floor(x);
  const t = x - f;
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
 * Coordinates within 1e-9 voxel outside `[0, n − 1]` are rounding noise of the affine product (a grid voxel that
 * sits exactly on the input's edge): treat them as on the edge, where scipy's result would depend on the noise.
 */
function snap(c: number, n: number): number {
  if (c < 0 && c > -1e-9) return 0;
  if (c > n - 1 && c < n - 1 + 1e-9) return n - 1;
  return c;
}

/** Options for {@link affineTransform}. */
export interface AffineTransformOptions {
  /** Interpolation order (default 1). */
  order?: InterpOrder;
  /** Value for outputs that map outside the input (default 0). */
  cval?: number;
  /** Spline coefficients already computed with {@link splineFilter3d} (order 3 only; saves the prefilter). */
  prefiltered?: boolean;
}

/**
 * `scipy.ndimage.affine_transform(input, matrix, offset, output_shape, order, mode="constant", cval)` for one 3-D
 * volume stored x-fastest: `output[o] = input(matrix · o + offset)`. `matrix` is 3×3 row-major over (x, y, z)
 * voxel indices. Returns float64. One deliberate difference: a coordinate within 1e-9 voxel outside the input
 * counts as on its edge (scipy's answer there depends on rounding noise).
 */
export function affineTransform(
  input: ArrayLike<number>,
  geometry: {
    inShape: readonly [number, number, number];
    matrix: readonly (readonly number[])[];
    offset: readonly number[];
    outShape: readonly [number, number, number];
  },
  { order = 1, cval = 0, prefiltered = false }: AffineTransformOptions = {},
): Float64Array {
  const { inShape, matrix: m, offset, outShape } = geometry;
  const coeffs = order === 3 && !prefiltered ? splineFilter3d(input, inShape) : input;
  const [nx, ny, nz] = inShape;
  const [ox, oy, oz] = outShape;
  const out = new Float64Array(ox * oy * oz);
  const scratch = new InterpolationScratch();
  let p = 0;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      for (let i = 0; i < ox; i++, p++) {
        // Same operation order as scipy, so coordinates agree bit for bit given the same matrix.
        const cx = snap(i * m[0][0] + j * m[0][1] + k * m[0][2] + offset[0], nx);
        const cy = snap(i * m[1][0] + j * m[1][1] + k * m[1][2] + offset[1], ny);
        const cz = snap(i * m[2][0] + j * m[2][1] + k * m[2][2] + offset[2], nz);
        out[p] = interpolateAt(coeffs, inShape, [cx, cy, cz], order, scratch) ?? cval;
      }
    }
  }
  return out;
}

/** Reusable weight and index buffers for {@link interpolateAt} (one per loop, not per point). */
export class InterpolationScratch {
  readonly wx = new Float64Array(4);
  readonly wy = new Float64Array(4);
  readonly wz = new Float64Array(4);
  readonly ix = new Int32Array(4);
  readonly iy = new Int32Array(4);
  readonly iz = new Int32Array(4);
}

/**
 * The value of a volume (x fastest; B-spline coefficients for order 3, see {@link splineFilter3d}) at a continuous
 * voxel coordinate, scipy.ndimage's rule: undefined outside `[0, n − 1]` on any axis (the caller's `cval`), spline
 * taps beyond the edge mirrored.
 */
export function interpolateAt(
  coeffs: ArrayLike<number>,
  shape: readonly [number, number, number],
  [cx, cy, cz]: readonly [number, number, number],
  order: InterpOrder,
  s: InterpolationScratch,
): number | undefined {
  const [nx, ny, nz] = shape;
  if (!(cx >= 0 && cx <= nx - 1 && cy >= 0 && cy <= ny - 1 && cz >= 0 && cz <= nz - 1)) return undefined;
  const taps = order + 1;
  const x0 = weights(cx, order, s.wx), y0 = weights(cy, order, s.wy), z0 = weights(cz, order, s.wz);
  for (let t = 0; t < taps; t++) {
    s.ix[t] = mirrorIndex(x0 + t, nx);
    s.iy[t] = mirrorIndex(y0 + t, ny) * nx;
    s.iz[t] = mirrorIndex(z0 + t, nz) * nx * ny;
  }
  let acc = 0;
  for (let c = 0; c < taps; c++) {
    let accY = 0;
    for (let b = 0; b < taps; b++) {
      const row = s.iz[c] + s.iy[b];
      let accX = 0;
      for (let a = 0; a < taps; a++) accX += s.wx[a] * coeffs[row + s.ix[a]];
      accY += s.wy[b] * accX;
    }
    acc += s.wz[c] * accY;
  }
  return acc;
}

/**
 * `scipy.ndimage.map_coordinates` with `mode="constant"`: interpolates a volume (x fastest) at `coords`, three
 * planes `[x…, y…, z…]` of `n` points each; order 3 applies the mirror-boundary B-spline prefilter first.
 */
export function mapCoordinates(
  input: ArrayLike<number>,
  shape: readonly [number, number, number],
  coords: ArrayLike<number>,
  { order = 3, cval = 0 }: { order?: InterpOrder; cval?: number } = {},
): Float64Array {
  const n = coords.length / 3;
  const coeffs = order === 3 ? splineFilter3d(input, shape) : input;
  const out = new Float64Array(n);
  const scratch = new InterpolationScratch();
  for (let p = 0; p < n; p++) {
    out[p] = interpolateAt(coeffs, shape, [coords[p], coords[n + p], coords[2 * n + p]], order, scratch) ?? cval;
  }
  return out;
}

/** A target voxel grid: spatial shape and voxel→world affine. */
export interface Grid {
  readonly shape: readonly [number, number, number];
  readonly affine: Affine;
}

/** Options for {@link resampleToGrid} and {@link resampleToPixdim}. */
export interface ResampleOptions {
  /** Interpolation order (default 1; use 0 for label maps). */
  order?: InterpOrder;
  /** Value outside the input (default 0). */
  cval?: number;
}

/** The output typed array: nearest keeps the input type, interpolation gives float32 (float64 for float64 input). */
function outputArray(input: VoxelData, order: InterpOrder, n: number): VoxelData {
  if (order === 0) return new (input.constructor as { new (n: number): VoxelData })(n);
  return input instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Resamples an image onto another voxel grid (nibabel `resample_from_to`): each target voxel takes the input's
 * interpolated value at the same world position. Every t/c volume is resampled the same way.
 */
export function resampleToGrid(image: Image, grid: Grid, { order = 1, cval = 0 }: ResampleOptions = {}): Image {
  const vox = matmul4(invertAffine(image.affine), grid.affine);
  const matrix = linearPart(vox);
  const offset = [vox[0][3], vox[1][3], vox[2][3]];
  const s = image.shape;
  const inShape = [s[0], s[1], s[2]] as const;
  const volIn = s[0] * s[1] * s[2];
  const volOut = grid.shape[0] * grid.shape[1] * grid.shape[2];
  const volumes = s[3] * s[4];
  const out = outputArray(image.data, order, volOut * volumes);
  for (let v = 0; v < volumes; v++) {
    const slice = image.data.subarray(v * volIn, (v + 1) * volIn);
    const r = affineTransform(slice, { inShape, matrix, offset, outShape: grid.shape }, { order, cval });
    out.set(r, v * volOut);
  }
  return {
    ...image,
    data: out,
    shape: [grid.shape[0], grid.shape[1], grid.shape[2], s[3], s[4]] as Shape5,
    affine: grid.affine,
    pixdim: voxelSizes(grid.affine),
    affineSource: "computed",
  };
}

/**
 * The grid with voxel size `pixdim` along the image's own voxel axes that covers the image's extent: voxel 0 keeps
 * its world position, axis directions are unchanged, and each axis has `ceil((n − 1)·zoom / pixdim) + 1` voxels
 * (nibabel.processing `vox2out_vox`'s rule; for an axis-aligned RAS image the grids are identical). Ratios within
 * 1e-3 of an integer are treated as that integer, so float32 rounding in a stored affine never adds a stray
 * voxel (2 mm → 2 mm keeps the shape).
 */
export function pixdimGrid(image: Image, pixdim: readonly number[]): Grid {
  if (pixdim.length !== 3 || !pixdim.every((p) => Number.isFinite(p) && p > 0)) {
    throw new Error(`invalid pixdim ${JSON.stringify(pixdim)}: expected three positive voxel sizes in mm`);
  }
  const zooms = voxelSizes(image.affine);
  const shape = [0, 1, 2].map((i) => {
    const ratio = ((image.shape[i] - 1) * zooms[i]) / pixdim[i];
    const near = Math.round(ratio);
    return (Math.abs(ratio - near) < 1e-3 ? near : Math.ceil(ratio)) + 1;
  }) as unknown as [number, number, number];
  const a = image.affine;
  const scale = [0, 1, 2].map((j) => pixdim[j] / zooms[j]);
  const affine: Affine = [
    [a[0][0] * scale[0], a[0][1] * scale[1], a[0][2] * scale[2], a[0][3]],
    [a[1][0] * scale[0], a[1][1] * scale[1], a[1][2] * scale[2], a[1][3]],
    [a[2][0] * scale[0], a[2][1] * scale[1], a[2][2] * scale[2], a[2][3]],
    [0, 0, 0, 1],
  ];
  return { shape, affine };
}

/**
 * Resamples to a voxel size, keeping orientation and world extent (see {@link pixdimGrid}). Returns the image and
 * the original grid, which {@link resampleToGrid} takes to put results back (the inverse).
 *
 * @example
 * ```ts
 * const { image: iso, original } = resampleToPixdim(img, { pixdim: [1, 1, 1], order: 3 });
 * const back = resampleToGrid(prediction, original, { order: 0 });
 * ```
 */
export function resampleToPixdim(
  image: Image,
  options: ResampleOptions & { pixdim: readonly number[] },
): { image: Image; original: Grid } {
  const original: Grid = { shape: [image.shape[0], image.shape[1], image.shape[2]], affine: image.affine };
  return { image: resampleToGrid(image, pixdimGrid(image, options.pixdim), options), original };
}
