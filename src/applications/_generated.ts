/**
 * Generating images that have no source subject (GAN samples, autoencoder samples and interpolations): batches of
 * named items each carrying one vector (noise, latent code), padded to the batch size; each output goes to
 * `<save_seg_dir>/<name><output_postfix>.nii.gz` with the affine of the first training image (its voxel size and
 * origin; identity when there is none), and is listed in `inferred.csv`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import {
  type ChannelVolume,
  fromBatchData,
  type ImageGeometry,
  InferenceWriter,
  type SubjectRecord,
  type Window,
} from "../data/mod.ts";
import { epochSource } from "../data/batch_source.ts";
import type { BatchSource, HostOutputs } from "../engine/application.ts";
import type { Affine } from "../geometry/image.ts";
import { readImage } from "../io/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/** Keys {@link GeneratedWriter} acts on. */
export const GENERATED_OUTPUT_HONOURED_KEYS: HonouredKeys = { INFERENCE: ["save_seg_dir", "output_postfix"] };

/** A geometry for a generated volume of `shape`, borrowing the affine of `reference` (a file) when given. */
export async function generatedGeometry(shape: readonly number[], reference?: string): Promise<ImageGeometry> {
  let affine: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  if (reference) affine = (await readImage(reference)).affine;
  const s: [number, number, number] = [shape[0], shape[1] ?? 1, shape[2] ?? 1];
  const pixdim = [0, 1, 2].map((c) => Math.hypot(affine[0][c], affine[1][c], affine[2][c])) as [number, number, number];
  return {
    original: { shape: [...s, 1, 1], ndim: 3, affine, pixdim, datatype: "float32", affineSource: "sform" },
    affine,
    shape: s,
  };
}

/** Writes named generated volumes through an {@link InferenceWriter}. */
export class GeneratedWriter {
  readonly #writer: InferenceWriter;
  readonly #reference?: string;
  #geometry?: Promise<ImageGeometry>;

  constructor(config: NiftyConfig, subjects: readonly SubjectRecord[], imageSection?: string) {
    this.#writer = new InferenceWriter({
      saveSegDir: config.inference.save_seg_dir,
      outputPostfix: config.inference.output_postfix,
    });
    this.#reference = imageSection ? subjects[0]?.files[imageSection] : undefined;
  }

  /** Writes one volume under `name`; returns the path. */
  async write(name: string, volume: ChannelVolume): Promise<string> {
    this.#geometry ??= generatedGeometry(volume.shape, this.#reference);
    return await this.#writer.write(name, volume, await this.#geometry);
  }

  /** Writes image i of a batch output under window i's name, for every window that is not padding. */
  async writeBatch(windows: readonly Window[], output: HostOutputs[string]): Promise<void> {
    const volumes = fromBatchData(output.data, output.shape);
    for (let i = 0; i < windows.length; i++) {
      if (!windows[i].padding) await this.write(windows[i].subject, volumes[i]);
    }
  }
}

/** A stand-in window naming a generated output (batches of generated items carry no image window). */
export function namedWindow(name: string, padding = false): Window {
  return { subject: name, location: {}, data: {}, padding };
}

/** A vector (noise, latent code) as a one-channel `[n, 1, 1]` volume, to ride in a window's data. */
export function vectorVolume(vector: Float32Array): ChannelVolume {
  return { data: vector, shape: [vector.length, 1, 1], channels: 1 };
}

/** The `[windows, size]` tensor of the vectors that `role` holds in each window. */
export function vectorTensor(windows: readonly Window[], { role, size }: { role: string; size: number }): tf.Tensor2D {
  const data = new Float32Array(windows.length * size);
  windows.forEach((w, i) => data.set(w.data[role].data, i * size));
  return tf.tensor2d(data, [windows.length, size]);
}

/** Options of {@link generatedBatches}. */
export interface GeneratedBatchesOptions {
  readonly seed: number;
  readonly batchSize: number;
  /** The batch's tensors from its windows (padded to the batch size). */
  readonly toTensors: (windows: readonly Window[]) => Record<string, tf.Tensor>;
}

/**
 * One ordered pass over generated items in batches of `batchSize`; a short final batch is padded with copies of
 * its first item marked as padding (not written).
 */
export function generatedBatches(items: () => Window[], options: GeneratedBatchesOptions): BatchSource {
  const { seed, batchSize, toTensors } = options;
  return epochSource<Window>({
    seed,
    batchSize,
    epochs: 1,
    makeEpoch: items,
    toBatch: (windows) => {
      const padded = [...windows];
      while (padded.length < batchSize) padded.push({ ...padded[0], padding: true });
      return { windows: padded, tensors: toTensors(padded) };
    },
  });
}
