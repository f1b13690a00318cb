/**
 * Elastic deformation (NiftyNet's `num_ctrl_points`, `deformation_sigma`, `proportion_to_deform`): a coarse grid of
 * `num_ctrl_points` control points per axis spanning the volume gets normal random displacements (σ =
 * `deformation_sigma` voxels), interpolated to every voxel with cubic B-splines; each role is resampled at
 * `voxel + displacement` (labels nearest). A subject is deformed with probability `proportion_to_deform`.
 *
 * @module
 */
import type { InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { spatialSize } from "../types.ts";
import { makeRandom, type RandomStream } from "../_random.ts";
import { resizeVolume } from "../sampler/resize.ts";
import { mapCoordinates } from "../../geometry/resample.ts";

/** A dense displacement field: three planes (dx, dy, dz), each one value per voxel (x fastest). */
export interface DisplacementField {
  readonly shape: Spatial3;
  readonly data: Float32Array;
}

/** Options for {@link randomElasticField}. */
export interface ElasticOptions {
  /** INI `num_ctrl_points` per axis (default 4, at least 2). */
  numCtrlPoints?: number;
  /** INI `deformation_sigma`: standard deviation of control-point displacements, in voxels (default 15). */
  deformationSigma?: number;
  seed?: number | RandomStream;
}

/** A random smooth displacement field (no displacement along z for 2D volumes). */
export function randomElasticField(shape: Spatial3, options: ElasticOptions = {}): DisplacementField {
  const k = options.numCtrlPoints ?? 4;
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`invalid num_ctrl_points ${k}: expected an integer >= 2`);
  const sigma = options.deformationSigma ?? 15;
  const rng = makeRandom(options.seed);
  const ctrl: Spatial3 = [k, k, shape[2] === 1 ? 1 : k];
  const nc = spatialSize(ctrl);
  const coarse = new Float32Array(3 * nc);
  for (let i = 0; i < coarse.length; i++) coarse[i] = i >= 2 * nc && shape[2] === 1 ? 0 : sigma * rng.normal();
  const dense = resizeVolume({ data: coarse, shape: ctrl, channels: 3 }, shape, 3);
  return { shape, data: dense.data };
}

/** Resamples every channel at `voxel + displacement` (`map_coordinates`, constant 0 outside). */
export function warpByField(
  volume: ChannelVolume,
  field: DisplacementField,
  options: { order?: InterpOrder } = {},
): ChannelVolume {
  const s = volume.shape;
  if (s.some((n, i) => n !== field.shape[i])) {
    throw new Error(`displacement field is ${field.shape.join("x")}, volume is ${s.join("x")}`);
  }
  const n = spatialSize(s);
  const coords = new Float64Array(3 * n);
  let p = 0;
  for (let z = 0; z < s[2]; z++) {
    for (let y = 0; y < s[1]; y++) {
      for (let x = 0; x < s[0]; x++, p++) {
        coords[p] = x + field.data[p];
        coords[n + p] = y + field.data[n + p];
        coords[2 * n + p] = z + field.data[2 * n + p];
      }
    }
  }
  const out = new Float32Array(volume.data.length);
  for (let c = 0; c < volume.channels; c++) {
    out.set(mapCoordinates(volume.data.subarray(c * n, (c + 1) * n), s, coords, { order: options.order ?? 3 }), c * n);
  }
  return { data: out, shape: s, channels: volume.channels };
}

/** Deforms every role of a subject with one random field, with probability `proportionToDeform`. */
export function randomElastic(
  volumes: Readonly<Record<string, ChannelVolume>>,
  options: ElasticOptions & { proportionToDeform?: number; order?: InterpOrder; nearestRoles?: readonly string[] },
): Record<string, ChannelVolume> {
  const rng = makeRandom(options.seed);
  const first = Object.values(volumes)[0];
  if (!first || rng.uniform() >= (options.proportionToDeform ?? 0.5)) return { ...volumes };
  const field = randomElasticField(first.shape, { ...options, seed: rng });
  const nearest = options.nearestRoles ?? ["label"];
  const out: Record<string, ChannelVolume> = {};
  for (const [role, v] of Object.entries(volumes)) {
    out[role] = warpByField(v, field, { order: nearest.includes(role) ? 0 : options.order ?? 3 });
  }
  return out;
}
