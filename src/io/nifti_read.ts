/**
 * Reading NIfTI-1 / NIfTI-2 (`.nii`, `.nii.gz`, `.hdr`/`.img` pairs, gzipped or not) and Analyze 7.5 into an
 * {@link Image}, with the affine, scaling and data nibabel gives for the same file.
 *
 * @module
 */
import type { Image, Shape5, VoxelData } from "../geometry/image.ts";
import { voxelCount } from "../geometry/image.ts";
import { type DecodedHeader, decodeHeader } from "./nifti_header.ts";
import { readBounded } from "./_files.ts";

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

/**
 * The elements of `src` (`bytesPer` bytes each) in host byte order, in a buffer aligned for typed-array views: `src`'s
 * own buffer, swapped in place, when `owned` (it spans a whole buffer nobody else uses), else a fresh copy.
 */
function alignedCopy(src: Uint8Array, bytesPer: number, littleEndian: boolean, owned = false): ArrayBuffer {
  const out = owned && src.byteOffset === 0 && src.byteLength === src.buffer.byteLength
    ? src
    : new Uint8Array(src.length);
  if (littleEndian === HOST_LITTLE_ENDIAN || bytesPer === 1) {
    if (out !== src) out.set(src);
    return out.buffer as ArrayBuffer;
  }
  for (let i = 0; i < src.length; i += bytesPer) {
    for (let b = 0; b < bytesPer >> 1; b++) {
      const t = src[i + b];
      out[i + b] = src[i + bytesPer - 1 - b];
      out[i + bytesPer - 1 - b] = t;
    }
  }
  return out.buffer as ArrayBuffer;
}

/**
 * Turns stored bytes into voxel values: byte order, 64-bit integers (to float64), RGB de-interleaving (to channels),
 * then `scl_slope`/`scl_inter` exactly as nibabel's array proxy: skipped when slope is 1 and intercept 0, else
 * `raw · slope + inter` in float64. `owned`: `raw` is a whole buffer the caller gives away, decoded in place.
 */
export function decodeVoxels(raw: Uint8Array, h: DecodedHeader, owned = false): VoxelData {
  const { name, bytes } = h.datatype;
  const le = h.header.littleEndian;
  const host = (n: number) => alignedCopy(raw, n, le, owned);
  let values: VoxelData;
  switch (name) {
    case "uint8":
      values = owned ? raw : raw.slice();
      break;
    case "int8":
      values = new Int8Array(host(1));
      break;
    case "int16":
      values = new Int16Array(host(2));
      break;
    case "uint16":
      values = new Uint16Array(host(2));
      break;
    case "int32":
      values = new Int32Array(host(4));
      break;
    case "uint32":
      values = new Uint32Array(host(4));
      break;
    case "float32":
      values = new Float32Array(host(4));
      break;
    case "float64":
      values = new Float64Array(host(8));
      break;
    case "int64":
    case "uint64": {
      const big = name === "int64" ? new BigInt64Array(host(8)) : new BigUint64Array(host(8));
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
    ...(h.warnings.length ? { warnings: h.warnings } : {}),
    slope: h.slope,
    inter: h.inter,
  };
}

function shortBy(h: DecodedHeader, name: string, have: number, pair: boolean): Error {
  const end = h.voxOffset + voxelCount(h.shape) * h.datatype.bytes;
  return new Error(
    `cannot read "${name}": header says ${h.shape.slice(0, h.ndim).join("x")} ${h.datatype.name} at offset ` +
      `${h.voxOffset} but ${pair ? "image file" : "file"} is ${end - have} bytes short`,
  );
}

function withVoxels(h: DecodedHeader, name: string, data: VoxelData): Image {
  const { slope: _s, inter: _i, ...rest } = toInfo(h, name);
  return { ...rest, data };
}

/**
 * Decodes a whole in-memory NIfTI file (`.nii` bytes, already gunzipped). For a pair, pass the `.hdr` bytes and
 * the `.img` bytes as `imgBytes`. A 348-byte header without NIfTI magic is Analyze 7.5 only for a pair (or a `name`
 * ending in `.hdr`/`.img`), as nibabel decides.
 */
export function parseNifti(bytes: Uint8Array, name: string, imgBytes?: Uint8Array): Image {
  const h = decodeHeader(bytes, name, imgBytes ? { pair: true } : {});
  const dataFile = imgBytes ?? bytes;
  const end = h.voxOffset + voxelCount(h.shape) * h.datatype.bytes;
  if (end > dataFile.length) throw shortBy(h, name, dataFile.length, imgBytes !== undefined);
  return withVoxels(h, name, decodeVoxels(dataFile.subarray(h.voxOffset, end), h));
}

/** Most bytes of header + extensions kept (a larger vox_offset is skipped over, not held). */
const MAX_HEADER_BYTES = 16 * 2 ** 20;

/**
 * Reads a NIfTI-1/NIfTI-2/Analyze image from disk (gzip detected from the content). Reading is bounded: the header
 * is decoded first (sizes above `NIFTYTS_MAX_VOXELS` are refused before anything is allocated), then exactly
 * `vox_offset` + the image's bytes are read (inflated) and nothing after them.
 *
 * @example
 * ```ts
 * const img = await readNifti("tests/data/example4d.nii.gz");
 * img.shape; // [128, 96, 24, 2, 1]
 * ```
 */
export async function readNifti(path: string): Promise<Image> {
  const pair = pairPaths(path);
  if (!pair) {
    let h: DecodedHeader | undefined;
    const got = await readBounded(path, 540, (head) => {
      h = decodeHeader(head, path);
      const keep = Math.min(h.voxOffset, MAX_HEADER_BYTES);
      return { keep, skip: h.voxOffset - keep, data: voxelCount(h.shape) * h.datatype.bytes };
    });
    h = decodeHeader(got.head, path);
    const need = voxelCount(h.shape) * h.datatype.bytes;
    if (got.data.length < need) {
      throw shortBy(h, path, got.head.length + got.data.length, false);
    }
    return withVoxels(h, path, decodeVoxels(got.data, h, true));
  }
  const h = await readPairHeader(pair.hdr, path);
  const img = await readBounded(pair.img, 0, () => ({
    keep: 0,
    skip: h.voxOffset,
    data: voxelCount(h.shape) * h.datatype.bytes,
  })).catch((e) => {
    throw new Error(`cannot read "${path}": image file of the pair is missing or unreadable (${e.message})`);
  });
  const need = voxelCount(h.shape) * h.datatype.bytes;
  if (img.data.length < need) throw shortBy(h, path, h.voxOffset + img.data.length, true);
  return withVoxels(h, path, decodeVoxels(img.data, h, true));
}

/** The header of a pair: the `.hdr` file (with its extensions, which run to the end of that file). */
async function readPairHeader(hdr: string, name: string): Promise<DecodedHeader> {
  const got = await readBounded(hdr, 0, () => ({ keep: 0, data: MAX_HEADER_BYTES }));
  return decodeHeader(got.data, name, { pair: true });
}

/** Reads only the header of a NIfTI/Analyze file: shape, datatype, affine, voxel size, scaling. */
export async function readNiftiInfo(path: string): Promise<NiftiInfo> {
  const pair = pairPaths(path);
  if (pair) return toInfo(await readPairHeader(pair.hdr, path), path);
  const got = await readBounded(path, 540, (head) => {
    const h = decodeHeader(head, path);
    return { keep: Math.min(h.voxOffset, MAX_HEADER_BYTES), data: 0 };
  });
  return toInfo(decodeHeader(got.head, path), path);
}
