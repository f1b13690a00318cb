/**
 * One entry point for every supported input: NIfTI-1/2 or Analyze files, and DICOM series (a folder, or one file
 * of the series).
 *
 * @module
 */
import type { Image } from "../geometry/image.ts";
import { readNifti } from "./nifti_read.ts";
import { readDicomSeries } from "./dicom.ts";

const NIFTI_NAME = /\.(nii|hdr|img)(\.gz)?$/i;

/** What kind of input a path is, from its name and first bytes. */
export async function detectFormat(path: string): Promise<"nifti" | "dicom"> {
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
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "nifti";
    const v = new DataView(head.buffer);
    if (n >= 4 && [348, 540].some((s) => v.getInt32(0, true) === s || v.getInt32(0, false) === s)) return "nifti";
  } finally {
    file.close();
  }
  throw new Error(`cannot read "${path}": not a NIfTI, Analyze or DICOM file`);
}

/**
 * Reads any supported image: `.nii`, `.nii.gz`, `.hdr`/`.img` pairs, or a DICOM series (folder or file).
 *
 * @example
 * ```ts
 * const img = await readImage("sub-01_T1w.nii.gz");
 * ```
 */
export async function readImage(path: string): Promise<Image> {
  return (await detectFormat(path)) === "dicom" ? readDicomSeries(path) : readNifti(path);
}
