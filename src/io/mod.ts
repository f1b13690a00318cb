/**
 * Medical image I/O: the {@link Image} type, NIfTI-1/2 and Analyze reading, NIfTI-1 writing, DICOM series, and
 * the `info` / `convert` command implementations.
 *
 * @module
 */
export * from "./image.ts";
export * from "./datatypes.ts";
export { decodeVoxels, parseNifti, readNifti, readNiftiInfo } from "./nifti_read.ts";
export type { NiftiInfo } from "./nifti_read.ts";
export { encodeNifti1, writeNifti } from "./nifti_write.ts";
export type { WriteNiftiOptions } from "./nifti_write.ts";
export { readDicomSeries } from "./dicom.ts";
export { detectFormat, readImage } from "./read_image.ts";
export { convertCommand, infoCommand, parseConvertFlags } from "./cli_commands.ts";
export type { ConvertOptions } from "./cli_commands.ts";
