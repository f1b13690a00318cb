/**
 * Label lookup tables (names and colours of the values of a label map), read from and written to the two formats
 * viewers load beside a segmentation:
 *
 * - FreeSurfer colour LUT text (`FreeSurferColorLUT.txt`; also read by 3D Slicer, FSLeyes and ITK-SNAP's importers):
 *   one `value name R G B A` line per label, `#` comments, R/G/B in 0–255, A written as 0 (FreeSurfer's column).
 * - FSLeyes lookup table (`.lut`, written only): one `value R G B name` line per label, R/G/B in 0–1.
 * - NiiVue / brainchop colormap JSON (`nv.volumes[i].setColormapLabel(json)`, brainchop's `colormap.json`):
 *   `{ "R": [...], "G": [...], "B": [...], "A": [...], "I": [...], "labels": [...] }`, entry k for value `I[k]`
 *   (values 0, 1, 2 … when `I` is absent); A is 0 for value 0 (transparent background) and 255 otherwise.
 *
 * A NIfTI label map itself says what it is with `intent_code` NIFTI_INTENT_LABEL (1002): NiiVue then draws it with
 * its atlas shader (nearest neighbour, every value its own colour); `aux_file` may name the table beside it.
 *
 * @module
 */
import { writeFileAtomic } from "../util/atomic_write.ts";

/** NIfTI `intent_code` of a label map (nifti1.h `NIFTI_INTENT_LABEL`). */
export const NIFTI_INTENT_LABEL = 1002;

/** One label: its value in the map, name and display colour. */
export interface LabelEntry {
  readonly value: number;
  readonly name: string;
  readonly rgb: readonly [number, number, number];
}

function checkEntries(entries: LabelEntry[], file: string): LabelEntry[] {
  if (entries.length === 0) throw new Error(`label table "${file}": no labels`);
  const seen = new Set<number>();
  for (const e of entries) {
    if (!Number.isInteger(e.value) || e.value < 0) {
      throw new Error(`label table "${file}": value ${e.value} is not a non-negative integer`);
    }
    if (seen.has(e.value)) throw new Error(`label table "${file}": value ${e.value} is listed twice`);
    seen.add(e.value);
    if (!e.name) throw new Error(`label table "${file}": value ${e.value} has no name`);
    if (e.rgb.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
      throw new Error(`label table "${file}": value ${e.value} has colour ${e.rgb.join(",")}, expected 0-255 integers`);
    }
  }
  return entries.sort((a, b) => a.value - b.value);
}

function parseColormapJson(text: string, file: string): LabelEntry[] {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`label table "${file}": not valid JSON (${(e as Error).message})`);
  }
  const list = (key: string, required: boolean): unknown[] | undefined => {
    const v = json[key];
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v)) throw new Error(`label table "${file}": "${key}" must be an array`);
    return v;
  };
  const [r, g, b, names] = [list("R", true)!, list("G", true)!, list("B", true)!, list("labels", true)!];
  const values = list("I", false);
  const n = names.length;
  for (const [key, arr] of [["R", r], ["G", g], ["B", b], ["I", values]] as const) {
    if (arr && arr.length !== n) {
      throw new Error(`label table "${file}": "${key}" has ${arr.length} entries but "labels" has ${n}`);
    }
  }
  return names.map((name, k) => ({
    value: Number(values ? values[k] : k),
    name: String(name),
    rgb: [Number(r[k]), Number(g[k]), Number(b[k])] as const,
  }));
}

function parseFreeSurferLut(text: string, file: string): LabelEntry[] {
  const out: LabelEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const f = line.split(/\s+/);
    if (f.length < 5) {
      throw new Error(`label table "${file}" line ${i + 1}: expected "value name R G B [A]", got "${raw.trim()}"`);
    }
    const value = Number(f[0]);
    const rgb = f.slice(2, 5).map(Number) as [number, number, number];
    if (f[0] === "" || Number.isNaN(value) || rgb.some(Number.isNaN)) {
      throw new Error(`label table "${file}" line ${i + 1}: value and colour must be numbers, got "${raw.trim()}"`);
    }
    out.push({ value, name: f[1], rgb });
  });
  return out;
}

/**
 * Parses a label table: NiiVue/brainchop colormap JSON when the text starts with `{`, else a FreeSurfer LUT.
 * Errors name `file` (and the line) and what was expected.
 *
 * @example
 * ```ts
 * const table = parseLabelTable("0 background 0 0 0 0\n1 liver 220 20 60 0\n", "labels.txt");
 * ```
 */
export function parseLabelTable(text: string, file: string): LabelEntry[] {
  const entries = text.trimStart().startsWith("{") ? parseColormapJson(text, file) : parseFreeSurferLut(text, file);
  return checkEntries(entries, file);
}

/** Reads a label table file (see {@link parseLabelTable}). */
export async function readLabelTable(path: string): Promise<LabelEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new Error(`label table "${path}": no such file`);
  }
  return parseLabelTable(text, path);
}

/** The table as FreeSurfer colour LUT text. */
export function formatFreeSurferLut(entries: readonly LabelEntry[]): string {
  const width = Math.max(10, ...entries.map((e) => e.name.length));
  const lines = entries.map((e) =>
    `${String(e.value).padEnd(5)} ${e.name.replace(/\s+/g, "_").padEnd(width)} ` +
    `${e.rgb.map((c) => String(c).padStart(3)).join(" ")}   0`
  );
  return `#No. ${"Label Name:".padEnd(width)}   R   G   B   A\n${lines.join("\n")}\n`;
}

/** The table as an FSLeyes lookup table (`value r g b name`, colours in 0–1 with 6 decimals). */
export function formatFslLut(entries: readonly LabelEntry[]): string {
  return entries.map((e) => `${e.value} ${e.rgb.map((c) => (c / 255).toFixed(6)).join(" ")} ${e.name}\n`).join("");
}

/** The table as NiiVue / brainchop colormap JSON. */
export function formatColormapJson(entries: readonly LabelEntry[]): string {
  return JSON.stringify({
    R: entries.map((e) => e.rgb[0]),
    G: entries.map((e) => e.rgb[1]),
    B: entries.map((e) => e.rgb[2]),
    A: entries.map((e) => (e.value === 0 ? 0 : 255)),
    I: entries.map((e) => e.value),
    labels: entries.map((e) => e.name),
  }) + "\n";
}

/** File names {@link writeLabelTables} writes with `prefix` (FreeSurfer LUT, FSLeyes LUT, NiiVue colormap). */
export function labelTableFiles(prefix = "label"): { lut: string; fsleyes: string; colormap: string } {
  return { lut: `${prefix}_lut.txt`, fsleyes: `${prefix}_lut.lut`, colormap: `${prefix}_colormap.json` };
}

/** File names {@link writeLabelTables} writes by default. */
export const LABEL_TABLE_FILES = labelTableFiles();

/**
 * Writes `<prefix>_lut.txt` (FreeSurfer), `<prefix>_lut.lut` (FSLeyes) and `<prefix>_colormap.json` (NiiVue) into
 * `dir` (prefix `label` by default), atomically; returns the paths.
 */
export async function writeLabelTables(
  dir: string,
  entries: readonly LabelEntry[],
  prefix?: string,
): Promise<string[]> {
  const files = labelTableFiles(prefix);
  const paths = [files.lut, files.fsleyes, files.colormap].map((f) => `${dir}/${f}`);
  await writeFileAtomic(paths[0], formatFreeSurferLut(entries));
  await writeFileAtomic(paths[1], formatFslLut(entries));
  await writeFileAtomic(paths[2], formatColormapJson(entries));
  return paths;
}
