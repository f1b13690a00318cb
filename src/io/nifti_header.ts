/**
 * NIfTI-1, NIfTI-2 and Analyze 7.5 header decoding. Field parsing uses `nifti-reader-js`; the geometry (sform, qform
 * with nibabel's quaternion rule, pixdim fallback) and the checks that make hostile headers fail cleanly are ours.
 *
 * @module
 */
import { niftiReader } from "../deps.ts";
import type { Affine, AffineSource, NiftiExtension, Shape5, SourceHeader } from "../geometry/image.ts";
import { datatypeByCode, type DatatypeInfo } from "./datatypes.ts";
import { diagonalAffine, qformToAffine, toAffine } from "../geometry/affine.ts";

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
  /** Effective scaling after nibabel's rule (slope 0 or non-finite: none). */
  readonly slope: number;
  readonly inter: number;
}

/** NIfTI xform codes nibabel accepts; others are reset to 0 on load, as nibabel's header check does. */
const VALID_XFORM_CODES = new Set([0, 1, 2, 3, 4, 5]);

/** Which header layout the first bytes announce. */
function sniff(bytes: Uint8Array, name: string): { version: 0 | 1 | 2; littleEndian: boolean } {
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
  return { version: magic === "n+1" || magic === "ni1" ? 1 : 0, littleEndian };
}

function fixedString(bytes: Uint8Array, start: number, length: number): string {
  const slice = bytes.subarray(start, start + length);
  const end = slice.indexOf(0);
  return new TextDecoder("latin1").decode(end >= 0 ? slice.subarray(0, end) : slice);
}

/** Reads extensions between the fixed header and the voxels; stops at anything malformed instead of looping. */
function readExtensions(bytes: Uint8Array, start: number, end: number, littleEndian: boolean): NiftiExtension[] {
  const out: NiftiExtension[] = [];
  if (bytes.length < start + 4 || bytes[start] === 0) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = start + 4;
  const limit = Math.min(end, bytes.length);
  while (p + 8 <= limit) {
    const esize = view.getInt32(p, littleEndian), ecode = view.getInt32(p + 4, littleEndian);
    if (esize < 8 || p + esize > limit) break;
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
  const rawSlope = view.getFloat32(112, littleEndian);
  const slope = rawSlope === 0 || !Number.isFinite(rawSlope) ? 1 : rawSlope;
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
  };
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
  if (s.reduce((a, b) => a * b, 1) > 2 ** 32) {
    throw new Error(`cannot read "${name}": ${sizes.join("x")} voxels is more than this reader handles`);
  }
  return { shape: s as unknown as Shape5, ndim: Math.min(ndim, 5) };
}

/**
 * Decodes the header at the start of `bytes` (a whole `.nii`, or a `.hdr`). `name` is used in error messages.
 * Throws a clear error for anything that is not a readable NIfTI-1/NIfTI-2/Analyze header.
 */
export function decodeHeader(bytes: Uint8Array, name: string): DecodedHeader {
  const { version, littleEndian } = sniff(bytes, name);
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
  if (bad !== undefined) throw new Error(`cannot read "${name}": ${affineSource} affine contains ${bad}`);
  const rawSlope = Number(h.scl_slope), rawInter = Number(h.scl_inter);
  let slope = 1, inter = 0;
  if (rawSlope !== 0 && Number.isFinite(rawSlope)) {
    if (!Number.isFinite(rawInter)) {
      throw new Error(`cannot read "${name}": valid scl_slope ${rawSlope} but invalid scl_inter ${rawInter}`);
    }
    slope = rawSlope;
    inter = rawInter;
  }
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
    extensions: readExtensions(bytes, headerSize, single ? voxOffset : bytes.length, littleEndian),
  };
  return {
    header,
    datatype,
    shape,
    ndim,
    affine,
    affineSource,
    pixdim: [0, 1, 2].map((i) => (i < ndim ? zooms[i] : 1)) as unknown as [number, number, number],
    voxOffset,
    headerSize,
    slope,
    inter,
  };
}
