/**
 * Medical image I/O: NIfTI-1/2 and Analyze reading, NIfTI-1 writing, DICOM series, into and from the
 * {@link Image} type of `src/geometry/image.ts` (re-exported here); label lookup tables (FreeSurfer LUT, NiiVue JSON).
 *
 * @module
 */
export * from "../geometry/image.ts";
export * from "./datatypes.ts";
export { decodeVoxels, parseNifti, readNifti, readNiftiInfo } from "./nifti_read.ts";
export { decodeNiftiFile } from "./nifti_bytes.ts";
export type { NiftiInfo } from "./nifti_read.ts";
export { encodeNifti1, writeNifti } from "./nifti_write.ts";
export type { WriteNiftiOptions } from "./nifti_write.ts";
export { decodeDicomFiles, readDicom, readDicomSeries } from "./dicom.ts";
export type { DicomFile, ReadDicomOptions } from "./dicom.ts";
export { detectFormat, readImage } from "./read_image.ts";
export { decodeImage2d, readImage2d } from "./image_2d.ts";
export type { Image2dFormat } from "./image_2d.ts";
export type { ReadImageOptions } from "./read_image.ts";
export {
  formatColormapJson,
  formatFreeSurferLut,
  formatFslLut,
  LABEL_TABLE_FILES,
  type LabelEntry,
  labelTableFiles,
  NIFTI_INTENT_LABEL,
  parseLabelTable,
  readLabelTable,
  writeLabelTables,
} from "./label_table.ts";
export { DEFAULT_MAX_VOXELS, maxVoxels } from "./nifti_header.ts";
