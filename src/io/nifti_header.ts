/**
 * NIfTI-1, NIfTI-2 and Analyze 7.5 header decoding. Field parsing uses `nifti-reader-js`; the geometry (sform, qform
 * with nibabel's quaternion rule, pixdim fallback) and the checks that make hostile headers fail cleanly are ours.
 *
 * @module
 */
import { niftiReader } from "../deps.ts";
import type { Affine, AffineSource, NiftiExtension, Shape5, SourceHeader } from "../geometry/image.ts";
import { datatypeByCode, type DatatypeInfo } from "./datatypes.ts";
import { diagonalAffine, qformToAffine, toAffine, voxelSizes } from "../geometry/affine.ts";

/** A decoded header with everything needed to place and read the voxels. */
export interface DecodedHeader {
  readonly header: SourceHeader;
  readonly datatype: DatatypeInfo;
  readonly shape: Shape5;
  readonly ndim: number;
  readonly affine: Affine;
  readonly affineSource: AffineSource;
  readonly pixdim: readonly [number, number, number];
  /** Byte offset of the voxels in the data file (the .nii itself or the .img). */
  readonly voxOffset: number;
  /** Size of the fixed header in bytes (348 or 540). */
  readonly headerSize: number;
  /** Effective scaling after nibabel's rule (slope 0 or non-finite: none; never for RGB). */
  readonly slope: number;
  readonly inter: number;
  /** Problems worked around while decoding (a malformed extension dropped …), each naming the file. */
  readonly warnings: readonly string[];
}

/** Options for {@link decodeHeader}. */
export interface DecodeHeaderOptions {
  /**
   * The header belongs to a `.hdr`/`.img` pair: a 348-byte header without NIfTI magic is then Analyze 7.5.
   * Default: decided from `name` (ends in `.hdr` or `.img`, optionally `.gz`), as nibabel decides from the extension.
   */
  readonly pair?: boolean;
}

/** Default of {@link maxVoxels}: 1024³ voxels (4 GiB as float32). */
export const DEFAULT_MAX_VOXELS = 1024 ** 3;

/**
 * The largest image (all dimensions multiplied) a reader accepts before allocating anything: env
 * `NIFTYTS_MAX_VOXELS` when set to a positive integer, else {@link DEFAULT_MAX_VOXELS}.
 */
export function maxVoxels(): number {
  let text: string | undefined;
  try {
    text = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env.get(
      "NIFTYTS_MAX_VOXELS",
    );
  } catch { /* no env permission or no Deno (browser): the default applies */ }
  const n = Number(text);
  return text !== undefined && Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_VOXELS;
}

const PAIR_NAME = /\.(hdr|img)(\.gz)?$/i;

/** NIfTI xform codes nibabel accepts; others are reset to 0 on load, as nibabel's header check does. */
const VALID_XFORM_CODES = new Set([0, 1, 2, 3, 4, 5]);

/** Which header layout the first bytes announce. */
function sniff(bytes: Uint8Array, name: string, pair: boolean): { version: 0 | 1 | 2; littleEndian: boolean } {
  if (bytes.length < 4) throw new Error(`cannot read "${name}": ${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true), be = view.getInt32(0, false);
  const size = le === 348 || le === 540 ? le : be === 348 || be === 540 ? be : 0;
  if (size === 0) {
    throw new Error(`cannot read "${name}": not a NIfTI or Analyze file (sizeof_hdr is ${le}, expected 348 or 540)`);
  }
  if (bytes.length < size) {
    throw new Error(`cannot read "${name}": header needs ${size} bytes but file has ${bytes.length}`);
  }
  const littleEndian = le === size;
  if (size === 540) {
    const magic = String.fromCharCode(...bytes.subarray(4, 7));
    if (magic !== "n+2" && magic !== "ni2") {
      throw new Error(`cannot read "${name}": sizeof_hdr says NIfTI-2 but magic is ${JSON.stringify(magic)}`);
    }
    return { version: 2, littleEndian };
  }
  const magic = String.fromCharCode(...bytes.subarray(344, 347));
  if (magic === "n+1" || magic === "ni1") return { version: 1, littleEndian };
  if (!pair) {
    // nibabel's rule: without NIfTI magic, a 348-byte header is Analyze 7.5 only in a .hdr/.img pair; a damaged
    // .nii read as Analyze would silently lose its scaling and sform.
    const stored = JSON.stringify(String.fromCharCode(...bytes.subarray(344, 348)));
    throw new Error(
      `cannot read "${name}": NIfTI-1 magic is ${stored}, expected "n+1" (damaged header?); ` +
        `Analyze 7.5 is read only from .hdr/.img pairs`,
    );
  }
  return { version: 0, littleEndian };
}

function fixedString(bytes: Uint8Array, start: number, length: number): string {
  const slice = bytes.subarray(start, start + length);
  const end = slice.indexOf(0);
  return new TextDecoder("latin1").decode(end >= 0 ? slice.subarray(0, end) : slice);
}

/**
 * Reads extensions between the fixed header and the voxels. A malformed one (size below 8 or past the voxels) ends
 * the list and is reported in `warnings` (nibabel refuses such a file; we keep the image and say what was dropped).
 */
function readExtensions(
  bytes: Uint8Array,
  start: number,
  end: number,
  littleEndian: boolean,
  name: string,
  warnings: string[],
): NiftiExtension[] {
  const out: NiftiExtension[] = [];
  if (bytes.length < start + 4 || bytes[start] === 0) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = start + 4;
  const limit = Math.min(end, bytes.length);
  while (p + 8 <= limit) {
    const esize = view.getInt32(p, littleEndian), ecode = view.getInt32(p + 4, littleEndian);
    if (esize < 8 || p + esize > limit) {
      warnings.push(
        `"${name}": header extension ${out.length + 1} at byte ${p} is malformed (esize ${esize}, code ${ecode}, ` +
          `${limit - p} bytes left before the voxels); it and any after it were dropped`,
      );
      return out;
    }
    out.push({ code: ecode, data: bytes.slice(p + 8, p + esize) });
    p += esize;
  }
  return out;
}

/** Analyze 7.5 (SPM99/SPM2 flavour, as nibabel loads a `.hdr` without NIfTI magic). */
function decodeAnalyze(bytes: Uint8Array, name: string, littleEndian: boolean): DecodedHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dim = [...Array(8)].map((_, i) => view.getInt16(40 + 2 * i, littleEndian));
  const pixdim = [...Array(8)].map((_, i) => view.getFloat32(76 + 4 * i, littleEndian));
  const code = view.getInt16(70, littleEndian);
  const datatype = datatypeByCode(code, `cannot read "${name}"`);
  const { shape, ndim } = shapeFromDim(dim, name);
  const zooms = [1, 2, 3].map((i) => Math.abs(pixdim[i]));
  // SPM's origin (1-based voxel of the world origin) lives in the `originator` field.
  const origin = [0, 1, 2].map((i) => view.getInt16(253 + 2 * i, littleEndian));
  const dims3 = [shape[0], shape[1], shape[2]];
  const useOrigin = origin.some((o) => o !== 0) && origin.every((o, i) => o > -dims3[i] && o < dims3[i] * 2);
  const centre = useOrigin ? origin.map((o) => o - 1) : dims3.map((d) => (d - 1) / 2);
  const diag = [-zooms[0], zooms[1], zooms[2]];
  const affine = diagonalAffine(diag, centre.map((c, i) => -c * diag[i]));
  const bad = affine.flat().find((v) => !Number.isFinite(v));
  if (bad !== undefined) {
    throw new Error(`cannot read "${name}": pixdim ${pixdim.slice(1, 4).join(", ")} gives an affine containing ${bad}`);
  }
  const rawSlope = view.getFloat32(112, littleEndian);
  const warnings: string[] = [];
  const slope = effectiveScaling(rawSlope, 0, datatype, name, warnings).slope;
  const header: SourceHeader = {
    format: 0,
    datatypeCode: code,
    dim,
    pixdim,
    sformCode: 0,
    qformCode: 0,
    sform: affine,
    qform: undefined,
    sclSlope: rawSlope,
    sclInter: 0,
    xyztUnits: 2,
    description: fixedString(bytes, 148, 80),
    auxFile: fixedString(bytes, 228, 24),
    intentCode: 0,
    intentName: "",
    intentParams: [0, 0, 0],
    calMin: view.getFloat32(128, littleEndian),
    calMax: view.getFloat32(124, littleEndian),
    dimInfo: 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceDuration: 0,
    toffset: 0,
    littleEndian,
    extensions: [],
  };
  return {
    header,
    datatype,
    shape,
    ndim,
    affine,
    affineSource: "pixdim",
    pixdim: zooms.map((z, i) => (i < ndim ? z : 1)) as unknown as [number, number, number],
    voxOffset: Math.max(0, Math.round(view.getFloat32(108, littleEndian))),
    headerSize: 348,
    slope,
    inter: 0,
    warnings,
  };
}

/**
 * nibabel's scaling rule (slope 0 or non-finite: none; valid slope with a non-finite intercept: refused), except
 * that colour data is never scaled: the NIfTI-1 standard says scl_slope does not apply to RGB (nibabel fails there).
 */
function effectiveScaling(
  rawSlope: number,
  rawInter: number,
  datatype: DatatypeInfo,
  name: string,
  warnings: string[],
): { slope: number; inter: number } {
  if (rawSlope === 0 || !Number.isFinite(rawSlope)) return { slope: 1, inter: 0 };
  if (datatype.name === "rgb24" || datatype.name === "rgba32") {
    if (rawSlope !== 1 || (rawInter !== 0 && Number.isFinite(rawInter))) {
      warnings.push(
        `"${name}": scl_slope ${rawSlope} / scl_inter ${rawInter} ignored: scaling does not apply to ${datatype.name}`,
      );
    }
    return { slope: 1, inter: 0 };
  }
  if (!Number.isFinite(rawInter)) {
    throw new Error(`cannot read "${name}": valid scl_slope ${rawSlope} but invalid scl_inter ${rawInter}`);
  }
  return { slope: rawSlope, inter: rawInter };
}

/** Validates `dim` and turns it into a 5-D shape `[x, y, z, t, c]`. */
function shapeFromDim(dim: readonly number[], name: string): { shape: Shape5; ndim: number } {
  const ndim = dim[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new Error(`cannot read "${name}": dim[0] is ${ndim}, expected 1 to 7`);
  const sizes = dim.slice(1, ndim + 1);
  sizes.forEach((d, i) => {
    if (!(Number.isSafeInteger(d) && d >= 1)) {
      throw new Error(`cannot read "${name}": dim[${i + 1}] is ${d}, expected a positive size`);
    }
  });
  const s = [1, 1, 1, 1, 1];
  // Dimensions 5–7 (NIfTI's u, v, w; CIFTI uses them) are folded into c, keeping x-fastest order.
  sizes.forEach((d, i) => (s[Math.min(i, 4)] *= d));
  const total = s.reduce((a, b) => a * b, 1), limit = maxVoxels();
  if (total > limit) {
    throw new Error(
      `cannot read "${name}": header declares ${sizes.join("x")} = ${total} voxels, above the limit of ${limit} ` +
        `(set NIFTYTS_MAX_VOXELS to read larger images)`,
    );
  }
  return { shape: s as unknown as Shape5, ndim: Math.min(ndim, 5) };
}

/**
 * Decodes the header at the start of `bytes` (a whole `.nii`, or a `.hdr`). `name` is used in error messages.
 * Throws a clear error for anything that is not a readable NIfTI-1/NIfTI-2/Analyze header.
 */
export function decodeHeader(bytes: Uint8Array, name: string, options: DecodeHeaderOptions = {}): DecodedHeader {
  const { version, littleEndian } = sniff(bytes, name, options.pair ?? PAIR_NAME.test(name));
  if (version === 0) return decodeAnalyze(bytes, name, littleEndian);
  const headerSize = version === 2 ? 540 : 348;
  const fixed = bytes.slice(0, headerSize).buffer;
  let h: InstanceType<typeof niftiReader.NIFTI1> | InstanceType<typeof niftiReader.NIFTI2>;
  try {
    h = niftiReader.readHeader(fixed, true);
  } catch (e) {
    throw new Error(`cannot read "${name}": header does not parse (${(e as Error).message})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dim = h.dims.map(Number);
  const { shape, ndim } = shapeFromDim(dim, name);
  const datatype = datatypeByCode(h.datatypeCode, `cannot read "${name}"`);
  const pixdim = h.pixDims.map(Number);
  // srow and quaternion straight from the bytes: nifti-reader-js picks sform or qform itself, and its qform is
  // inexact near 180° (TFJS_NOTES); nibabel's rules are applied below.
  const f = (o: number) => (version === 2 ? view.getFloat64(o, littleEndian) : view.getFloat32(o, littleEndian));
  const srowAt = version === 2 ? 400 : 280, step = version === 2 ? 8 : 4;
  const sform = toAffine([0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f(srowAt + (4 * r + c) * step))));
  const qAt = version === 2 ? 352 : 256;
  const [qb, qc, qd, qx, qy, qz] = [0, 1, 2, 3, 4, 5].map((i) => f(qAt + i * step));
  let qform: Affine | undefined;
  let qformError = "";
  try {
    qform = qformToAffine({
      b: qb,
      c: qc,
      d: qd,
      offset: [qx, qy, qz],
      pixdim: [pixdim[1], pixdim[2], pixdim[3]],
      qfac: pixdim[0],
    });
  } catch (e) {
    qformError = (e as Error).message;
  }
  const sformCode = VALID_XFORM_CODES.has(h.sform_code) ? h.sform_code : 0;
  const qformCode = VALID_XFORM_CODES.has(h.qform_code) ? h.qform_code : 0;
  let affine: Affine, affineSource: AffineSource;
  const zooms = [1, 2, 3].map((i) => Math.abs(pixdim[i]));
  if (sformCode > 0) {
    affine = sform;
    affineSource = "sform";
  } else if (qformCode > 0) {
    if (!qform) throw new Error(`cannot read "${name}": qform_code is ${qformCode} but ${qformError}`);
    affine = qform;
    affineSource = "qform";
  } else {
    // nibabel's base affine: x flipped, origin at the centre voxel; dimensions past ndim count as size/zoom 1.
    const z3 = [0, 1, 2].map((i) => (i < ndim ? zooms[i] : 1));
    const c3 = [0, 1, 2].map((i) => (shape[i] - 1) / 2);
    const diag = [-z3[0], z3[1], z3[2]];
    affine = diagonalAffine(diag, c3.map((c, i) => -c * diag[i]));
    affineSource = "pixdim";
  }
  const bad = affine.flat().find((v) => !Number.isFinite(v));
  if (bad !== undefined) {
    const why = affineSource === "sform" ? "srow_x/y/z" : `pixdim ${pixdim.slice(1, 4).join(", ")}`;
    throw new Error(`cannot read "${name}": ${affineSource} affine contains ${bad} (from ${why})`);
  }
  const warnings: string[] = [];
  const { slope, inter } = effectiveScaling(Number(h.scl_slope), Number(h.scl_inter), datatype, name, warnings);
  const rawSlope = Number(h.scl_slope), rawInter = Number(h.scl_inter);
  // nibabel reports pixdim as stored even when it is NaN or 0; with an sform to place the voxels, the voxel size
  // is taken from its columns instead (and said), so that sizes downstream are never NaN.
  const columns = voxelSizes(affine);
  const voxelSize = [0, 1, 2].map((i) => {
    if (i >= ndim) return 1;
    if (Number.isFinite(zooms[i]) && zooms[i] > 0) return zooms[i];
    if (affineSource === "sform" && columns[i] > 0) {
      warnings.push(`"${name}": pixdim[${i + 1}] is ${pixdim[i + 1]}; voxel size ${columns[i]} taken from the sform`);
      return columns[i];
    }
    return zooms[i];
  });
  const rawOffset = Number(h.vox_offset);
  if (!Number.isFinite(rawOffset) || rawOffset < 0) {
    throw new Error(`cannot read "${name}": vox_offset is ${rawOffset}`);
  }
  const single = h.magic.startsWith("n+");
  const voxOffset = single ? Math.max(Math.floor(rawOffset), headerSize + 4) : Math.floor(rawOffset);
  const header: SourceHeader = {
    format: version,
    datatypeCode: h.datatypeCode,
    dim,
    pixdim,
    sformCode,
    qformCode,
    sform,
    qform,
    sclSlope: rawSlope,
    sclInter: rawInter,
    xyztUnits: h.xyzt_units,
    description: h.description,
    auxFile: h.aux_file,
    intentCode: h.intent_code,
    intentName: h.intent_name,
    intentParams: [h.intent_p1, h.intent_p2, h.intent_p3],
    calMin: h.cal_min,
    calMax: h.cal_max,
    dimInfo: h.dim_info,
    sliceCode: h.slice_code,
    sliceStart: Number(h.slice_start),
    sliceEnd: Number(h.slice_end),
    sliceDuration: h.slice_duration,
    toffset: h.toffset,
    littleEndian,
    extensions: readExtensions(bytes, headerSize, single ? voxOffset : bytes.length, littleEndian, name, warnings),
  };
  return {
    header,
    datatype,
    shape,
    ndim,
    affine,
    affineSource,
    pixdim: voxelSize as [number, number, number],
    voxOffset,
    headerSize,
    slope,
    inter,
    warnings,
  };
}
