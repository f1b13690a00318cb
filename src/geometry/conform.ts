/**
 * Conforming to a fixed grid (e.g. 256³ at 1 mm, LIA, as FreeSurfer / brainchop expect), with nibabel's
 * `nibabel.processing.conform` semantics.
 *
 * @module
 */
import type { Affine, Image } from "./image.ts";
import { applyAffine, voxelSizes } from "./affine.ts";
import { type Axcodes, reorientationTo } from "./orientation.ts";
import { type Grid, type InterpOrder, resampleToGrid } from "./resample.ts";

/** Options for {@link conform}. */
export interface ConformOptions {
  /** Output spatial shape (default 256³). */
  shape?: readonly [number, number, number];
  /** Output voxel size in mm (default 1 mm isotropic). */
  voxelSize?: readonly [number, number, number];
  /** Output axis codes (default "LIA", FreeSurfer's conformed orientation). */
  axcodes?: Axcodes;
  /** Interpolation order (default 3, as nibabel; use 0 for labels). */
  order?: InterpOrder;
  /** Value outside the input (default 0). */
  cval?: number;
}

/**
 * The conformed grid, as nibabel: reorient the image's affine to `axcodes` (permute/flip only), rescale its columns
 * to `voxelSize`, and place the output voxel `(shape − 1) // 2` on the world position of the reoriented input's
 * voxel `(n − 1) // 2`. Rotations are kept, so an oblique input gives an oblique conformed grid.
 */
export function conformGrid(image: Image, options: ConformOptions = {}): Grid {
  const shape = options.shape ?? [256, 256, 256];
  const voxel = options.voxelSize ?? [1, 1, 1];
  const r = reorientationTo(image.affine, image.shape, options.axcodes ?? "LIA");
  // The reoriented affine: column perm[i] is ± input column i, origin at the flipped corner.
  const a = image.affine;
  const cols = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const origin = [a[0][3], a[1][3], a[2][3]];
  const rShape = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const sign = r.flip[i] ? -1 : 1;
    cols[r.perm[i]] = [a[0][i] * sign, a[1][i] * sign, a[2][i] * sign];
    rShape[r.perm[i]] = image.shape[i];
    if (r.flip[i]) { for (let k = 0; k < 3; k++) origin[k] += a[k][i] * (image.shape[i] - 1); }
  }
  const reoriented: Affine = [
    [cols[0][0], cols[1][0], cols[2][0], origin[0]],
    [cols[0][1], cols[1][1], cols[2][1], origin[1]],
    [cols[0][2], cols[1][2], cols[2][2], origin[2]],
    [0, 0, 0, 1],
  ];
  const zooms = voxelSizes(reoriented);
  const centroid = applyAffine(reoriented, rShape.map((n) => Math.floor((n - 1) / 2)));
  const m = [0, 1, 2].map((row) => [0, 1, 2].map((j) => (reoriented[row][j] * voxel[j]) / zooms[j]));
  const half = shape.map((n) => Math.floor((n - 1) / 2));
  const t = [0, 1, 2].map((row) => centroid[row] - (m[row][0] * half[0] + m[row][1] * half[1] + m[row][2] * half[2]));
  return {
    shape: [shape[0], shape[1], shape[2]],
    affine: [[...m[0], t[0]], [...m[1], t[1]], [...m[2], t[2]], [0, 0, 0, 1]] as unknown as Affine,
  };
}

/**
 * Resamples an image onto its conformed grid (see {@link conformGrid}); `original` is the input grid, for putting
 * results back with `resampleToGrid`.
 *
 * @example
 * ```ts
 * const { image: conformed } = conform(t1, { shape: [256, 256, 256], voxelSize: [1, 1, 1], axcodes: "LIA" });
 * ```
 */
export function conform(image: Image, options: ConformOptions = {}): { image: Image; original: Grid } {
  const original: Grid = { shape: [image.shape[0], image.shape[1], image.shape[2]], affine: image.affine };
  const grid = conformGrid(image, options);
  return { image: resampleToGrid(image, grid, { order: options.order ?? 3, cval: options.cval }), original };
}
