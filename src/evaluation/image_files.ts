/**
 * Evaluation of image files: a segmentation and its reference, read from disk and checked to share one voxel grid.
 *
 * @module
 */
import { readImage } from "../io/mod.ts";
import type { Image } from "../geometry/image.ts";
import { voxelSizes } from "../geometry/mod.ts";
import { type EvaluateOptions, evaluatePair, type EvaluationRow } from "./evaluate.ts";
import type { Volume } from "./types.ts";

/** A 3D one-channel image as the evaluation's row-major volume: x-fastest data read as shape [z, y, x], spacing mm. */
export function evaluationVolume(image: Image, file: string): Volume {
  const [x, y, z, t, c] = image.shape;
  if (t * c !== 1) throw new Error(`"${file}": expected a 3D image with one channel, got shape [${image.shape}]`);
  const [sx, sy, sz] = voxelSizes(image.affine);
  return { data: image.data as ArrayLike<number>, shape: [z, y, x], spacing: [sz, sy, sx] };
}

function sameGrid(a: Image, b: Image): boolean {
  return a.shape.every((d, i) => d === b.shape[i]) &&
    a.affine.every((row, i) => row.every((v, j) => Math.abs(v - b.affine[i][j]) <= 1e-3));
}

/**
 * Reads `segFile` and `refFile` and evaluates them (rows of {@link evaluatePair}); refuses two different grids.
 *
 * @example
 * ```ts
 * const rows = await evaluateImageFiles("sub-01_seg.nii.gz", "sub-01_ref.nii.gz", {
 *   evaluations: "dice", subjectId: "sub-01",
 * });
 * ```
 */
export async function evaluateImageFiles(
  segFile: string,
  refFile: string,
  options: EvaluateOptions & { readonly subjectId: string },
): Promise<EvaluationRow[]> {
  const [seg, ref] = [await readImage(segFile), await readImage(refFile)];
  if (!sameGrid(seg, ref)) {
    throw new Error(
      `subject "${options.subjectId}": "${segFile}" and "${refFile}" are not on the same voxel grid (shape/affine)`,
    );
  }
  return evaluatePair(evaluationVolume(seg, segFile), evaluationVolume(ref, refFile), options);
}
