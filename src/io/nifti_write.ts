/**
 * Writing NIfTI-1 single files (`.nii`, `.nii.gz`): voxels in a chosen datatype, sform and qform both set from the
 * image affine, pixdim, units, description and the source's extensions; always written atomically.
 *
 * @module
 */
import type { Image, NiftiDatatype, VoxelData } from "../geometry/image.ts";
import { voxelCount } from "../geometry/image.ts";
import { datatypeByName, type DatatypeInfo, isIntegerDatatype } from "./datatypes.ts";
import { affineToQform } from "../geometry/affine.ts";
import { gzip } from "./_files.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";

/** Options for {@link encodeNifti1} and {@link writeNifti}. */
export interface WriteNiftiOptions {
  /** On-disk datatype; default: the image's `datatype` (the source file's), or the data's own type. */
  datatype?: NiftiDatatype;
  /** `descrip` (at most 79 characters kept); default: the source's description. */
  description?: string;
  /** Gzip the output; default: when the path ends in `.gz`. */
  gzip?: boolean;
  /**
   * `intent_code` and `intent_name` (at most 15 characters kept), e.g. NIFTI_INTENT_LABEL (1002) for a label map;
   * default: the source's. The intent parameters are then written as 0.
   */
  intent?: { readonly code: number; readonly name?: string };
  /** `aux_file` (at most 23 characters kept), e.g. the label table beside the image; default: the source's. */
  auxFile?: string;
}

const RANGES: Partial<Record<NiftiDatatype, readonly [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-(2 ** 53), 2 ** 53],
  uint64: [0, 2 ** 53],
  rgb24: [0, 255],
  rgba32: [0, 255],
};

/**
 * Chooses `scl_slope`/`scl_inter` for storing `data` in an integer type: none when every value already is an
 * in-range integer; the source's own scaling when it reproduces every value exactly; otherwise a linear map of
 * [min, max] onto the type's full range.
 */
function chooseScaling(data: VoxelData, target: NiftiDatatype, source?: { slope: number; inter: number }) {
  const range = RANGES[target];
  if (!range) return { slope: 1, inter: 0 };
  let min = Infinity, max = -Infinity, integral = true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  if (!(min <= max)) return { slope: 1, inter: 0 };
  if (integral && min >= range[0] && max <= range[1]) return { slope: 1, inter: 0 };
  if (source && source.slope !== 0 && Number.isFinite(source.slope)) {
    const s = Math.fround(source.slope), c = Math.fround(source.inter);
    let ok = true;
    for (let i = 0; i < data.length && ok; i++) {
      const q = Math.round((data[i] - c) / s);
      ok = q >= range[0] && q <= range[1] && Math.abs(q * s + c - data[i]) <= 1e-9 * Math.max(1, Math.abs(data[i]));
    }
    if (ok) return { slope: s, inter: c };
  }
  if (min === max) return { slope: 1, inter: Math.fround(min) };
  const slope = Math.fround((max - min) / (range[1] - range[0]));
  return { slope, inter: Math.fround(min - range[0] * slope) };
}

/** Encodes voxel values into little-endian bytes of the target datatype, applying the inverse scaling. */
function encodeVoxels(image: Image, info: DatatypeInfo, slope: number, inter: number): Uint8Array {
  const data = image.data;
  const n = voxelCount(image.shape);
  if (info.name === "rgb24" || info.name === "rgba32") {
    const ch = info.bytes;
    if (image.shape[4] !== ch) {
      throw new Error(`cannot write ${info.name}: image has ${image.shape[4]} channels, expected ${ch}`);
    }
    const per = n / ch;
    const out = new Uint8Array(n);
    for (let c = 0; c < ch; c++) {
      for (let v = 0; v < per; v++) out[v * ch + c] = Math.min(255, Math.max(0, Math.round(data[c * per + v])));
    }
    return out;
  }
  const buf = new ArrayBuffer(n * info.bytes);
  const scaled = slope !== 1 || inter !== 0;
  const value = (i: number) => (scaled ? (data[i] - inter) / slope : data[i]);
  const integer = isIntegerDatatype(info.name);
  const range = RANGES[info.name];
  const fill = <T extends { [i: number]: number }>(arr: T) => {
    for (let i = 0; i < n; i++) {
      let v = value(i);
      if (integer) {
        v = Math.round(v);
        if (range) v = Math.min(range[1], Math.max(range[0], v));
        if (Number.isNaN(v)) v = 0;
      }
      arr[i] = v;
    }
  };
  switch (info.name) {
    case "uint8":
      fill(new Uint8Array(buf));
      break;
    case "int8":
      fill(new Int8Array(buf));
      break;
    case "int16":
      fill(new Int16Array(buf));
      break;
    case "uint16":
      fill(new Uint16Array(buf));
      break;
    case "int32":
      fill(new Int32Array(buf));
      break;
    case "uint32":
      fill(new Uint32Array(buf));
      break;
    case "float32":
      fill(new Float32Array(buf));
      break;
    case "float64":
      fill(new Float64Array(buf));
      break;
    case "int64":
    case "uint64": {
      const big = info.name === "int64" ? new BigInt64Array(buf) : new BigUint64Array(buf);
      for (let i = 0; i < n; i++) {
        const v = Math.round(value(i));
        big[i] = BigInt(Number.isFinite(v) ? Math.min(range![1], Math.max(range![0], v)) : 0);
      }
      break;
    }
  }
  return new Uint8Array(buf);
}

/** The number of dimensions to declare: the image's own, raised to cover any non-singleton axis. */
function declaredDims(image: Image, channels: boolean): number {
  let nd = Math.max(1, image.ndim);
  const s = image.shape;
  const last = channels ? 3 : 4;
  for (let i = 0; i <= last; i++) if (s[i] > 1) nd = Math.max(nd, i + 1);
  return Math.min(nd, channels ? 4 : 5);
}

/**
 * Encodes an image as NIfTI-1 single-file bytes (uncompressed). The sform is the affine (float32), the qform the
 * nearest rigid-body-plus-zoom encoding of it; codes come from the source header (sform code falls back to the
 * qform code and vice versa), else 2 ("aligned") — DICOM sources get 1 ("scanner").
 */
export function encodeNifti1(image: Image, options: WriteNiftiOptions = {}): Uint8Array {
  const info = datatypeByName(options.datatype ?? image.datatype);
  const channels = info.name === "rgb24" || info.name === "rgba32";
  const src = image.header;
  const { slope, inter } = chooseScaling(
    image.data,
    info.name,
    src && src.format !== "dicom" ? { slope: src.sclSlope, inter: src.sclInter } : undefined,
  );
  const voxels = encodeVoxels(image, info, slope, inter);
  const extensions = src?.extensions ?? [];
  // Each extension's esize (8 + data) must be a multiple of 16.
  const extSizes = extensions.map((e) => Math.ceil((8 + e.data.length) / 16) * 16);
  const extTotal = extensions.length ? extSizes.reduce((a, b) => a + b, 0) : 0;
  const voxOffset = 352 + extTotal;
  const out = new Uint8Array(voxOffset + voxels.length);
  const v = new DataView(out.buffer);
  const le = true;
  v.setInt32(0, 348, le);
  out[39] = src?.dimInfo ?? 0;
  const nd = declaredDims(image, channels);
  v.setInt16(40, nd, le);
  for (let i = 1; i <= 7; i++) v.setInt16(40 + 2 * i, i <= nd ? image.shape[i - 1] : 1, le);
  const ip = options.intent ? [0, 0, 0] : src?.intentParams ?? [0, 0, 0];
  v.setFloat32(56, ip[0], le);
  v.setFloat32(60, ip[1], le);
  v.setFloat32(64, ip[2], le);
  v.setInt16(68, options.intent?.code ?? src?.intentCode ?? 0, le);
  v.setInt16(70, info.code, le);
  v.setInt16(72, info.bytes * 8, le);
  v.setInt16(74, src?.sliceStart ?? 0, le);
  const q = affineToQform(image.affine);
  const pixdim = [q.qfac, q.pixdim[0], q.pixdim[1], q.pixdim[2], src?.pixdim[4] || 1, 1, 1, 1];
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, pixdim[i], le);
  v.setFloat32(108, voxOffset, le);
  v.setFloat32(112, slope === 1 && inter === 0 ? 1 : slope, le);
  v.setFloat32(116, slope === 1 && inter === 0 ? 0 : inter, le);
  v.setInt16(120, src?.sliceEnd ?? 0, le);
  out[122] = src?.sliceCode ?? 0;
  out[123] = src?.xyztUnits ?? 10;
  v.setFloat32(124, src?.calMax ?? 0, le);
  v.setFloat32(128, src?.calMin ?? 0, le);
  v.setFloat32(132, src?.sliceDuration ?? 0, le);
  v.setFloat32(136, src?.toffset ?? 0, le);
  const text = (at: number, len: number, s: string) => {
    const bytes = new TextEncoder().encode(s).subarray(0, len - 1);
    out.set(bytes, at);
  };
  text(148, 80, options.description ?? src?.description ?? "");
  text(228, 24, options.auxFile ?? src?.auxFile ?? "");
  const fallback = src?.format === "dicom" ? 1 : 2;
  const sformCode = src?.sformCode || src?.qformCode || fallback;
  const qformCode = src?.qformCode || src?.sformCode || fallback;
  v.setInt16(252, qformCode, le);
  v.setInt16(254, sformCode, le);
  v.setFloat32(256, q.b, le);
  v.setFloat32(260, q.c, le);
  v.setFloat32(264, q.d, le);
  v.setFloat32(268, q.offset[0], le);
  v.setFloat32(272, q.offset[1], le);
  v.setFloat32(276, q.offset[2], le);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, image.affine[r][c], le);
  text(328, 16, options.intent ? options.intent.name ?? "" : src?.intentName ?? "");
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  out[348] = extensions.length ? 1 : 0;
  let p = 352;
  extensions.forEach((e, k) => {
    v.setInt32(p, extSizes[k], le);
    v.setInt32(p + 4, e.code, le);
    out.set(e.data, p + 8);
    p += extSizes[k];
  });
  out.set(voxels, voxOffset);
  return out;
}

/**
 * Writes an image as NIfTI-1 (`.nii` or `.nii.gz`), atomically (temporary file in the same folder, then rename).
 *
 * @example
 * ```ts
 * await writeNifti("out.nii.gz", image, { datatype: "float32" });
 * ```
 */
export async function writeNifti(path: string, image: Image, options: WriteNiftiOptions = {}): Promise<void> {
  if (!/\.nii(\.gz)?$/i.test(path)) {
    throw new Error(`cannot write "${path}": output must end in .nii or .nii.gz`);
  }
  const bytes = encodeNifti1(image, options);
  await writeFileAtomic(path, options.gzip ?? /\.gz$/i.test(path) ? await gzip(bytes) : bytes);
}
