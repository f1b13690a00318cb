/**
 * NiftyNet's `csv_data_file`: values per subject from a CSV instead of images (class labels for classification,
 * targets or features per subject). As NiftyNet's `CSVReader`: no header row, the first column is the subject id,
 * the other columns its values; every subject of the run must have a row.
 *
 * - One value column, `to_ohe = False`: the value itself when every row holds a number (a class index or a
 *   regression target); names (`healthy`, `tumour`) become indices in sorted order. NiftyNet numbered names and
 *   numbers alike by order of first appearance, which depends on the row order; here a class written as a number keeps
 *   that number, and names get a stable order.
 * - One value column, `to_ohe = True`: a one-hot vector over the distinct values (sorted: numerically when all are
 *   numbers, else by name); its length is the number of distinct values.
 * - Several value columns: a vector of numbers per subject (`to_ohe` is refused, as NiftyNet's "unrecognised input
 *   format").
 *
 * A subject's values become a 1×1×1 image whose channels are the values, so they travel through the loader like an
 * image (a classification label of one voxel is its class).
 *
 * @module
 */
import type { Image } from "../../geometry/image.ts";
import type { SubjectId } from "../types.ts";
import { parseCsvRows } from "../_files.ts";

/** A parsed `csv_data_file`. */
export interface CsvData {
  readonly path: string;
  /** Values per subject (length {@link CsvData.dims}). */
  readonly values: ReadonlyMap<SubjectId, Float32Array>;
  /** Values per subject. */
  readonly dims: number;
  /** The names of the classes, in index order, when a single column held names or was one-hot encoded. */
  readonly classes?: readonly string[];
}

const isNumber = (text: string) => text !== "" && Number.isFinite(Number(text));

function sortedLevels(cells: readonly string[]): string[] {
  const levels = [...new Set(cells)];
  return levels.every(isNumber) ? levels.sort((a, b) => Number(a) - Number(b)) : levels.sort();
}

/**
 * Parses a `csv_data_file`'s text (see the module notes); errors name the file, the row and the value.
 *
 * @example
 * ```ts
 * const data = parseCsvData("s1,0\ns2,1\n", "labels.csv");
 * data.values.get("s2"); // Float32Array [1]
 * parseCsvData("s1,cat\ns2,dog\n", "labels.csv", { toOhe: true }).values.get("s2"); // Float32Array [0, 1]
 * ```
 */
export function parseCsvData(text: string, path: string, options: { toOhe?: boolean } = {}): CsvData {
  const rows = parseCsvRows(text);
  if (rows.length === 0) throw new Error(`csv_data_file "${path}" has no rows`);
  const width = rows[0].length;
  if (width < 2) {
    throw new Error(`csv_data_file "${path}" row 1: expected "subject_id,value[,value…]", got "${rows[0].join(",")}"`);
  }
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new Error(`csv_data_file "${path}" row ${i + 1}: expected ${width} columns like row 1, got ${row.length}`);
    }
    if (!row[0]) throw new Error(`csv_data_file "${path}" row ${i + 1}: the subject id is empty`);
    if (seen.has(row[0])) throw new Error(`csv_data_file "${path}": subject "${row[0]}" has two rows`);
    seen.add(row[0]);
  });
  // A first row of names above numbers is a header, which csv_data_file does not have (NiftyNet reads header=None).
  const body = rows.slice(1);
  if (body.length && rows[0].slice(1).some((c) => !isNumber(c)) && body.every((r) => r.slice(1).every(isNumber))) {
    throw new Error(
      `csv_data_file "${path}" row 1 ("${rows[0].join(",")}") looks like a header: the file has none, ` +
        `rows are "subject_id,value[,value…]"`,
    );
  }
  const values = new Map<SubjectId, Float32Array>();
  if (width === 2) {
    const cells = rows.map((r) => r[1]);
    const numeric = cells.every(isNumber);
    if (options.toOhe) {
      const levels = sortedLevels(cells);
      for (const row of rows) {
        const v = new Float32Array(levels.length);
        v[levels.indexOf(row[1])] = 1;
        values.set(row[0], v);
      }
      return { path, values, dims: levels.length, classes: levels };
    }
    if (numeric) {
      for (const row of rows) values.set(row[0], Float32Array.of(Number(row[1])));
      return { path, values, dims: 1 };
    }
    const levels = sortedLevels(cells);
    for (const row of rows) values.set(row[0], Float32Array.of(levels.indexOf(row[1])));
    return { path, values, dims: 1, classes: levels };
  }
  if (options.toOhe) {
    throw new Error(`csv_data_file "${path}": to_ohe needs exactly one value column, the file has ${width - 1}`);
  }
  rows.forEach((row, i) => {
    const bad = row.slice(1).findIndex((c) => !isNumber(c));
    if (bad >= 0) {
      throw new Error(
        `csv_data_file "${path}" row ${i + 1} column ${bad + 2}: expected a number, got "${row[bad + 1]}"`,
      );
    }
    values.set(row[0], Float32Array.from(row.slice(1), Number));
  });
  return { path, values, dims: width - 1 };
}

const cache = new Map<string, Promise<CsvData>>();

/** Reads and parses a `csv_data_file` once per path and options (see {@link parseCsvData}). */
export function readCsvData(path: string, options: { toOhe?: boolean } = {}): Promise<CsvData> {
  const key = `${options.toOhe ? "ohe" : "values"}:${path}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = (async () => {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch {
        throw new Error(`cannot read csv_data_file "${path}": file not found`);
      }
      return parseCsvData(text, path, options);
    })();
    cache.set(key, hit);
    // A failed read is not kept, so a fixed file is read again.
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

/** A subject's values as a 1×1×1 image with one channel per value (identity affine, float32). */
export function csvDataImage(data: CsvData, id: SubjectId): Image {
  const values = data.values.get(id);
  if (!values) throw new Error(`csv_data_file "${data.path}" has no row for subject "${id}"`);
  return {
    data: values,
    shape: [1, 1, 1, 1, data.dims],
    ndim: data.dims > 1 ? 5 : 3,
    affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    pixdim: [1, 1, 1],
    datatype: "float32",
    affineSource: "computed",
  };
}
