/**
 * Reading a DICOM series (one SeriesInstanceUID, single-frame, uncompressed) into an {@link Image}: slices sorted
 * along the slice normal, RescaleSlope/Intercept applied, and the LPS→RAS affine built from ImagePositionPatient,
 * ImageOrientationPatient and PixelSpacing. Parsing uses `dicom-parser`.
 *
 * @module
 */
import { dicomParser } from "../deps.ts";
import type { Affine, Image, NiftiDatatype, SourceHeader, VoxelData } from "../geometry/image.ts";

/** One parsed slice. */
interface Slice {
  file: string;
  series: string;
  description: string;
  position: [number, number, number];
  orientation: number[];
  spacing: [number, number];
  rows: number;
  cols: number;
  bits: number;
  signed: boolean;
  slope: number;
  inter: number;
  pixels: Uint8Array;
  littleEndian: boolean;
  instance: number;
}

const UNCOMPRESSED = new Set([
  "1.2.840.10008.1.2",
  "1.2.840.10008.1.2.1",
  "1.2.840.10008.1.2.2",
  "1.2.840.10008.1.2.1.99",
]);

function numbers(ds: dicomParser.DataSet, tag: string): number[] | undefined {
  const s = ds.string(tag);
  if (s === undefined || s.trim() === "") return undefined;
  return s.split("\\").map((v) => Number(v.trim()));
}

/** A DICOM file's dataset and series, before its image is checked. */
interface Parsed {
  file: string;
  bytes: Uint8Array;
  ds: dicomParser.DataSet;
  series: string;
}

/** Parses one file; undefined for files that are not DICOM images (so a folder may hold other files). */
function parseDataset(file: string, bytes: Uint8Array): Parsed | undefined {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch {
    return undefined;
  }
  if (!ds.elements.x7fe00010) return undefined;
  return { file, bytes, ds, series: ds.string("x0020000e")?.trim() ?? "" };
}

/** Checks and decodes one image; throws naming the file when it is one we cannot read (compressed, colour …). */
function toSlice({ file, bytes, ds, series }: Parsed): Slice {
  const pixel = ds.elements.x7fe00010;
  const where = `cannot read DICOM "${file}"`;
  const syntax = ds.string("x00020010")?.trim() ?? "1.2.840.10008.1.2";
  if (!UNCOMPRESSED.has(syntax)) {
    throw new Error(`${where}: transfer syntax ${syntax} (compressed) is not supported; decompress it first`);
  }
  const frames = Number(ds.string("x00280008") ?? "1");
  if (frames > 1) throw new Error(`${where}: multi-frame images (${frames} frames) are not supported`);
  const samples = ds.uint16("x00280002") ?? 1;
  if (samples !== 1) throw new Error(`${where}: ${samples} samples per pixel (colour) is not supported`);
  const position = numbers(ds, "x00200032");
  const orientation = numbers(ds, "x00200037");
  const spacing = numbers(ds, "x00280030");
  if (!position || position.length !== 3 || position.some((v) => !Number.isFinite(v))) {
    throw new Error(`${where}: ImagePositionPatient (0020,0032) is missing or invalid`);
  }
  if (!orientation || orientation.length !== 6 || orientation.some((v) => !Number.isFinite(v))) {
    throw new Error(`${where}: ImageOrientationPatient (0020,0037) is missing or invalid`);
  }
  if (!spacing || spacing.length !== 2 || spacing.some((v) => !(v > 0))) {
    throw new Error(`${where}: PixelSpacing (0028,0030) is missing or invalid`);
  }
  const rows = ds.uint16("x00280010") ?? 0, cols = ds.uint16("x00280011") ?? 0;
  const bits = ds.uint16("x00280100") ?? 0;
  if (!(rows > 0 && cols > 0)) throw new Error(`${where}: Rows/Columns missing`);
  if (bits !== 8 && bits !== 16 && bits !== 32) throw new Error(`${where}: BitsAllocated ${bits} is not supported`);
  const need = rows * cols * (bits / 8);
  if (pixel.length < need || pixel.dataOffset + need > bytes.length) {
    throw new Error(`${where}: pixel data has ${pixel.length} bytes, expected ${need}`);
  }
  const slope = numbers(ds, "x00281053")?.[0] ?? 1;
  const inter = numbers(ds, "x00281052")?.[0] ?? 0;
  return {
    file,
    series,
    description: ds.string("x0008103e")?.trim() ?? "",
    position: position as [number, number, number],
    orientation,
    spacing: spacing as [number, number],
    rows,
    cols,
    bits,
    signed: (ds.uint16("x00280103") ?? 0) === 1,
    slope: Number.isFinite(slope) && slope !== 0 ? slope : 1,
    inter: Number.isFinite(inter) ? inter : 0,
    pixels: bytes.slice(pixel.dataOffset, pixel.dataOffset + need),
    littleEndian: syntax !== "1.2.840.10008.1.2.2",
    instance: Number(ds.string("x00200013") ?? "0"),
  };
}

/** Every regular, non-hidden file of a folder, sorted. */
async function folderFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && !e.name.startsWith(".")) files.push(`${dir}/${e.name}`);
  }
  return files.sort();
}

const cross = (a: number[], b: number[]) => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Options for {@link readDicom}. */
export interface ReadDicomOptions {
  /**
   * For a file: read the whole series it belongs to (every file of its folder with the same SeriesInstanceUID;
   * files of other series are skipped, even unreadable ones) instead of that one file. Ignored for a folder.
   */
  readonly series?: boolean;
}

/**
 * Reads DICOM with explicit file/folder semantics: a folder is one series (all its DICOM images; a folder mixing
 * series, or holding an image we cannot read, is refused); a file is that one image, or with `series: true` the
 * series it belongs to. Slices are sorted along the slice normal; series whose slices disagree in size or
 * orientation or repeat a position are refused.
 *
 * @example
 * ```ts
 * const volume = await readDicom("scans/t1_mprage/");
 * const same = await readDicom("scans/t1_mprage/IM0001.dcm", { series: true });
 * const slice = await readDicom("scans/t1_mprage/IM0001.dcm");
 * ```
 */
export async function readDicom(path: string, options: ReadDicomOptions = {}): Promise<Image> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new Error(`cannot read "${path}": file or folder not found`);
  }
  if (!info.isDirectory) {
    const own = parseDataset(path, await Deno.readFile(path));
    if (!own) throw new Error(`cannot read "${path}": not a DICOM image`);
    if (!options.series) return assemble([toSlice(own)], path);
    const dir = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
    const slices: Slice[] = [];
    for (const f of await folderFiles(dir)) {
      const p = f === path ? own : parseDataset(f, await Deno.readFile(f));
      // Only this file's series matters: other files (other series, not DICOM) are never opened past their header.
      if (p && p.series === own.series) slices.push(toSlice(p));
    }
    return assemble(slices, path);
  }
  const files: DicomFile[] = [];
  for (const f of await folderFiles(path)) files.push({ name: f, bytes: await Deno.readFile(f) });
  return decodeDicomFiles(files, path);
}

/** One file of a DICOM folder, in memory. */
export interface DicomFile {
  /** Its name (or path) in messages. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * A folder's files, in memory, as one series (what {@link readDicom} does with a folder, without a file system: the
 * browser's folder picker). Files that are not DICOM images are skipped; a folder mixing series, holding an image
 * we cannot read, or none at all is refused with one line naming `source`; `mixedHint` ends the mixed-series line.
 *
 * @example
 * ```ts
 * const files = await Promise.all(
 *   [...picked].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
 * );
 * const volume = decodeDicomFiles(files, "t1_mprage/");
 * ```
 */
export function decodeDicomFiles(
  files: readonly DicomFile[],
  source: string,
  { mixedHint = "pass one file with --series to pick its series" }: { mixedHint?: string } = {},
): Image {
  const slices: Slice[] = [];
  for (const f of files) {
    const p = parseDataset(f.name, f.bytes);
    if (p) slices.push(toSlice(p));
  }
  if (slices.length === 0) throw new Error(`cannot read "${source}": no DICOM images found`);
  const series = [...new Set(slices.map((s) => s.series))];
  if (series.length > 1) {
    const list = series.map((u) => {
      const members = slices.filter((s) => s.series === u);
      return `${u} (${members.length} files${members[0].description ? `, "${members[0].description}"` : ""})`;
    });
    throw new Error(`cannot read "${source}": folder mixes ${series.length} series: ${list.join("; ")}; ${mixedHint}`);
  }
  return assemble(slices, source);
}

/**
 * Reads a DICOM series: a folder, or the series a given file belongs to (`readDicom(path, { series: true })`).
 *
 * @example
 * ```ts
 * const img = await readDicomSeries("scans/t1_mprage/");
 * img.affine; // RAS+ mm, as dcm2niix would write it (up to axis flips)
 * ```
 */
export function readDicomSeries(path: string): Promise<Image> {
  return readDicom(path, { series: true });
}

/** Stacks sorted slices into a volume and builds the affine. */
function assemble(slices: Slice[], path: string): Image {
  const first = slices[0];
  for (const s of slices) {
    if (s.rows !== first.rows || s.cols !== first.cols || s.bits !== first.bits || s.signed !== first.signed) {
      throw new Error(`cannot read "${path}": "${s.file}" is ${s.cols}x${s.rows}, others ${first.cols}x${first.rows}`);
    }
    if (s.orientation.some((v, i) => Math.abs(v - first.orientation[i]) > 1e-4)) {
      throw new Error(`cannot read "${path}": "${s.file}" has a different ImageOrientationPatient`);
    }
  }
  const row = first.orientation.slice(0, 3), col = first.orientation.slice(3, 6);
  const normal = cross(row, col);
  const sorted = slices.map((s) => ({ s, d: dot(s.position, normal) })).sort((a, b) => a.d - b.d);
  for (let k = 1; k < sorted.length; k++) {
    if (Math.abs(sorted[k].d - sorted[k - 1].d) < 1e-4) {
      throw new Error(
        `cannot read "${path}": "${sorted[k - 1].s.file}" and "${sorted[k].s.file}" share a slice position ` +
          `(multi-echo or time series are not supported)`,
      );
    }
  }
  const n = sorted.length;
  // Slice spacing from the first two slices, as dcm2niix does (so affines agree); the others must be within 5%
  // of the mean step (stored positions are rounded, so steps jitter by ~0.1 mm in real series).
  const gap = n > 1 ? sorted[1].d - sorted[0].d : 1;
  const mean = n > 1 ? (sorted[n - 1].d - sorted[0].d) / (n - 1) : 1;
  for (let k = 1; k < n; k++) {
    const step = sorted[k].d - sorted[k - 1].d;
    if (Math.abs(step - mean) > 0.05 * Math.abs(mean)) {
      throw new Error(
        `cannot read "${path}": slices are unevenly spaced (${step.toFixed(3)} mm between "${
          sorted[k - 1].s.file
        }" and "${sorted[k].s.file}", mean ${mean.toFixed(3)} mm)`,
      );
    }
  }
  const [rowSpacing, colSpacing] = first.spacing;
  const origin = sorted[0].s.position;
  // LPS: column index i moves along the row direction by the column spacing, row index j along the column
  // direction by the row spacing, slice k along the normal by the slice gap. RAS flips x and y.
  const lps = [0, 1, 2].map((r) => [row[r] * colSpacing, col[r] * rowSpacing, normal[r] * gap, origin[r]]);
  const affine: Affine = [
    [-lps[0][0], -lps[0][1], -lps[0][2], -lps[0][3]],
    [-lps[1][0], -lps[1][1], -lps[1][2], -lps[1][3]],
    [lps[2][0], lps[2][1], lps[2][2], lps[2][3]],
    [0, 0, 0, 1],
  ];
  const plane = first.rows * first.cols;
  const scaled = sorted.some(({ s }) => s.slope !== 1 || s.inter !== 0);
  const raw = rawArray(first, plane * n);
  sorted.forEach(({ s }, k) => {
    const view = new DataView(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength);
    const at = k * plane;
    for (let p = 0; p < plane; p++) raw.set(p + at, readPixel(view, p, s));
  });
  let data: VoxelData = raw.array;
  let datatype: NiftiDatatype = raw.datatype;
  if (scaled) {
    const out = new Float32Array(plane * n);
    sorted.forEach(({ s }, k) => {
      for (let p = 0; p < plane; p++) out[k * plane + p] = raw.array[k * plane + p] * s.slope + s.inter;
    });
    data = out;
    datatype = "float32";
  }
  const header: SourceHeader = {
    format: "dicom",
    datatypeCode: 0,
    dim: [3, first.cols, first.rows, n, 1, 1, 1, 1],
    pixdim: [1, colSpacing, rowSpacing, Math.abs(gap), 0, 0, 0, 0],
    sformCode: 1,
    qformCode: 1,
    sform: affine,
    qform: undefined,
    sclSlope: 1,
    sclInter: 0,
    xyztUnits: 10,
    description: first.description.slice(0, 79),
    auxFile: "",
    intentCode: 0,
    intentName: "",
    intentParams: [0, 0, 0],
    calMin: 0,
    calMax: 0,
    dimInfo: 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceDuration: 0,
    toffset: 0,
    littleEndian: true,
    extensions: [],
  };
  return {
    data,
    shape: [first.cols, first.rows, n, 1, 1],
    ndim: 3,
    affine,
    pixdim: [colSpacing, rowSpacing, Math.abs(gap)],
    datatype,
    affineSource: "dicom",
    header,
  };
}

function rawArray(s: Slice, n: number): { array: VoxelData; datatype: NiftiDatatype; set(i: number, v: number): void } {
  const make = (array: VoxelData, datatype: NiftiDatatype) => ({
    array,
    datatype,
    set: (i: number, v: number) => {
      array[i] = v;
    },
  });
  if (s.bits === 8) return s.signed ? make(new Int8Array(n), "int8") : make(new Uint8Array(n), "uint8");
  if (s.bits === 16) return s.signed ? make(new Int16Array(n), "int16") : make(new Uint16Array(n), "uint16");
  return s.signed ? make(new Int32Array(n), "int32") : make(new Uint32Array(n), "uint32");
}

function readPixel(view: DataView, p: number, s: Slice): number {
  if (s.bits === 8) return s.signed ? view.getInt8(p) : view.getUint8(p);
  if (s.bits === 16) return s.signed ? view.getInt16(2 * p, s.littleEndian) : view.getUint16(2 * p, s.littleEndian);
  return s.signed ? view.getInt32(4 * p, s.littleEndian) : view.getUint32(4 * p, s.littleEndian);
}
