/**
 * Input sections (NiftyNet's per-modality config sections): where a modality's files are, how file names map to
 * subject ids, and how the images are conformed on reading.
 *
 * @module
 */
import type { InterpOrder } from "../../geometry/resample.ts";
import type { SubjectId } from "../types.ts";
import { exists, joinPath, parseCsvRows, writeTextAtomic } from "../_files.ts";
import { readCsvData } from "./csv_data.ts";

/** One input section, e.g. `[T1]` or `[label]`. Field names mirror NiftyNet's INI keys. */
export interface InputSectionOptions {
  /** INI `csv_file`: a headerless `subject_id,path` list; read when it exists, written after a search otherwise. */
  csvFile?: string;
  /** INI `csv_data_file`: values per subject instead of images (see `csv_data.ts`). */
  csvDataFile?: string;
  /** INI `to_ohe`: one-hot encode a single-column `csv_data_file`. */
  toOhe?: boolean;
  /** INI `path_to_search` (comma-separated folders; searched non-recursively, as NiftyNet). */
  pathToSearch?: readonly string[];
  /** INI `filename_contains`: a file is taken only when its name contains every keyword. */
  filenameContains?: readonly string[];
  /** INI `filename_not_contains`: a file is skipped when its name contains any of these. */
  filenameNotContains?: readonly string[];
  /** INI `filename_removefromid`: regular expression removed from the file name to form the subject id. */
  filenameRemovefromid?: string;
  /** INI `interp_order` (NiftyNet 0.6 default 1; use 0 for labels). */
  interpOrder?: InterpOrder;
  /** INI `pixdim`: resample to this voxel size in mm (empty: keep). */
  pixdim?: readonly number[];
  /** INI `axcodes`: reorient to these axis codes, e.g. `"RAS"` (empty: keep). */
  axcodes?: string;
  /** INI `spatial_window_size` (1–3 numbers). */
  spatialWindowSize?: readonly number[];
  /** INI `loader`: accepted for compatibility; every file is read by `src/io` (NIfTI, Analyze, DICOM, PNG, JPEG, TIFF). */
  loader?: string;
}

const IMAGE_NAME = /\.(nii(\.gz)?|hdr|img\.gz|mha|dcm|png|jpe?g|tiff?)$/i;

/** A file name without folder and image extension (`sub01_T1.nii.gz` → `sub01_T1`). */
export function stemOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name.replace(/\.(nii\.gz|nii|hdr|img\.gz|img|mha|dcm|png|jpe?g|tiff?)$/i, "");
}

/**
 * The subject id of a file name: the stem with each `filename_contains` keyword and every match of
 * `filename_removefromid` removed, then leading/trailing `_`, `-`, `.` and spaces stripped
 * (`sub01_T1.nii.gz`, contains `T1` → `sub01`).
 */
export function subjectIdOf(path: string, section: InputSectionOptions): SubjectId {
  let id = stemOf(path);
  for (const k of section.filenameContains ?? []) if (k) id = id.split(k).join("");
  if (section.filenameRemovefromid) id = id.replace(new RegExp(section.filenameRemovefromid, "g"), "");
  return id.replace(/^[_\-. ]+|[_\-. ]+$/g, "").replace(/[_\-]{2,}/g, "_");
}

/** Whether a file name passes the section's contains / not-contains filters. */
export function matchesSection(path: string, section: InputSectionOptions): boolean {
  const name = stemOf(path);
  if (!(section.filenameContains ?? []).every((k) => name.includes(k))) return false;
  return !(section.filenameNotContains ?? []).some((k) => k && name.includes(k));
}

/** Parses a `csv_file` list: `subject_id,path` rows, no header (a one-column row uses the file's stem as id). */
export function parseSubjectCsv(text: string, csvPath: string): Map<SubjectId, string> {
  const out = new Map<SubjectId, string>();
  for (const row of parseCsvRows(text)) {
    const [id, path] = row.length >= 2 ? [row[0], row[1]] : [stemOf(row[0]), row[0]];
    if (out.has(id)) throw new Error(`"${csvPath}": subject "${id}" is listed twice`);
    out.set(id, path);
  }
  return out;
}

/**
 * Finds a section's files: reads its `csv_file` when that exists, otherwise lists `path_to_search` and keeps the
 * matching image files (then writes the list to `csv_file` when one is named). Returns subject id → path. A
 * `csv_data_file` section maps each subject of the table to the table itself.
 */
export async function findSectionFiles(name: string, section: InputSectionOptions): Promise<Map<SubjectId, string>> {
  if (section.csvDataFile) {
    // Values, not images: every subject of the table "is" in the file (the loader reads its row).
    const data = await readCsvData(section.csvDataFile, { toOhe: section.toOhe });
    return new Map([...data.values.keys()].map((id) => [id, section.csvDataFile!]));
  }
  if (section.csvFile && await exists(section.csvFile)) {
    return parseSubjectCsv(await Deno.readTextFile(section.csvFile), section.csvFile);
  }
  const folders = (section.pathToSearch ?? []).filter((p) => p.length > 0);
  if (folders.length === 0) {
    throw new Error(`input section [${name}]: neither csv_file, csv_data_file nor path_to_search is set`);
  }
  const out = new Map<SubjectId, string>();
  for (const folder of folders) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(folder)];
    } catch {
      throw new Error(`input section [${name}]: path_to_search "${folder}" is not a readable folder`);
    }
    for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (!e.isFile || !IMAGE_NAME.test(e.name) || !matchesSection(e.name, section)) continue;
      const path = joinPath(folder, e.name);
      const id = subjectIdOf(e.name, section);
      const prior = out.get(id);
      if (prior !== undefined) {
        throw new Error(
          `input section [${name}]: "${prior}" and "${path}" both give subject id "${id}"; ` +
            `refine filename_contains / filename_removefromid`,
        );
      }
      out.set(id, path);
    }
  }
  if (out.size === 0) {
    throw new Error(
      `input section [${name}]: no image in ${folders.map((f) => `"${f}"`).join(", ")} matches ` +
        `filename_contains ${JSON.stringify(section.filenameContains ?? [])}`,
    );
  }
  if (section.csvFile) {
    await writeTextAtomic(section.csvFile, [...out].map(([id, p]) => `${id},${p}\n`).join(""));
  }
  return out;
}
