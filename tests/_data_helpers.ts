/**
 * Helpers shared by the data-pipeline tests: tiny synthetic images and volumes, written to temporary folders.
 *
 * @module
 */
import type { Affine, Image, Shape5 } from "../src/geometry/image.ts";
import { writeNifti } from "../src/io/nifti_write.ts";
import type { ChannelVolume, Spatial3 } from "../src/data/types.ts";
import { RandomStream } from "../src/dsl/random.ts";

/** nibabel's real test T1 (33×41×25, LAS, 2 mm), present where Debian's python3-nibabel is installed. */
export const ANATOMICAL = "/usr/lib/python3/dist-packages/nibabel/tests/data/anatomical.nii";

/** Whether a file exists. */
export function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Voxels [from, from + size) of every axis of a 3D image, with the affine moved to match. */
export function cropImage(image: Image, from: number, size: number): Image {
  const [nx, ny] = image.shape;
  const data = new Uint8Array(size ** 3);
  let o = 0;
  for (let z = 0; z < size; z++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) data[o++] = image.data[(from + x) + nx * ((from + y) + ny * (from + z))];
    }
  }
  const a = image.affine.map((row) => [...row]);
  for (let r = 0; r < 3; r++) a[r][3] += (a[r][0] + a[r][1] + a[r][2]) * from;
  return { ...image, data, shape: [size, size, size, 1, 1], ndim: 3, affine: a as unknown as Image["affine"] };
}

/** A float32 image with the given shape and affine (default 1 mm RAS). */
export function makeImage(data: Float32Array, shape: Shape5, affine?: Affine): Image {
  const a: Affine = affine ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  return {
    data,
    shape,
    ndim: shape[4] > 1 ? 5 : shape[3] > 1 ? 4 : 3,
    affine: a,
    pixdim: [
      Math.hypot(a[0][0], a[1][0], a[2][0]),
      Math.hypot(a[0][1], a[1][1], a[2][1]),
      Math.hypot(a[0][2], a[1][2], a[2][2]),
    ],
    datatype: "float32",
    affineSource: "sform",
  };
}

/** Writes a random float32 NIfTI of `shape` (seeded) and returns its data. */
export async function writeRandomNifti(
  path: string,
  shape: Spatial3,
  seed: number,
  affine?: Affine,
): Promise<Float32Array> {
  const v = randomVolume(shape, 1, seed);
  await writeNifti(path, makeImage(v.data, [shape[0], shape[1], shape[2], 1, 1], affine));
  return v.data;
}

/** A seeded volume of uniform values in [0, 1). */
export function randomVolume(shape: Spatial3, channels: number, seed: number): ChannelVolume {
  const rng = new RandomStream(seed);
  const data = new Float32Array(shape[0] * shape[1] * shape[2] * channels);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform();
  return { data, shape, channels };
}

/** Asserts two typed arrays are identical. */
export function assertSameArray(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      throw new Error(`${what}: element ${i} is ${a[i]}, expected ${b[i]}`);
    }
  }
}
