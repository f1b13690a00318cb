/**
 * 2D images as inputs: PNG, JPEG and TIFF files read into an {@link Image} as NiftyNet's 2D loader (skimage/PIL)
 * does: the pixel array `[row, column]` becomes `[x, y]` (x = row, y = column), colour samples become channels
 * (`[rows, columns, 1, 1, channels]`), a multi-page TIFF stacks its pages along z, and the affine is the identity
 * scaled by the pixel spacing: 1 mm unless the file states a physical pixel size (PNG `pHYs` in pixels per metre,
 * TIFF `XResolution`/`YResolution` per inch or centimetre).
 *
 * Decoding is done by well-kept npm libraries (fast-png, jpeg-js, tiff); this module only arranges the samples.
 *
 * @module
 */
import type { Affine, Image, NiftiDatatype, Shape5, VoxelData } from "../geometry/image.ts";
import { decodePng, decodeTiff, jpegJs } from "../deps.ts";

/** The 2D formats. */
export type Image2dFormat = "png" | "jpeg" | "tiff";

/** The 2D format of a file from its first bytes (its signature), or undefined. */
export function sniff2dFormat(head: Uint8Array): Image2dFormat | undefined {
  const starts = (...b: number[]) => head.length >= b.length && b.every((v, i) => head[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (starts(0xff, 0xd8, 0xff)) return "jpeg";
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return "tiff";
  return undefined;
}

/** Samples in pixel order (`[row][column][channel]`, channels fastest) and their layout. */
interface Pixels {
  readonly data: VoxelData;
  readonly rows: number;
  readonly columns: number;
  readonly channels: number;
  /** Spacing along rows (x) and columns (y) in mm. */
  readonly spacing: readonly [number, number];
}

/** Planar `[x, y, z, 1, c]` voxels (x fastest) from pages of interleaved pixels. */
function planar(pages: readonly Pixels[]): VoxelData {
  const { rows, columns, channels } = pages[0];
  const plane = rows * columns, volume = plane * pages.length;
  const Ctor = pages[0].data.constructor as new (n: number) => VoxelData;
  const out = new Ctor(volume * channels);
  pages.forEach((p, z) => {
    for (let r = 0; r < rows; r++) {
      for (let col = 0; col < columns; col++) {
        const src = (r * columns + col) * channels;
        const dst = r + rows * col + plane * z;
        for (let c = 0; c < channels; c++) out[dst + volume * c] = p.data[src + c];
      }
    }
  });
  return out;
}

function datatypeOf(data: VoxelData): NiftiDatatype {
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float64Array) return "float64";
  return "float32";
}

/** Spacing in mm from pixels per unit (`perMm`: units per mm), 1 mm when absent or meaningless. */
function spacingOf(pixelsPerUnit: number | undefined, mmPerUnit: number | undefined): number {
  if (!mmPerUnit || !pixelsPerUnit || !Number.isFinite(pixelsPerUnit) || pixelsPerUnit <= 0) return 1;
  return mmPerUnit / pixelsPerUnit;
}

function pngPixels(bytes: Uint8Array, path: string): Pixels {
  const png = decodePng(bytes);
  let data = png.data as VoxelData;
  let channels = png.channels;
  if (png.palette) {
    // Indexed colour: expand to RGB (RGBA when the palette has alpha), as skimage and PIL's convert do.
    const alpha = png.palette.some((c) => c.length > 3);
    channels = alpha ? 4 : 3;
    const out = new Uint8Array(png.width * png.height * channels);
    const indices = unpackIndices(png.data as Uint8Array, png.depth, png.width, png.height);
    for (let i = 0; i < indices.length; i++) {
      const colour = png.palette[indices[i]];
      if (!colour) throw new Error(`cannot read "${path}": palette index ${indices[i]} out of range`);
      for (let c = 0; c < channels; c++) out[i * channels + c] = colour[c] ?? 255;
    }
    data = out;
  } else if (png.depth < 8) {
    data = unpackIndices(png.data as Uint8Array, png.depth, png.width * channels, png.height);
  }
  // pHYs unit 1 = metre; unit 0 gives only the aspect ratio.
  const perMetre = png.resolution?.unit === 1 ? 1000 : undefined;
  return {
    data,
    rows: png.height,
    columns: png.width,
    channels,
    spacing: [spacingOf(png.resolution?.y, perMetre), spacingOf(png.resolution?.x, perMetre)],
  };
}

/** One value per sample from rows of packed 1/2/4-bit samples (rows start on a byte). */
function unpackIndices(packed: Uint8Array, depth: number, perRow: number, rows: number): Uint8Array {
  if (depth >= 8) return packed;
  const out = new Uint8Array(perRow * rows);
  const rowBytes = Math.ceil((perRow * depth) / 8);
  // fast-png may hand back samples already unpacked (one per byte): keep those as they are.
  if (packed.length === out.length) return packed;
  const mask = (1 << depth) - 1;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      const byte = packed[r * rowBytes + (bit >> 3)];
      out[r * perRow + i] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Number of colour components in a JPEG's frame header (SOFn), or undefined. */
function jpegComponents(bytes: Uint8Array): number | undefined {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return bytes[i + 9];
    }
    i += 2 + length;
  }
  return undefined;
}

function jpegPixels(bytes: Uint8Array): Pixels {
  const decoded = jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: false });
  const rgb = decoded.data;
  // jpeg-js always returns RGB; a one-component (greyscale) JPEG has R = G = B: keep one.
  if (jpegComponents(bytes) === 1) {
    const grey = new Uint8Array(decoded.width * decoded.height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb[3 * i];
    return { data: grey, rows: decoded.height, columns: decoded.width, channels: 1, spacing: [1, 1] };
  }
  return { data: rgb, rows: decoded.height, columns: decoded.width, channels: 3, spacing: [1, 1] };
}

function tiffPages(bytes: Uint8Array, path: string): Pixels[] {
  const ifds = decodeTiff(bytes);
  if (ifds.length === 0) throw new Error(`cannot read "${path}": the TIFF has no image`);
  return ifds.map((ifd, page) => {
    // ResolutionUnit 2 = inch, 3 = centimetre; 1 = none.
    const mmPerUnit = ifd.resolutionUnit === 2 ? 25.4 : ifd.resolutionUnit === 3 ? 10 : undefined;
    const first = ifds[0];
    if (ifd.width !== first.width || ifd.height !== first.height || ifd.samplesPerPixel !== first.samplesPerPixel) {
      throw new Error(
        `cannot read "${path}": page ${page + 1} is ${ifd.width}x${ifd.height}x${ifd.samplesPerPixel} but page 1 ` +
          `is ${first.width}x${first.height}x${first.samplesPerPixel}; only stacks of equal pages are images`,
      );
    }
    return {
      data: ifd.data as VoxelData,
      rows: ifd.height,
      columns: ifd.width,
      channels: ifd.samplesPerPixel,
      spacing: [spacingOf(ifd.yResolution, mmPerUnit), spacingOf(ifd.xResolution, mmPerUnit)],
    };
  });
}

/**
 * Decodes PNG, JPEG or TIFF bytes into an {@link Image} (see the module notes for the layout); `path` names the
 * file in errors.
 *
 * @example
 * ```ts
 * const img = decodeImage2d(await Deno.readFile("slice.png"), "slice.png");
 * img.shape; // [rows, columns, 1, 1, channels]
 * ```
 */
export function decodeImage2d(bytes: Uint8Array, path: string): Image {
  const format = sniff2dFormat(bytes);
  if (!format) throw new Error(`cannot read "${path}": not a PNG, JPEG or TIFF file`);
  let pages: Pixels[];
  try {
    pages = format === "png"
      ? [pngPixels(bytes, path)]
      : format === "jpeg"
      ? [jpegPixels(bytes)]
      : tiffPages(bytes, path);
  } catch (e) {
    const message = (e as Error).message;
    throw message.includes(path) ? e : new Error(`cannot read "${path}" as ${format.toUpperCase()}: ${message}`);
  }
  const { rows, columns, channels, spacing } = pages[0];
  const expected = rows * columns * channels;
  const short = pages.findIndex((p) => p.data.length < expected);
  if (short >= 0) {
    throw new Error(
      `cannot read "${path}": page ${short + 1} has ${pages[short].data.length} samples, not ${expected}`,
    );
  }
  const shape: Shape5 = [rows, columns, pages.length, 1, channels];
  const affine: Affine = [
    [spacing[0], 0, 0, 0],
    [0, spacing[1], 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  return {
    data: planar(pages),
    shape,
    ndim: channels > 1 ? 5 : pages.length > 1 ? 3 : 2,
    affine,
    pixdim: [spacing[0], spacing[1], 1],
    datatype: datatypeOf(pages[0].data),
    affineSource: "computed",
  };
}

/** Reads a PNG, JPEG or TIFF file (see {@link decodeImage2d}). */
export async function readImage2d(path: string): Promise<Image> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    throw new Error(`cannot read "${path}": file not found`);
  }
  return decodeImage2d(bytes, path);
}
