/**
 * Voxel-axis orientation: which world axis (and direction) each voxel axis runs along, as nibabel's
 * `io_orientation` / `aff2axcodes`, and reorientation by permuting and flipping voxel axes (no resampling).
 *
 * @module
 */
import type { Affine, Image, Shape5, VoxelData } from "./image.ts";
import { linearPart, matmul4, nearestOrthogonal, toAffine } from "./affine.ts";

/** Per voxel axis: the world axis it runs along (0 = x/LR, 1 = y/PA, 2 = z/IS) and the direction (+1 or −1). */
export type Orientation = readonly (readonly [worldAxis: number, direction: 1 | -1])[];

/** Three axis codes such as `"RAS"`, `"LAS"`, `"LIA"`: the world direction each voxel axis increases toward. */
export type Axcodes = string;

const LABELS: readonly (readonly [string, string])[] = [["L", "R"], ["P", "A"], ["I", "S"]];

/**
 * The orientation of the first three voxel axes of an affine, as nibabel `io_orientation`: normalise the columns,
 * take the nearest orthogonal matrix, then for voxel axes in order pick the world axis with the largest absolute
 * component not yet taken.
 */
export function ioOrientation(affine: Affine): Orientation {
  const m = linearPart(affine);
  const zooms = [0, 1, 2].map((j) => Math.hypot(m[0][j], m[1][j], m[2][j]) || 1);
  const rs = m.map((row) => row.map((v, j) => v / zooms[j]));
  const r = nearestOrthogonal(rs);
  const taken = [false, false, false];
  const out: [number, 1 | -1][] = [];
  for (let j = 0; j < 3; j++) {
    let best = -1, bestAbs = -1;
    for (let i = 0; i < 3; i++) {
      if (taken[i]) continue;
      if (Math.abs(r[i][j]) > bestAbs) {
        bestAbs = Math.abs(r[i][j]);
        best = i;
      }
    }
    taken[best] = true;
    out.push([best, r[best][j] < 0 ? -1 : 1]);
  }
  return out;
}

/** Axis codes of an affine, e.g. `"LAS"` (nibabel `aff2axcodes`). */
export function axcodesOf(affine: Affine): Axcodes {
  return ioOrientation(affine).map(([axis, dir]) => LABELS[axis][dir === 1 ? 1 : 0]).join("");
}

/** Parses axis codes like `"RAS"` or `"lia"` into an {@link Orientation}; throws on anything that is not one. */
export function parseAxcodes(codes: string): Orientation {
  const up = codes.toUpperCase();
  const out: [number, 1 | -1][] = [];
  for (const ch of up) {
    const axis = LABELS.findIndex((pair) => pair.includes(ch));
    if (axis < 0) break;
    out.push([axis, LABELS[axis][1] === ch ? 1 : -1]);
  }
  const axes = new Set(out.map(([a]) => a));
  if (up.length !== 3 || out.length !== 3 || axes.size !== 3) {
    throw new Error(`invalid axcodes "${codes}": expected three letters, one from each of L/R, P/A, I/S (e.g. RAS)`);
  }
  return out;
}

/**
 * A reorientation of the first three voxel axes: output axis `perm[i]` takes input axis i, flipped when
 * `flip[i]`. Keep it to undo the reorientation with {@link undoReorientation}.
 */
export interface Reorientation {
  /** For input axis i, the output axis it lands on. */
  readonly perm: readonly [number, number, number];
  /** For input axis i, whether it is reversed. */
  readonly flip: readonly [boolean, boolean, boolean];
  /** Input spatial shape. */
  readonly inShape: readonly [number, number, number];
}

/** The permutation/flip that takes an image with `affine` to the target axis codes (nibabel `ornt_transform`). */
export function reorientationTo(affine: Affine, shape: Shape5, axcodes: Axcodes): Reorientation {
  const start = ioOrientation(affine);
  const end = parseAxcodes(axcodes);
  const perm = [0, 0, 0] as [number, number, number];
  const flip = [false, false, false] as [boolean, boolean, boolean];
  for (let i = 0; i < 3; i++) {
    const j = end.findIndex(([axis]) => axis === start[i][0]);
    perm[i] = j;
    flip[i] = start[i][1] !== end[j][1];
  }
  return { perm, flip, inShape: [shape[0], shape[1], shape[2]] };
}

/** The affine mapping output voxel indices to input voxel indices for a reorientation. */
function outToInVoxels(r: Reorientation): Affine {
  const m = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let i = 0; i < 3; i++) {
    m[i][r.perm[i]] = r.flip[i] ? -1 : 1;
    m[i][3] = r.flip[i] ? r.inShape[i] - 1 : 0;
  }
  return toAffine(m);
}

/** Applies a reorientation to an image: voxels permuted/flipped, affine updated so world positions are unchanged. */
export function applyReorientation(image: Image, r: Reorientation): Image {
  const s = image.shape;
  if (s[0] !== r.inShape[0] || s[1] !== r.inShape[1] || s[2] !== r.inShape[2]) {
    throw new Error(`reorientation was made for shape ${r.inShape.join("x")}, image is ${s.slice(0, 3).join("x")}`);
  }
  const outShape = [0, 0, 0, s[3], s[4]];
  for (let i = 0; i < 3; i++) outShape[r.perm[i]] = s[i];
  const out = new (image.data.constructor as { new (n: number): VoxelData })(image.data.length);
  // Stride in the output for a step along each input axis, and the output offset of input index 0.
  const outStride = [1, outShape[0], outShape[0] * outShape[1]];
  const step = [0, 1, 2].map((i) => (r.flip[i] ? -1 : 1) * outStride[r.perm[i]]);
  const base0 = [0, 1, 2].reduce((acc, i) => acc + (r.flip[i] ? (s[i] - 1) * outStride[r.perm[i]] : 0), 0);
  const vol = s[0] * s[1] * s[2];
  const src = image.data;
  for (let v = 0; v < s[3] * s[4]; v++) {
    const off = v * vol;
    let p = off;
    for (let z = 0; z < s[2]; z++) {
      for (let y = 0; y < s[1]; y++) {
        let q = off + base0 + y * step[1] + z * step[2];
        for (let x = 0; x < s[0]; x++, p++, q += step[0]) out[q] = src[p];
      }
    }
  }
  const pixdim = [0, 0, 0];
  for (let i = 0; i < 3; i++) pixdim[r.perm[i]] = image.pixdim[i];
  return {
    ...image,
    data: out,
    shape: outShape as unknown as Shape5,
    affine: matmul4(image.affine, outToInVoxels(r)),
    pixdim: pixdim as [number, number, number],
    affineSource: "computed",
  };
}

/** The reorientation that undoes `r` (apply it to the reoriented image to get the original grid back). */
export function inverseReorientation(r: Reorientation): Reorientation {
  const perm = [0, 0, 0] as [number, number, number];
  const flip = [false, false, false] as [boolean, boolean, boolean];
  const outShape = [0, 0, 0];
  for (let i = 0; i < 3; i++) outShape[r.perm[i]] = r.inShape[i];
  for (let i = 0; i < 3; i++) {
    perm[r.perm[i]] = i;
    flip[r.perm[i]] = r.flip[i];
  }
  return { perm, flip, inShape: outShape as [number, number, number] };
}

/**
 * Reorients an image to the given axis codes without resampling (nibabel `as_reoriented(ornt_transform(...))`;
 * `"RAS"` gives `as_closest_canonical`). Returns the image and the reorientation, whose inverse restores the
 * original voxel grid exactly.
 *
 * @example
 * ```ts
 * const { image: ras, transform } = reorient(img, "RAS");
 * const back = undoReorientation(ras, transform); // same voxels and affine as img
 * ```
 */
export function reorient(image: Image, axcodes: Axcodes): { image: Image; transform: Reorientation } {
  const transform = reorientationTo(image.affine, image.shape, axcodes);
  return { image: applyReorientation(image, transform), transform };
}

/** Puts a reoriented image (or a prediction on its grid) back onto the original voxel grid. */
export function undoReorientation(image: Image, transform: Reorientation): Image {
  return applyReorientation(image, inverseReorientation(transform));
}
