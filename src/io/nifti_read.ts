/**
 * Reading NIfTI-1 / NIfTI-2 (`.nii`, `.nii.gz`, `.hdr`/`.img` pairs, gzipped or not) and Analyze 7.5 into an
 * {@link Image}, with the affine, scaling and data nibabel gives for the same file.
 *
 * @module
 */
import type { Image, Shape5, VoxelData } from "../geometry/image.ts";
import { voxelCount } from "../geometry/image.ts";
import { type DecodedHeader, decodeHeader } from "./nifti_header.ts";
import { readMaybeGzip } from "./_files.ts";

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Options for {@link readNifti}. */
export interface ReadNiftiOptions {
  /** Skip the voxels (header, shape and affine only; `data` is empty). */
  headerOnly?: boolean;
}

/** Header-level facts about a NIfTI/Analyze file, without its voxels. */
export type NiftiInfo = Omit<Image, "data"> & {
  /** Effective scaling (nibabel's rule: slope 0 or non-finite means none, reported as 1 and 0). */
  readonly slope: number;
  readonly inter: number;
};

/** For a `.hdr`/`.img` pair, the path of the other file; undefined for single files. */
function pairPaths(path: string): { hdr: string; img: string } | undefined {
  const m = path.match(/^(.*)\.(hdr|img)(\.gz)?$/i);
  if (!m) return undefined;
  const gz = m[3] ?? "";
  const upper = m[2] === m[2].toUpperCase();
  return { hdr: `${m[1]}.${upper ? "HDR" : "hdr"}${gz}`, img: `${m[1]}.${upper ? "IMG" : "img"}${gz}` };
}

/** Copies `count` elements of `bytesPer` bytes each into a fresh buffer, swapping byte order when needed. */
function alignedCopy(src: Uint8Array, bytesPer: number, littleEndian: boolean): ArrayBuffer {
  const out = new Uint8Array(src.length);
  if (littleEndian === HOST_LITTLE_ENDIAN || bytesPer === 1) {
    out.set(src);
    return out.buffer;
  }
  for (let i = 0; i < src.length; i += bytesPer) {
    for (let b = 0; b < bytesPer; b++) out[i + b] = src[i + bytesPer - 1 - b];
  }
  return out.buffer;
}

/**
 * Turns stored bytes into voxel values: byte order, 64-bit integers (to float64), RGB de-interleaving (to channels),
 * then `scl_slope`/`scl_inter` exactly as nibabel's array proxy: skipped when slope is 1 and intercept 0, else
 * `raw · slope + inter` in float64.
 */
export function decodeVoxels(raw: Uint8Array, h: DecodedHeader): VoxelData {
  const { name, bytes } = h.datatype;
  const le = h.header.littleEndian;
  let values: VoxelData;
  switch (name) {
    case "uint8":
      values = raw.slice();
      break;
    case "int8":
      values = new Int8Array(alignedCopy(raw, 1, le));
      break;
    case "int16":
      values = new Int16Array(alignedCopy(raw, 2, le));
      break;
    case "uint16":
      values = new Uint16Array(alignedCopy(raw, 2, le));
      break;
    case "int32":
      values = new Int32Array(alignedCopy(raw, 4, le));
      break;
    case "uint32":
      values = new Uint32Array(alignedCopy(raw, 4, le));
      break;
    case "float32":
      values = new Float32Array(alignedCopy(raw, 4, le));
      break;
    case "float64":
      values = new Float64Array(alignedCopy(raw, 8, le));
      break;
    case "int64":
    case "uint64": {
      const big = name === "int64"
        ? new BigInt64Array(alignedCopy(raw, 8, le))
        : new BigUint64Array(alignedCopy(raw, 8, le));
      values = Float64Array.from(big, (v) => Number(v));
      break;
    }
    case "rgb24":
    case "rgba32": {
      const n = raw.length / bytes;
      const out = new Uint8Array(raw.length);
      for (let c = 0; c < bytes; c++) for (let v = 0; v < n; v++) out[c * n + v] = raw[v * bytes + c];
      values = out;
      break;
    }
  }
  if (h.slope === 1 && h.inter === 0) return values;
  // nibabel keeps the scale factors as Python floats, so any scaling yields float64 (numpy promotion).
  const { slope, inter } = h;
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) {
    let v = values[i];
    if (slope !== 1) v = v * slope;
    if (inter !== 0) v = v + inter;
    out[i] = v;
  }
  return out;
}

/** The image shape including RGB channels. */
function shapeWithChannels(h: DecodedHeader, name: string): Shape5 {
  const channels = h.datatype.name === "rgb24" ? 3 : h.datatype.name === "rgba32" ? 4 : 1;
  if (channels === 1) return h.shape;
  if (h.shape[4] !== 1) throw new Error(`cannot read "${name}": RGB data with a 5th dimension is not supported`);
  return [h.shape[0], h.shape[1], h.shape[2], h.shape[3], channels];
}

function toInfo(h: DecodedHeader, name: string): NiftiInfo {
  return {
    shape: shapeWithChannels(h, name),
    ndim: h.ndim,
    affine: h.affine,
    pixdim: h.pixdim,
    datatype: h.datatype.name,
    affineSource: h.affineSource,
    header: h.header,
    slope: h.slope,
    inter: h.inter,
  };
}

/**
 * Decodes a whole in-memory NIfTI file (`.nii` bytes, already gunzipped). For a pair, pass the `.hdr` bytes and
 * the `.img` bytes as `imgBytes`.
 */
export function parseNifti(bytes: Uint8Array, name: string, imgBytes?: Uint8Array): Image {
  const h = decodeHeader(bytes, name);
  const info = toInfo(h, name);
  const dataFile = imgBytes ?? bytes;
  const need = voxelCount(h.shape) * h.datatype.bytes;
  const end = h.voxOffset + need;
  if (end > dataFile.length) {
    const where = imgBytes ? "image file" : "file";
    throw new Error(
      `cannot read "${name}": header says ${h.shape.slice(0, h.ndim).join("x")} ${h.datatype.name} at offset ` +
        `${h.voxOffset} but ${where} is ${end - dataFile.length} bytes short`,
    );
  }
  const data = decodeVoxels(dataFile.subarray(h.voxOffset, end), h);
  const { slope: _s, inter: _i, ...rest } = info;
  return { ...rest, data };
}

/**
 * Reads a NIfTI-1/NIfTI-2/Analyze image from disk (gzip detected from the content).
 *
 * @example
 * ```ts
 * const img = await readNifti("tests/data/example4d.nii.gz");
 * img.shape; // [128, 96, 24, 2, 1]
 * ```
 */
export async function readNifti(path: string): Promise<Image> {
  const pair = pairPaths(path);
  if (!pair) return parseNifti(await readMaybeGzip(path), path);
  const hdr = await readMaybeGzip(pair.hdr);
  const img = await readMaybeGzip(pair.img).catch((e) => {
    throw new Error(`cannot read "${path}": image file of the pair is missing or unreadable (${e.message})`);
  });
  return parseNifti(hdr, path, img);
}

/** Reads only the header of a NIfTI/Analyze file: shape, datatype, affine, voxel size, scaling. */
export async function readNiftiInfo(path: string): Promise<NiftiInfo> {
  const pair = pairPaths(path);
  const bytes = await readMaybeGzip(pair ? pair.hdr : path);
  return toInfo(decodeHeader(bytes, path), path);
}
