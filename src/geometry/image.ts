/**
 * The image type every stage of the data pipeline passes around: voxels plus the geometry that places them in the
 * world, and the source header so outputs can be written back in the same space.
 *
 * @module
 */

/** One row of a 4×4 matrix. */
export type Row4 = readonly [number, number, number, number];

/**
 * A 4×4 voxel→world matrix, row-major: `world = affine · [i, j, k, 1]ᵀ`. World space is RAS+ in millimetres and
 * voxel indices count from 0 at the centre of the first voxel, exactly as nibabel's `img.affine`.
 */
export type Affine = readonly [Row4, Row4, Row4, Row4];

/**
 * Image extent `[x, y, z, t, c]`. Missing dimensions are 1: a 2D slice is `[x, y, 1, 1, 1]`, a 3D volume
 * `[x, y, z, 1, 1]`, a 4D series `[x, y, z, t, 1]`; the fifth NIfTI dimension (`dim[5]`, "u", vector components)
 * becomes `c`. RGB voxels become 3 channels in `c`.
 */
export type Shape5 = readonly [number, number, number, number, number];

/** Voxel data. The layout is NIfTI's on-disk order: x varies fastest, then y, z, t, c (see {@link voxelIndex}). */
export type VoxelData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** NIfTI datatype names this library reads and writes (the on-disk type, before any scaling). */
export type NiftiDatatype =
  | "uint8"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "rgb24"
  | "rgba32";

/** Which header field gave the affine (nibabel's `get_best_affine` order). */
export type AffineSource = "sform" | "qform" | "pixdim" | "dicom" | "computed";

/** One NIfTI header extension, kept verbatim so it survives a read → write round trip. */
export interface NiftiExtension {
  /** `ecode` (e.g. 2 = DICOM, 4 = AFNI, 6 = comment). */
  readonly code: number;
  /** Extension payload without the 8-byte esize/ecode prefix (padding included). */
  readonly data: Uint8Array;
}

/** The header fields of the source file that a writer needs to reproduce the same space and metadata. */
export interface SourceHeader {
  /** 1 or 2 for NIfTI, 0 for Analyze 7.5, "dicom" for a DICOM series. */
  readonly format: 1 | 2 | 0 | "dicom";
  /** NIfTI datatype code as stored (e.g. 4 = int16). */
  readonly datatypeCode: number;
  /** `dim[0..7]` as stored. */
  readonly dim: readonly number[];
  /** `pixdim[0..7]` as stored (pixdim[0] is qfac). */
  readonly pixdim: readonly number[];
  readonly sformCode: number;
  readonly qformCode: number;
  /** The sform rows as a 4×4 matrix (whatever `sform_code` says). */
  readonly sform: Affine;
  /** The qform as a 4×4 matrix computed with nibabel's quaternion rule, or undefined if not computable. */
  readonly qform: Affine | undefined;
  /** `scl_slope`, `scl_inter` as stored (raw, before nibabel's "0 or non-finite means none" rule). */
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly xyztUnits: number;
  readonly description: string;
  readonly auxFile: string;
  readonly intentCode: number;
  readonly intentName: string;
  readonly intentParams: readonly [number, number, number];
  readonly calMin: number;
  readonly calMax: number;
  readonly dimInfo: number;
  readonly sliceCode: number;
  readonly sliceStart: number;
  readonly sliceEnd: number;
  readonly sliceDuration: number;
  readonly toffset: number;
  readonly littleEndian: boolean;
  readonly extensions: readonly NiftiExtension[];
}

/**
 * A medical image in memory.
 *
 * @example
 * ```ts
 * import { readImage } from "../io/mod.ts";
 * const img = await readImage("t1.nii.gz");
 * console.log(img.shape, img.pixdim, img.affine);
 * ```
 */
export interface Image {
  /** Voxel values after `scl_slope`/`scl_inter` (float when scaling applies, else the stored type). */
  readonly data: VoxelData;
  /** `[x, y, z, t, c]`, missing dimensions 1. */
  readonly shape: Shape5;
  /** Number of dimensions the source declared (1–5, RGB counts as its spatial dims). */
  readonly ndim: number;
  /** Voxel→world (RAS+ mm), as nibabel. */
  readonly affine: Affine;
  /** Voxel size in mm along x, y, z (nibabel's `header.get_zooms()[:3]`, or column norms of the affine). */
  readonly pixdim: readonly [number, number, number];
  /** On-disk datatype of the source; writers keep it unless told otherwise. */
  readonly datatype: NiftiDatatype;
  /** Where the affine came from. */
  readonly affineSource: AffineSource;
  /** The source header, when the image came from a file. */
  readonly header?: SourceHeader;
  /** Problems the reader worked around (a malformed header extension dropped …), each naming the file. */
  readonly warnings?: readonly string[];
}

/** Flat index of voxel `(x, y, z, t, c)` in {@link Image.data} (x fastest). */
export function voxelIndex(shape: Shape5, x: number, y: number, z = 0, t = 0, c = 0): number {
  return x + shape[0] * (y + shape[1] * (z + shape[2] * (t + shape[3] * c)));
}

/** Number of voxels (all five dimensions). */
export function voxelCount(shape: Shape5): number {
  return shape[0] * shape[1] * shape[2] * shape[3] * shape[4];
}
