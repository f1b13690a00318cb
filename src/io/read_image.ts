/**
 * One entry point for every supported input: NIfTI-1/2 or Analyze files, DICOM (a folder is a series; a file is
 * that image, or its series when asked), and 2D PNG, JPEG and TIFF images (`image_2d.ts`).
 *
 * @module
 */
import type { Image } from "../geometry/image.ts";
import { readNifti } from "./nifti_read.ts";
import { readDicom } from "./dicom.ts";
import { type Image2dFormat, readImage2d, sniff2dFormat } from "./image_2d.ts";

const NIFTI_NAME = /\.(nii|hdr|img)(\.gz)?$/i;

/** What kind of input a path is, from its name and first bytes. */
export async function detectFormat(path: string): Promise<"nifti" | "dicom" | Image2dFormat> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new Error(`cannot read "${path}": file or folder not found`);
  }
  if (info.isDirectory) return "dicom";
  if (NIFTI_NAME.test(path)) return "nifti";
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(132);
    const n = (await file.read(head)) ?? 0;
    if (n >= 132 && String.fromCharCode(...head.subarray(128, 132)) === "DICM") return "dicom";
    if (/\.dcm$/i.test(path)) return "dicom";
    const flat = sniff2dFormat(head.subarray(0, n));
    if (flat) return flat;
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "nifti";
    const v = new DataView(head.buffer);
    if (n >= 4 && [348, 540].some((s) => v.getInt32(0, true) === s || v.getInt32(0, false) === s)) return "nifti";
  } finally {
    file.close();
  }
  throw new Error(`cannot read "${path}": not a NIfTI, Analyze, DICOM, PNG, JPEG or TIFF file`);
}

/** Options for {@link readImage}. */
export interface ReadImageOptions {
  /** A DICOM file stands for its whole series (see `readDicom`); default: that one file. */
  readonly dicomSeries?: boolean;
}

/**
 * Reads any supported image: `.nii`, `.nii.gz`, `.hdr`/`.img` pairs, a DICOM folder (one series), a DICOM file, or a
 * PNG, JPEG or TIFF image (x = row, y = column, 1 mm pixels unless the file says otherwise; see `image_2d.ts`).
 *
 * @example
 * ```ts
 * const img = await readImage("sub-01_T1w.nii.gz");
 * const series = await readImage("dicom/IM0001.dcm", { dicomSeries: true });
 * const slice = await readImage("slice.png");
 * ```
 */
export async function readImage(path: string, options: ReadImageOptions = {}): Promise<Image> {
  const format = await detectFormat(path);
  if (format === "dicom") return readDicom(path, { series: options.dicomSeries });
  return format === "nifti" ? readNifti(path) : readImage2d(path);
}
