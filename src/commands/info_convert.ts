/**
 * The `info` and `convert` commands, as functions the CLI wires to its parser: they take paths and typed options
 * and return the text to print; failures throw `Error`s with messages fit for the user.
 *
 * @module
 */
import type { Image, NiftiDatatype } from "../geometry/image.ts";
import { voxelCount } from "../geometry/image.ts";
import { detectFormat, readImage } from "../io/read_image.ts";
import { maxVoxels } from "../io/nifti_header.ts";
import { readNiftiInfo } from "../io/nifti_read.ts";
import { writeNifti } from "../io/nifti_write.ts";
import { datatypeByName } from "../io/datatypes.ts";
import { axcodesOf, parseAxcodes, reorient } from "../geometry/orientation.ts";
import { formatAffine } from "../geometry/affine.ts";
import { type InterpOrder, pixdimGrid, resampleToGrid } from "../geometry/resample.ts";
import { conform } from "../geometry/conform.ts";

const XFORM_NAMES = ["unknown", "scanner", "aligned", "talairach", "mni152", "template"];
const SPATIAL_UNITS: Record<number, string> = { 0: "unknown", 1: "m", 2: "mm", 3: "µm" };

function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : Number(v.toFixed(digits)).toString();
}

function intensity(img: Image): { min: number; max: number; mean: number; nan: number } {
  let min = Infinity, max = -Infinity, sum = 0, nan = 0;
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / Math.max(1, d.length - nan), nan };
}

/** Options of {@link infoCommand}. */
export interface InfoOptions {
  /** A DICOM file stands for its whole series (`--series`); default: that one file. */
  series?: boolean;
  /** Receives the reader's warnings (default `console.error`, prefixed "warning: "). */
  warn?: (line: string) => void;
}

/** Runs `fn`; an error that does not name `path` gets it as a prefix (geometry errors know no file names). */
async function naming<T>(path: string, verb: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const message = (e as Error).message;
    if (message.includes(`"${path}"`)) throw e;
    throw new Error(`cannot ${verb} "${path}": ${message}`);
  }
}

function reportWarnings(img: Image, warn: (line: string) => void): void {
  for (const w of img.warnings ?? []) warn(`warning: ${w}`);
}

const stderrWarn = (line: string) => console.error(line);

/**
 * A readable header summary of an image file, DICOM file or DICOM folder: format, shape, datatype and scaling, voxel
 * size, axis codes, the affine and where it came from, sform/qform codes, intensity range, description, extensions.
 *
 * @example
 * ```ts
 * console.log(await infoCommand("t1.nii.gz"));
 * ```
 */
export async function infoCommand(file: string, options: InfoOptions = {}): Promise<string> {
  const img = await readImage(file, { dicomSeries: options.series });
  reportWarnings(img, options.warn ?? stderrWarn);
  return await naming(file, "describe", () => describe(file, img));
}

async function describe(file: string, img: Image): Promise<string> {
  const h = img.header;
  const lines: [string, string][] = [];
  const format = !h
    ? `${(await detectFormat(file)).toUpperCase()} image`
    : h.format === "dicom"
    ? img.shape[2] === 1 ? "DICOM image" : "DICOM series"
    : h.format === 2
    ? "NIfTI-2"
    : h.format === 1
    ? "NIfTI-1"
    : "Analyze 7.5";
  lines.push(["file", file]);
  lines.push([
    "format",
    `${format}${h && h.format !== "dicom" ? (h.littleEndian ? ", little endian" : ", big endian") : ""}`,
  ]);
  const dims = img.shape.slice(0, Math.max(img.ndim, 1));
  lines.push(["dimensions", `${dims.join(" x ")} (${img.ndim}D, ${voxelCount(img.shape)} voxels)`]);
  let dt: string = img.datatype;
  if (h && h.format !== "dicom") {
    const info = await readNiftiInfo(file);
    dt += info.slope !== 1 || info.inter !== 0
      ? ` (scaled: value = stored x ${fmt(info.slope, 6)} + ${fmt(info.inter, 6)})`
      : " (no scaling)";
  }
  lines.push(["datatype", dt]);
  const units = h ? SPATIAL_UNITS[h.xyztUnits & 7] ?? "unknown" : "mm";
  lines.push(["voxel size", `${img.pixdim.map((p) => fmt(p)).join(" x ")} ${units}`]);
  if (h && h.format !== "dicom" && img.ndim >= 4) lines.push(["time step", `${fmt(h.pixdim[4])}`]);
  lines.push(["axcodes", axcodesOf(img.affine)]);
  if (h && (h.format === 1 || h.format === 2)) {
    lines.push(["sform_code", `${h.sformCode} (${XFORM_NAMES[h.sformCode] ?? "?"})`]);
    lines.push(["qform_code", `${h.qformCode} (${XFORM_NAMES[h.qformCode] ?? "?"})`]);
  }
  lines.push(["affine from", img.affineSource]);
  const r = intensity(img);
  lines.push([
    "intensity",
    `min ${fmt(r.min)}, max ${fmt(r.max)}, mean ${fmt(r.mean)}${r.nan ? `, ${r.nan} NaN voxels` : ""}`,
  ]);
  if (h?.description) lines.push(["description", JSON.stringify(h.description)]);
  if (h?.intentCode) lines.push(["intent", `${h.intentCode}${h.intentName ? ` (${h.intentName})` : ""}`]);
  if (h?.extensions.length) {
    lines.push(["extensions", `${h.extensions.length} (codes ${h.extensions.map((e) => e.code).join(", ")})`]);
  }
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  const affineText = formatAffine(img.affine).split("\n").map((l) => " ".repeat(width) + l).join("\n");
  return lines.map(([k, v]) => k.padEnd(width) + v).join("\n") + `\n${"affine".padEnd(width)}\n${affineText}`;
}

/** Options of {@link convertCommand} (the CLI flags, parsed). */
export interface ConvertOptions {
  /** `--axcodes RAS`: reorient (permute/flip, no resampling). */
  axcodes?: string;
  /** `--pixdim 1,1,1`: resample to this voxel size (mm), keeping orientation and extent. */
  pixdim?: number[];
  /** `--order 0|1|3`: interpolation for --pixdim/--conform (default 1). */
  order?: InterpOrder;
  /** `--conform 256,1,LIA`: resample onto a size³ grid of voxel mm in the given orientation. */
  conform?: { size: number; voxel: number; axcodes: string };
  /** `--datatype float32`: output datatype (default: the input's). */
  datatype?: string;
  /** `--series`: a DICOM input file stands for its whole series (default: that one file). */
  series?: boolean;
  /** Receives the reader's warnings (default `console.error`, prefixed "warning: "). */
  warn?: (line: string) => void;
}

/** Refuses an output grid above the reader's voxel limit before anything is allocated, naming the option. */
function checkOutputSize(option: string, shape: readonly number[], img: Image): void {
  const total = shape[0] * shape[1] * shape[2] * img.shape[3] * img.shape[4], limit = maxVoxels();
  if (!(total <= limit)) {
    throw new Error(
      `${option}: the output would be ${shape.join("x")}${
        img.shape[3] * img.shape[4] > 1 ? `x${img.shape[3] * img.shape[4]}` : ""
      } = ` +
        `${total} voxels, above the limit of ${limit} (NIFTYTS_MAX_VOXELS); use a larger voxel size`,
    );
  }
}

/**
 * Reads any supported input (NIfTI, Analyze, DICOM folder or file), optionally reorients, resamples or conforms it,
 * and writes NIfTI-1 (`.nii` / `.nii.gz`). Returns a one-line report.
 *
 * @example
 * ```ts
 * await convertCommand("dicom/", "t1.nii.gz", { conform: { size: 256, voxel: 1, axcodes: "LIA" }, order: 3 });
 * ```
 */
export async function convertCommand(input: string, output: string, opts: ConvertOptions = {}): Promise<string> {
  if (opts.pixdim && opts.conform) throw new Error("--pixdim and --conform cannot be combined: pick one");
  if (opts.order !== undefined && ![0, 1, 3].includes(opts.order)) {
    throw new Error(`invalid --order ${opts.order}: expected 0, 1 or 3`);
  }
  if (opts.axcodes) parseAxcodes(opts.axcodes);
  if (opts.conform) {
    parseAxcodes(opts.conform.axcodes);
    const { size, voxel } = opts.conform;
    if (!(Number.isInteger(size) && size > 0) || !(voxel > 0)) {
      throw new Error(`invalid --conform ${size},${voxel}: expected a positive integer size and voxel size in mm`);
    }
  }
  const datatype = opts.datatype ? datatypeByName(opts.datatype).name as NiftiDatatype : undefined;
  if (!/\.nii(\.gz)?$/i.test(output)) throw new Error(`cannot write "${output}": output must end in .nii or .nii.gz`);
  const source = await readImage(input, { dicomSeries: opts.series });
  reportWarnings(source, opts.warn ?? stderrWarn);
  let img = source;
  const steps: string[] = [];
  const order = opts.order ?? 1;
  await naming(input, "convert", () => {
    if (opts.axcodes) {
      img = reorient(img, opts.axcodes).image;
      steps.push(`reoriented to ${opts.axcodes.toUpperCase()}`);
    }
    if (opts.pixdim) {
      const grid = pixdimGrid(img, opts.pixdim);
      checkOutputSize(`--pixdim ${opts.pixdim.join(",")}`, grid.shape, img);
      img = resampleToGrid(img, grid, { order });
      steps.push(`resampled to ${opts.pixdim.join("x")} mm (order ${order})`);
    }
    if (opts.conform) {
      const { size, voxel, axcodes } = opts.conform;
      checkOutputSize(`--conform ${size},${voxel}`, [size, size, size], img);
      img = conform(img, { shape: [size, size, size], voxelSize: [voxel, voxel, voxel], axcodes, order }).image;
      steps.push(`conformed to ${size}^3 at ${voxel} mm ${axcodes.toUpperCase()} (order ${order})`);
    }
  });
  const outType = datatype ?? img.datatype;
  await writeNifti(output, img, { datatype: outType });
  const desc = (i: Image, t: string) =>
    `${i.shape.slice(0, Math.max(3, i.ndim)).join("x")} ${t}, ${i.pixdim.map((p) => fmt(p, 3)).join("x")} mm, ${
      axcodesOf(i.affine)
    }`;
  return `wrote ${output}: ${desc(img, outType)} (from ${input}: ${desc(source, source.datatype)}${
    steps.length ? `; ${steps.join(", ")}` : ""
  })`;
}

/**
 * Parses the string forms of the convert flags (`--pixdim 1,1,1`, `--order 3`, `--conform 256,1,LIA`) into
 * {@link ConvertOptions}; throws naming the flag and value when one is malformed.
 */
export function parseConvertFlags(
  flags: { axcodes?: string; pixdim?: string; order?: string; conform?: string; datatype?: string },
): ConvertOptions {
  const out: ConvertOptions = {};
  if (flags.axcodes !== undefined) {
    parseAxcodes(flags.axcodes);
    out.axcodes = flags.axcodes.toUpperCase();
  }
  if (flags.pixdim !== undefined) {
    const p = flags.pixdim.split(",").map((v) => Number(v.trim()));
    if (p.length === 1) p.push(p[0], p[0]);
    if (p.length !== 3 || !p.every((v) => v > 0)) {
      throw new Error(`invalid --pixdim "${flags.pixdim}": expected three positive numbers like 1,1,1`);
    }
    out.pixdim = p;
  }
  if (flags.order !== undefined) {
    const o = Number(flags.order);
    if (o !== 0 && o !== 1 && o !== 3) throw new Error(`invalid --order "${flags.order}": expected 0, 1 or 3`);
    out.order = o;
  }
  if (flags.conform !== undefined) {
    const [size, voxel, axcodes = "LIA"] = flags.conform.split(",").map((v) => v.trim());
    const c = { size: Number(size), voxel: Number(voxel), axcodes: axcodes.toUpperCase() };
    if (!(Number.isInteger(c.size) && c.size > 0 && c.voxel > 0)) {
      throw new Error(`invalid --conform "${flags.conform}": expected size,voxel[,axcodes] like 256,1,LIA`);
    }
    parseAxcodes(c.axcodes);
    out.conform = c;
  }
  if (flags.datatype !== undefined) out.datatype = datatypeByName(flags.datatype).name;
  return out;
}
