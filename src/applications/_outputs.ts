/**
 * Inference outputs of window-based applications: window outputs are aggregated per subject (NiftyNet's grid
 * aggregator, `border` cropped, or `window_blending` constant/gaussian over the same regions), and once a subject's
 * last window arrives its volume goes back through the preprocessing inverses and the loader's geometry onto the
 * input file's own grid and affine, then to disk, with its uncertainty maps beside it.
 * Also the evaluation CSV writer shared by the applications.
 *
 * @module
 */
import { join } from "node:path";
import {
  BlendAggregator,
  type BlendMode,
  type ChannelVolume,
  type ClassificationAggregator,
  denormaliseLabels,
  fromBatchData,
  GridAggregator,
  type GridSamplerOptions,
  gridStarts,
  InferenceWriter,
  type InferenceWriterOptions,
  resizeAggregate,
  type SubjectId,
  undoPreprocessing,
  type Window,
} from "../data/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import type { InterpOrder } from "../geometry/resample.ts";
import { type EvaluationRow, formatCsv, summarizeRows } from "../evaluation/mod.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import type { SubjectInfo } from "./_windows.ts";
import type { HostOutputs } from "../engine/application.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/**
 * Keys acted on by {@link VolumeOutputs} (the caller passes them in its options; `output_interp_order` only when
 * it passes `outputInterpOrder` to the writer, so it is not in this list).
 */
export const VOLUME_OUTPUT_HONOURED_KEYS: HonouredKeys = {
  INFERENCE: ["border", "fill_constant", "save_seg_dir", "output_postfix"],
};

/** The key {@link writeEvaluation} acts on. */
export const EVALUATION_CSV_HONOURED_KEYS: HonouredKeys = { EVALUATION: ["save_csv_dir"] };

/** Options of {@link VolumeOutputs}. */
export interface VolumeOutputsOptions {
  /** The grid sampler's settings (to know how many windows each subject has). */
  readonly grid: GridSamplerOptions;
  /** INI `border` and `fill_constant`. */
  readonly border: readonly number[];
  readonly fillConstant: number;
  /** Where outputs go (`save_seg_dir`, `output_postfix`, `output_interp_order`, datatype). */
  readonly writer: InferenceWriterOptions;
  /** The role whose geometry the output takes (default `image`). */
  readonly role?: string;
  /** Turns the aggregated network output (padding removed) into what is written (argmax, label mapping …). */
  readonly finish: (volume: ChannelVolume, info: SubjectInfo) => ChannelVolume;
  /** Undo the label normalisation on the finished volume (segmentation labels). */
  readonly labels?: boolean;
  /** Called after each subject's output is written (per-subject time and memory lines). */
  readonly onWritten?: (id: SubjectId, path: string) => void;
  /**
   * NiftyNet's resize aggregator instead of the grid one (`window_sampling = resize`): each subject's one output is
   * edge-padded by `border` and resized to the padded volume with `order` (`output_interp_order`).
   */
  readonly resize?: { readonly order: InterpOrder };
  /** `[INFERENCE] window_blending`: `none` (default: the grid aggregator, later windows overwrite) or a blend mode. */
  readonly blending?: "none" | BlendMode;
  /**
   * Names of further per-window maps handed to {@link VolumeOutputs.add} (uncertainty maps): aggregated like the
   * output, restored onto the original grid and written as `<subject><output_postfix>_<name>.nii.gz` (float32).
   */
  readonly extras?: readonly string[];
  /** Applied to the finished volume once its label values are restored (segmentation post-processing). */
  readonly postprocess?: (volume: ChannelVolume) => ChannelVolume;
}

/** A per-subject aggregator: NiftyNet's grid one or a blending one (same regions). */
type Aggregator = GridAggregator | BlendAggregator;

/** One batch of host outputs: channels-last data, batch first. */
type BatchData = { readonly data: Float32Array; readonly shape: readonly number[] };

/**
 * Adds row i of a `[batch, k]` inference output to `aggregator` under window i's subject, for every window that is
 * not padding (per-subject classes, codes).
 */
export function addWindowRows(
  aggregator: ClassificationAggregator,
  { windows, output }: { windows: readonly Window[]; output: HostOutputs[string] },
): void {
  const k = output.shape[1];
  windows.forEach((w, i) => {
    if (!w.padding) aggregator.add(w.subject, output.data.subarray(i * k, (i + 1) * k));
  });
}

/** Per-subject aggregation and writing of window outputs. */
export class VolumeOutputs {
  readonly #options: VolumeOutputsOptions;
  readonly #writer: InferenceWriter;
  readonly #subjects = new Map<SubjectId, SubjectInfo>();
  readonly #open = new Map<
    SubjectId,
    { aggregators: Map<string, Aggregator>; seen: number; expected: number }
  >();
  /** Files written, by subject. */
  readonly written = new Map<SubjectId, string>();

  constructor(options: VolumeOutputsOptions) {
    this.#options = options;
    this.#writer = new InferenceWriter(options.writer);
  }

  /** Records a subject's preprocessing (called by the batch source before its windows are cut). */
  subject(id: SubjectId, info: SubjectInfo): void {
    this.#subjects.set(id, info);
  }

  /**
   * Adds one batch of outputs (`data`/`shape` channels-last, batch first) and of the `extras` maps named in the
   * options; writes subjects that are complete.
   */
  async add(
    windows: readonly Window[],
    output: BatchData,
    extras: Readonly<Record<string, BatchData>> = {},
  ): Promise<void> {
    const names = this.#options.extras ?? [];
    for (const name of names) {
      if (!extras[name]) throw new Error(`inference: the network gave no "${name}" map`);
    }
    const volumes = new Map([["", fromBatchData(output.data, output.shape)]]);
    for (const name of names) volumes.set(name, fromBatchData(extras[name].data, extras[name].shape));
    const role = this.#options.role ?? "image";
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      if (w.padding) continue;
      const info = this.#subjects.get(w.subject);
      if (!info) throw new Error(`inference: no preprocessing record for subject "${w.subject}"`);
      const shape = info.shape as [number, number, number];
      if (this.#options.resize) {
        const { order } = this.#options.resize;
        const border = this.#options.border;
        const resized = new Map(
          [...volumes].map(([name, v]) => [name, resizeAggregate(v[i], shape, { order, border })]),
        );
        await this.#write(w.subject, resized, info);
        continue;
      }
      let entry = this.#open.get(w.subject);
      if (!entry) {
        const aggregators = new Map<string, Aggregator>();
        for (const [name, v] of volumes) aggregators.set(name, this.#aggregator(shape, v[i].channels));
        entry = { aggregators, seen: 0, expected: gridStarts(shape, this.#options.grid).length };
        this.#open.set(w.subject, entry);
      }
      for (const [name, v] of volumes) entry.aggregators.get(name)!.addBatch([v[i]], [w], role);
      if (++entry.seen === entry.expected) await this.#write(w.subject, results(entry.aggregators), info);
    }
  }

  #aggregator(shape: [number, number, number], channels: number): Aggregator {
    const { blending = "none", border, fillConstant } = this.#options;
    return blending === "none"
      ? new GridAggregator({ shape, channels, border, fillConstant })
      : new BlendAggregator({ shape, channels, border, fillConstant, mode: blending });
  }

  /** Writes subjects whose windows did not all arrive (none, when the grid count is right). */
  async flush(): Promise<void> {
    for (const [id, entry] of [...this.#open]) {
      await this.#write(id, results(entry.aggregators), this.#subjects.get(id)!);
    }
  }

  async #write(id: SubjectId, volumes: ReadonlyMap<string, ChannelVolume>, info: SubjectInfo): Promise<void> {
    this.#open.delete(id);
    const unpadded = undoPreprocessing(volumes.get("")!, info.record);
    const finished = this.#options.finish(unpadded, info);
    const mapping = this.#options.labels ? info.record.labelMapping : undefined;
    const restored = mapping ? { ...finished, data: denormaliseLabels(finished.data, mapping) } : finished;
    const processed = this.#options.postprocess ? this.#options.postprocess(restored) : restored;
    const geometry = info.geometry[this.#options.role ?? "image"];
    const path = await this.#writer.write(id, processed, geometry);
    for (const [name, volume] of volumes) {
      if (name) await this.#writer.writeExtra(id, name, undoPreprocessing(volume, info.record), geometry);
    }
    this.written.set(id, path);
    this.#options.onWritten?.(id, path);
  }

  /** Writes the output list as it stands (before any subject: a shard's kept outputs). */
  async writeList(): Promise<void> {
    await this.#writer.writeList();
  }
}

function results(aggregators: ReadonlyMap<string, Aggregator>): Map<string, ChannelVolume> {
  return new Map([...aggregators].map(([name, a]) => [name, a.result()]));
}

/** Index of the largest channel per voxel (the class map), as a one-channel volume. */
export function argmaxChannels(volume: ChannelVolume): ChannelVolume {
  const n = volume.data.length / volume.channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0, value = volume.data[i];
    for (let c = 1; c < volume.channels; c++) {
      const v = volume.data[c * n + i];
      if (v > value) [best, value] = [c, v];
    }
    out[i] = best;
  }
  return { data: out, shape: volume.shape, channels: 1 };
}

/** Softmax over channels per voxel. */
export function softmaxChannels(volume: ChannelVolume): ChannelVolume {
  const C = volume.channels, n = volume.data.length / C;
  const out = new Float32Array(volume.data.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, volume.data[c * n + i]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += out[c * n + i] = Math.exp(volume.data[c * n + i] - max);
    for (let c = 0; c < C; c++) out[c * n + i] /= sum;
  }
  return { data: out, shape: volume.shape, channels: C };
}

/** Writes evaluation rows to `<save_csv_dir>/<name>.csv` and the mean/stdev summary beside; returns both paths. */
export async function writeEvaluation(
  config: NiftyConfig,
  rows: readonly EvaluationRow[],
  options: { name?: string; evaluations: readonly string[] },
): Promise<{ csv: string; summary: string }> {
  const dir = config.evaluation.save_csv_dir;
  await Deno.mkdir(dir, { recursive: true });
  const csv = join(dir, `${options.name ?? "evaluation"}.csv`);
  const summary = join(dir, `${options.name ?? "evaluation"}_summary.csv`);
  await writeFileAtomic(csv, formatCsv(rows, { evaluations: options.evaluations }));
  await writeFileAtomic(summary, formatCsv(summarizeRows(rows), { evaluations: options.evaluations }));
  return { csv, summary };
}
