/**
 * Random rotation and scaling (NiftyNet's `rotation_angle(_x/_y/_z)`, `scaling_percentage`, `isotropic_scaling`)
 * as one affine warp about the volume centre, `output(o) = input(M·(o − c) + c)` with `c = (n − 1)/2`, exactly
 * `scipy.ndimage.affine_transform(input, M, offset = c − M·c)`. Images use `order` (default 3), label roles are
 * always nearest. Unlike NiftyNet's scaling (which changes the volume's shape), the shape is kept: a factor
 * s > 1 zooms in.
 *
 * @module
 */
import { affineTransform, type InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume } from "../types.ts";
import { spatialSize } from "../types.ts";
import { makeRandom, type RandomStream, randomUniform } from "../_random.ts";

/** A 3×3 matrix, row-major over (x, y, z) voxel axes. */
export type Matrix3 = readonly (readonly [number, number, number])[];

function mul(a: Matrix3, b: Matrix3): Matrix3 {
  return [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) => a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j])
  ) as unknown as Matrix3;
}

/** Rotation by angles in degrees about the x, y and z voxel axes: `Rx · Ry · Rz`. */
export function rotationMatrix(degrees: readonly [number, number, number]): Matrix3 {
  const [a, b, c] = degrees.map((d) => (d * Math.PI) / 180);
  const rx: Matrix3 = [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
  const ry: Matrix3 = [[Math.cos(b), 0, Math.sin(b)], [0, 1, 0], [-Math.sin(b), 0, Math.cos(b)]];
  const rz: Matrix3 = [[Math.cos(c), -Math.sin(c), 0], [Math.sin(c), Math.cos(c), 0], [0, 0, 1]];
  return mul(mul(rx, ry), rz);
}

/** The sampling matrix for a rotation followed by a zoom by `scale` per axis: `R · diag(1/s)`. */
export function rotationScalingMatrix(
  degrees: readonly [number, number, number],
  scale: readonly [number, number, number],
): Matrix3 {
  const s: Matrix3 = [[1 / scale[0], 0, 0], [0, 1 / scale[1], 0], [0, 0, 1 / scale[2]]];
  return mul(rotationMatrix(degrees), s);
}

/**
 * `affine_transform` for orders 0 and 1 on one channel, specialised (no general tap tables): the same coordinates,
 * edge rule (outside `[0, n − 1]` → `cval`, within 1e-9 of an edge → on it) and weights as src/geometry's.
 */
function warpLowOrder(
  src: Float32Array,
  shape: readonly [number, number, number],
  m: Matrix3,
  offset: readonly number[],
  order: 0 | 1,
  cval: number,
  out: Float32Array,
): void {
  const [nx, ny, nz] = shape;
  const sxy = nx * ny;
  const snap = (c: number, n: number) => (c < 0 && c > -1e-9 ? 0 : c > n - 1 && c < n - 1 + 1e-9 ? n - 1 : c);
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const cx = snap(i * m[0][0] + j * m[0][1] + k * m[0][2] + offset[0], nx);
        const cy = snap(i * m[1][0] + j * m[1][1] + k * m[1][2] + offset[1], ny);
        const cz = snap(i * m[2][0] + j * m[2][1] + k * m[2][2] + offset[2], nz);
        if (!(cx >= 0 && cx <= nx - 1 && cy >= 0 && cy <= ny - 1 && cz >= 0 && cz <= nz - 1)) {
          out[p] = cval;
          continue;
        }
        if (order === 0) {
          out[p] = src[Math.floor(cx + 0.5) + nx * Math.floor(cy + 0.5) + sxy * Math.floor(cz + 0.5)];
          continue;
        }
        const x0 = Math.floor(cx), y0 = Math.floor(cy), z0 = Math.floor(cz);
        const tx = cx - x0, ty = cy - y0, tz = cz - z0;
        // At the upper edge the second tap has weight 0; clamping keeps it in range.
        const dx = x0 + 1 < nx ? 1 : 0, dy = y0 + 1 < ny ? nx : 0, dz = z0 + 1 < nz ? sxy : 0;
        const q = x0 + nx * y0 + sxy * z0;
        const c00 = src[q] + tx * (src[q + dx] - src[q]);
        const c10 = src[q + dy] + tx * (src[q + dy + dx] - src[q + dy]);
        const c01 = src[q + dz] + tx * (src[q + dz + dx] - src[q + dz]);
        const c11 = src[q + dz + dy] + tx * (src[q + dz + dy + dx] - src[q + dz + dy]);
        const c0 = c00 + ty * (c10 - c00), c1 = c01 + ty * (c11 - c01);
        out[p] = c0 + tz * (c1 - c0);
      }
    }
  }
}

/** Warps every channel of a volume by `M` about its centre (see the module doc). */
export function warpAffine(
  volume: ChannelVolume,
  matrix: Matrix3,
  options: { order?: InterpOrder; cval?: number } = {},
): ChannelVolume {
  const s = volume.shape;
  const c = s.map((n) => (n - 1) / 2);
  const offset = [0, 1, 2].map((i) => c[i] - (matrix[i][0] * c[0] + matrix[i][1] * c[1] + matrix[i][2] * c[2]));
  const n = spatialSize(s);
  const order = options.order ?? 3, cval = options.cval ?? 0;
  const out = new Float32Array(volume.data.length);
  for (let ch = 0; ch < volume.channels; ch++) {
    const src = volume.data.subarray(ch * n, (ch + 1) * n);
    if (order === 0 || order === 1) {
      warpLowOrder(src, s, matrix, offset, order, cval, out.subarray(ch * n, (ch + 1) * n));
      continue;
    }
    out.set(affineTransform(src, { inShape: s, matrix, offset, outShape: s }, { order, cval }), ch * n);
  }
  return { data: out, shape: s, channels: volume.channels };
}

/** Options for {@link randomAffine}; ranges are `[min, max]` and empty arrays mean "off". */
export interface RandomAffineOptions {
  /** INI `rotation_angle`: one range in degrees for all three axes (x, y, z drawn independently). */
  rotationAngle?: readonly number[];
  /** INI `rotation_angle_x` / `_y` / `_z`: per-axis ranges (override `rotationAngle`). */
  rotationAngleX?: readonly number[];
  rotationAngleY?: readonly number[];
  rotationAngleZ?: readonly number[];
  /** INI `scaling_percentage`: e.g. `[-10, 10]` draws a factor in [0.9, 1.1]. */
  scalingPercentage?: readonly number[];
  /** INI `isotropic_scaling`: one factor for all axes (default false). */
  isotropicScaling?: boolean;
  /** Interpolation order of non-label roles (default 3). */
  order?: InterpOrder;
  /** Roles warped with nearest neighbour (default `["label"]`). */
  nearestRoles?: readonly string[];
  seed?: number | RandomStream;
}

function draw(rng: RandomStream, range: readonly number[] | undefined): number {
  if (!range || range.length === 0) return 0;
  if (range.length !== 2) throw new Error(`invalid range ${JSON.stringify(range)}: expected [min, max]`);
  return randomUniform(rng, Math.min(range[0], range[1]), Math.max(range[0], range[1]));
}

/** Draws the rotation angles (degrees) and scale factors; 2D volumes (z = 1) rotate about z only. */
export function drawAffine(
  rng: RandomStream,
  options: RandomAffineOptions,
  is2d: boolean,
): { degrees: [number, number, number]; scale: [number, number, number] } {
  const all = options.rotationAngle;
  const ax = draw(rng, options.rotationAngleX ?? all);
  const ay = draw(rng, options.rotationAngleY ?? all);
  const az = draw(rng, options.rotationAngleZ ?? all);
  const sp = options.scalingPercentage;
  const sx = 1 + draw(rng, sp) / 100;
  const scale: [number, number, number] = options.isotropicScaling
    ? [sx, sx, is2d ? 1 : sx]
    : [sx, 1 + draw(rng, sp) / 100, is2d ? 1 : 1 + draw(rng, sp) / 100];
  return { degrees: is2d ? [0, 0, az] : [ax, ay, az], scale };
}

/** Rotates/scales every role of a subject with one random draw; label roles nearest. */
export function randomAffine(
  volumes: Readonly<Record<string, ChannelVolume>>,
  options: RandomAffineOptions,
): Record<string, ChannelVolume> {
  const first = Object.values(volumes)[0];
  if (!first) return {};
  const { degrees, scale } = drawAffine(makeRandom(options.seed), options, first.shape[2] === 1);
  if (degrees.every((d) => d === 0) && scale.every((s) => s === 1)) return { ...volumes };
  const m = rotationScalingMatrix(degrees, scale);
  const nearest = options.nearestRoles ?? ["label"];
  const out: Record<string, ChannelVolume> = {};
  for (const [role, v] of Object.entries(volumes)) {
    out[role] = warpAffine(v, m, { order: nearest.includes(role) ? 0 : options.order ?? 3 });
  }
  return out;
}
