/**
 * The plain data the evaluation works on: voxel arrays with their shape and voxel spacing, no tfjs.
 *
 * @module
 */

/** Numeric voxel data, row-major (C order: the last axis varies fastest), like tfjs tensors and numpy arrays. */
export type VoxelData = ArrayLike<number>;

/**
 * A label map or image: `data[i]` for the voxel at multi-index `(i0, …, ik)` is at `((i0·s1 + i1)·s2 + i2)…`
 * (row-major). `spacing[d]` is the voxel size along axis `d` in mm (default 1 for every axis). A NIfTI volume read
 * with x fastest is passed as shape `[z, y, x]` with spacing `[dz, dy, dx]`.
 */
export interface Volume {
  readonly data: VoxelData;
  readonly shape: readonly number[];
  readonly spacing?: readonly number[];
}

/** A binary mask: 1 inside, 0 outside. */
export type Mask = Uint8Array;

/** Number of voxels of a shape. */
export function voxelCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Checks a volume's shape, data length and spacing; returns the spacing (1 mm default). */
export function checkVolume(volume: Volume, what: string): number[] {
  const { shape, data } = volume;
  if (!shape.length || shape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${what}: shape [${shape}] must be positive integers`);
  }
  if (data.length !== voxelCount(shape)) {
    throw new Error(`${what}: shape [${shape}] needs ${voxelCount(shape)} voxels but data has ${data.length}`);
  }
  const spacing = volume.spacing ? [...volume.spacing] : shape.map(() => 1);
  if (spacing.length !== shape.length || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new Error(`${what}: spacing [${spacing}] must be ${shape.length} positive numbers (mm per axis)`);
  }
  return spacing;
}
