/**
 * Writing inference results: each subject's output volume is taken back through the preprocessing inverses
 * (by the caller) and the loader's geometry inverse onto the input file's original grid and affine, written as
 * `<subject><output_postfix>.nii.gz`, and listed in `inferred.csv` (headerless `subject_id,path` rows, usable as a
 * `csv_file`). Classification outputs go to a CSV instead.
 *
 * @module
 */
import type { NiftiDatatype } from "../../geometry/image.ts";
import { writeNifti } from "../../io/nifti_write.ts";
import { LABEL_TABLE_FILES, type LabelEntry, NIFTI_INTENT_LABEL, writeLabelTables } from "../../io/label_table.ts";
import type { InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume, SubjectId } from "../types.ts";
import { type ImageGeometry, restoreToOriginal } from "../reader/loader.ts";
import { joinPath, writeTextAtomic } from "../_files.ts";

/** Options for {@link InferenceWriter}. */
export interface InferenceWriterOptions {
  /** INI `save_seg_dir` (default `./output`). */
  saveSegDir?: string;
  /** INI `output_postfix` (default `_niftynet_out`). */
  outputPostfix?: string;
  /** INI `output_interp_order` (default 0). */
  outputInterpOrder?: InterpOrder;
  /** On-disk datatype (default float32). */
  datatype?: NiftiDatatype;
  /** Name of the list in `saveSegDir` (default `inferred.csv`; a shard writes `inferred_shard_<i>_of_<n>.csv`). */
  listName?: string;
  /** Rows the list starts with (outputs a resumed shard finished earlier). */
  listed?: ReadonlyMap<SubjectId, string>;
  /** The outputs are label maps: written with NIfTI intent NIFTI_INTENT_LABEL (1002), intent name `labels`. */
  labels?: boolean;
  /**
   * Names and colours of the labels: written once as `label_lut.txt` and `label_colormap.json` in `saveSegDir`,
   * and each label map's `aux_file` names `label_lut.txt`.
   */
  labelTable?: readonly LabelEntry[];
}

/** Writes subject outputs as NIfTI on their original grids and keeps `inferred.csv` up to date. */
export class InferenceWriter {
  readonly #dir: string;
  readonly #options: InferenceWriterOptions;
  readonly #rows: Map<SubjectId, string>;
  #tablesWritten = false;

  constructor(options: InferenceWriterOptions = {}) {
    this.#dir = options.saveSegDir ?? "./output";
    this.#options = options;
    this.#rows = new Map(options.listed ?? []);
  }

  /** Writes the list as it stands (so that a shard with nothing left to do still leaves its list). */
  async writeList(): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true });
    const list = joinPath(this.#dir, this.#options.listName ?? "inferred.csv");
    await writeTextAtomic(list, [...this.#rows].map(([s, p]) => `${s},${p}\n`).join(""));
  }

  /** Restores `volume` (on the loaded grid) with `geometry`, writes it, records it; returns the path. */
  async write(subject: SubjectId, volume: ChannelVolume, geometry: ImageGeometry): Promise<string> {
    await Deno.mkdir(this.#dir, { recursive: true });
    const { labels, labelTable } = this.#options;
    if (labelTable && !this.#tablesWritten) {
      await writeLabelTables(this.#dir, labelTable);
      this.#tablesWritten = true;
    }
    const path = await this.#writeVolume(`${subject}${this.#postfix}`, volume, geometry, {
      datatype: this.#options.datatype ?? "float32",
      intent: labels ? { code: NIFTI_INTENT_LABEL, name: "labels" } : undefined,
      auxFile: labels && labelTable ? LABEL_TABLE_FILES.lut : undefined,
    });
    this.#rows.set(subject, path);
    await this.writeList();
    return path;
  }

  /**
   * Writes a float32 map that goes with a subject's output (an uncertainty map) as
   * `<subject><output_postfix>_<name>.nii.gz`, on the original grid; not listed. Returns the path.
   */
  async writeExtra(subject: SubjectId, name: string, volume: ChannelVolume, geometry: ImageGeometry): Promise<string> {
    await Deno.mkdir(this.#dir, { recursive: true });
    return await this.#writeVolume(`${subject}${this.#postfix}_${name}`, volume, geometry, { datatype: "float32" });
  }

  get #postfix(): string {
    return this.#options.outputPostfix ?? "_niftynet_out";
  }

  async #writeVolume(
    stem: string,
    volume: ChannelVolume,
    geometry: ImageGeometry,
    options: Parameters<typeof writeNifti>[2],
  ): Promise<string> {
    const image = restoreToOriginal(volume, geometry, { order: this.#options.outputInterpOrder ?? 0 });
    const path = joinPath(this.#dir, `${stem}.nii.gz`);
    await writeNifti(path, image, options);
    return path;
  }
}

/** Writes per-subject classification (or any vector) outputs as `subject_id,v0,v1,…` rows, atomically. */
export async function writeClassificationCsv(
  path: string,
  rows: ReadonlyMap<SubjectId, ArrayLike<number>> | Iterable<readonly [SubjectId, ArrayLike<number>]>,
): Promise<void> {
  const lines = [...rows].map(([id, v]) => `${id},${Array.from(v).join(",")}\n`);
  await writeTextAtomic(path, lines.join(""));
}

/** Collects one output vector per subject from window outputs (mean over windows), for classification. */
export class ClassificationAggregator {
  readonly #sums = new Map<SubjectId, { sum: Float64Array; n: number }>();

  /** Adds one window's output vector for a subject. */
  add(subject: SubjectId, output: ArrayLike<number>): void {
    let e = this.#sums.get(subject);
    if (!e) this.#sums.set(subject, e = { sum: new Float64Array(output.length), n: 0 });
    if (e.sum.length !== output.length) {
      throw new Error(`subject "${subject}": output of length ${output.length}, earlier ones had ${e.sum.length}`);
    }
    for (let i = 0; i < output.length; i++) e.sum[i] += output[i];
    e.n++;
  }

  /** Mean output per subject, in insertion order. */
  result(): Map<SubjectId, Float64Array> {
    return new Map([...this.#sums].map(([id, e]) => [id, e.sum.map((v) => v / e.n)]));
  }

  /** Writes {@link result} to `<dir>/inferred.csv`; returns the path. */
  async write(dir: string): Promise<string> {
    await Deno.mkdir(dir, { recursive: true });
    const path = joinPath(dir, "inferred.csv");
    await writeClassificationCsv(path, this.result());
    return path;
  }
}
